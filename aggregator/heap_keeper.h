// Keeps the aggregator's resident memory near what it holds (issue 14,
// figure 6).
//
// Measured with heaptrack and malloc_stats on an aggregator that had just
// ingested 207 trusts x 60 months over TLS: 584 MiB resident, of which the
// heap in use was 137 MiB; the rest was memory freed by the ingest path
// (request protobufs, rollup blocks replaced by copy-on-write, RocksDB
// memtables flushed) but kept by glibc in 16 malloc arenas (8 per core), in
// the middle of each arena where no automatic trim reaches. Two things fix
// it: fewer arenas (common/memory_trim.h's LimitMallocArenas, before any
// thread starts), and a thread that returns free heap to the system
// (malloc_trim) whenever more than a threshold of it has accumulated.
#ifndef OHFED_AGGREGATOR_HEAP_KEEPER_H_
#define OHFED_AGGREGATOR_HEAP_KEEPER_H_

#include <cstddef>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ohfed::aggregator {

struct HeapKeeperOptions {
  // Trim when the heap holds more than this many free bytes: below, the
  // trim is not worth its pass over the arenas, and malloc reuses them.
  size_t max_free_bytes = 8 << 20;
  absl::Duration interval = absl::Seconds(1);
};

class HeapKeeper {
 public:
  // Starts the thread that checks every `interval`.
  explicit HeapKeeper(HeapKeeperOptions options = {});
  // Stops and joins it.
  ~HeapKeeper();
  HeapKeeper(const HeapKeeper&) = delete;
  HeapKeeper& operator=(const HeapKeeper&) = delete;

  // Bytes malloc holds free in all arenas (mallinfo2's fordblks + fsmblks).
  static size_t FreeHeapBytes();
  // Returns free heap to the system if more than `max_free_bytes` is free;
  // true if it trimmed. Thread-safe; the check takes well under a
  // millisecond, a trim a few.
  static bool TrimIfAbove(size_t max_free_bytes);

 private:
  void Run();

  const HeapKeeperOptions options_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_HEAP_KEEPER_H_
