#include "aggregator/heap_keeper.h"

#include <utility>

#include "common/memory_trim.h"

namespace ohfed::aggregator {

HeapKeeper::HeapKeeper(HeapKeeperOptions options)
    : options_(std::move(options)) {
  Check();  // the first reading of activity: quiet from now
  thread_ = std::thread([this] { Run(); });
}

HeapKeeper::~HeapKeeper() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
  }
  thread_.join();
}

bool HeapKeeper::TrimIfAbove(size_t max_free_bytes) {
  if (FreeHeapBytes() <= max_free_bytes) return false;
  ReleaseFreeHeap();
  return true;
}

bool HeapKeeper::Check() {
  if (!options_.activity) {
    TrimIfAbove(options_.max_free_bytes);
    return false;
  }
  const Clock* clock =
      options_.clock != nullptr ? options_.clock : Clock::Real();
  // Under the lock: a test's Check() may run alongside the thread's.
  absl::MutexLock l(&check_mu_);
  const uint64_t activity = options_.activity();
  const absl::Time now = clock->Now();
  const bool moved = !seen_activity_ || activity != last_activity_;
  TrimIfAbove(moved && seen_activity_ ? options_.busy_max_free_bytes
                                      : options_.max_free_bytes);
  if (moved) {
    // The first reading only sets the mark: start-up has trimmed.
    if (seen_activity_) quiet_done_ = false;
    seen_activity_ = true;
    last_activity_ = activity;
    moved_at_ = now;
    return false;
  }
  if (!options_.on_quiet || quiet_done_ ||
      now - moved_at_ < options_.quiet_after) {
    return false;
  }
  quiet_done_ = true;
  options_.on_quiet();
  return true;
}

void HeapKeeper::Run() {
  absl::MutexLock l(&mu_);
  while (!stop_) {
    // Wakes early only to stop.
    mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.interval);
    if (stop_) break;
    mu_.Unlock();
    Check();
    mu_.Lock();
  }
}

}  // namespace ohfed::aggregator
