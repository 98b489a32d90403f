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
//
// Then, with 207 x 60 trust-months held (42 MiB serialized), 109 MiB stayed
// resident (2.6x): besides the index (~62 MiB in use, units and rollups),
// 21 MiB were pages of the shared libraries touched by the load (TLS,
// gRPC, RocksDB; clean, read again from the page cache if used), 6-32 MiB
// the RocksDB memtable holding the last writes (up to the write buffer,
// also on disk in the WAL), and 7 MiB the commit's kept WriteBatch buffer.
// None is needed while nothing arrives, so once the aggregator has been
// quiet for a while the keeper runs `on_quiet` once (the aggregator flushes
// the memtable, drops the kept batch and trims: common/memory_trim.h).
//
// The aggregator now links tcmalloc (issue 14: less CPU a summary, fewer
// page faults); the keeper then watches tcmalloc's free pages and releases
// them the same way.
#ifndef OHFED_AGGREGATOR_HEAP_KEEPER_H_
#define OHFED_AGGREGATOR_HEAP_KEEPER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace ohfed::aggregator {

struct HeapKeeperOptions {
  // Trim when the heap holds more than this many free bytes: below, the
  // trim is not worth its pass over the arenas, and malloc reuses them.
  size_t max_free_bytes = 8 << 20;
  // The same while the process is busy (`activity` moved since the last
  // check): under ingest the store frees a memtable's arena at each flush
  // and the next memtable takes it again within a second, so that memory
  // handed back is only faulted in again, page by page. Measured at 10
  // ingest streams (docs/performance.md, "Heap kept while busy, eighteenth
  // round"): released every second, 13.7 K page faults in 3 s, ~5% of the
  // aggregator's CPU. What stays free goes back once quiet (`on_quiet`).
  size_t busy_max_free_bytes = 8 << 20;
  absl::Duration interval = absl::Seconds(1);
  // A count that moves whenever the process works (the store's commits);
  // nullptr: never quiet.
  std::function<uint64_t()> activity;
  // Runs once when `activity` has not moved for `quiet_after` since it last
  // moved, from the keeper's thread; then not again until it moves. Not run
  // before the first move after construction (start-up trims by itself).
  std::function<void()> on_quiet;
  absl::Duration quiet_after = absl::Seconds(5);
  Clock* clock = nullptr;  // nullptr: Clock::Real()
};

class HeapKeeper {
 public:
  // Reads `activity` once, then starts the thread that calls Check() every
  // `interval`.
  explicit HeapKeeper(HeapKeeperOptions options = {});
  // Stops and joins it.
  ~HeapKeeper();
  HeapKeeper(const HeapKeeper&) = delete;
  HeapKeeper& operator=(const HeapKeeper&) = delete;

  // Returns free heap to the system if more than `max_free_bytes` is free
  // (common/memory_trim.h: FreeHeapBytes, ReleaseFreeHeap, for glibc's
  // malloc or tcmalloc); true if it trimmed. Thread-safe; the check takes well
  // under a millisecond, a trim a few.
  static bool TrimIfAbove(size_t max_free_bytes);

  // One round of the thread's work: TrimIfAbove (`busy_max_free_bytes` if
  // `activity` moved since the last round, else `max_free_bytes`), then
  // `on_quiet` if it is due. Returns whether `on_quiet` ran. Public for tests,
  // which call it with a FakeClock and an `interval` the thread never reaches.
  bool Check();

 private:
  void Run();

  const HeapKeeperOptions options_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // The quiet watch (Check): the last activity seen and since when.
  absl::Mutex check_mu_;
  uint64_t last_activity_ ABSL_GUARDED_BY(check_mu_) = 0;
  bool seen_activity_ ABSL_GUARDED_BY(check_mu_) = false;
  absl::Time moved_at_ ABSL_GUARDED_BY(check_mu_);
  bool quiet_done_ ABSL_GUARDED_BY(check_mu_) = true;
  std::thread thread_;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_HEAP_KEEPER_H_
