#include "aggregator/heap_keeper.h"

#include <malloc.h>

namespace ohfed::aggregator {

HeapKeeper::HeapKeeper(HeapKeeperOptions options)
    : options_(options), thread_([this] { Run(); }) {}

HeapKeeper::~HeapKeeper() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
  }
  thread_.join();
}

size_t HeapKeeper::FreeHeapBytes() {
  struct mallinfo2 m = mallinfo2();
  return m.fordblks + m.fsmblks;
}

bool HeapKeeper::TrimIfAbove(size_t max_free_bytes) {
  if (FreeHeapBytes() <= max_free_bytes) return false;
  malloc_trim(0);
  return true;
}

void HeapKeeper::Run() {
  absl::MutexLock l(&mu_);
  while (!stop_) {
    // Wakes early only to stop.
    mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.interval);
    if (stop_) break;
    mu_.Unlock();
    TrimIfAbove(options_.max_free_bytes);
    mu_.Lock();
  }
}

}  // namespace ohfed::aggregator
