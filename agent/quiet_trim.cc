#include "agent/quiet_trim.h"

#include <utility>

#include "common/memory_trim.h"

namespace ohfed::agent {

QuietTrim::QuietTrim(absl::Duration delay, std::function<void()> trim)
    : delay_(delay), trim_(trim ? std::move(trim) : [] { TrimMemory(); }) {}

QuietTrim::~QuietTrim() {
  std::thread t;
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
    t = std::move(thread_);
  }
  if (t.joinable()) t.join();
}

void QuietTrim::Poke() {
  absl::MutexLock l(&mu_);
  due_ = absl::Now() + delay_;
  ++pokes_;
  if (running_ || stopping_) return;  // the running thread sees the new due
  // A finished thread has released mu_ for good: joining it cannot wait
  // on us.
  if (thread_.joinable()) thread_.join();
  running_ = true;
  thread_ = std::thread([this] { Run(); });
}

void QuietTrim::Run() {
  absl::MutexLock l(&mu_);
  while (!stopping_) {
    const absl::Time due = due_;
    if (absl::Now() >= due) {
      const uint64_t pokes = pokes_;
      mu_.Unlock();
      trim_();
      mu_.Lock();
      if (pokes_ == pokes) break;  // no Poke() meanwhile
      continue;
    }
    mu_.AwaitWithDeadline(absl::Condition(&stopping_), due);
  }
  running_ = false;
}

}  // namespace ohfed::agent
