#include "aggregator/work_pool.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

namespace ohfed::aggregator {

WorkPool::WorkPool(std::string name, int threads, int nice)
    : name_(std::move(name)) {
  for (int i = 0; i < std::max(threads, 1); ++i) {
    threads_.emplace_back([this, nice] { Run(nice); });
  }
}

WorkPool::~WorkPool() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

void WorkPool::Post(std::function<void()> task) {
  absl::MutexLock l(&mu_);
  tasks_.push_back(std::move(task));
}

void WorkPool::WaitIdle() {
  absl::MutexLock l(&mu_);
  auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return tasks_.empty() && running_ == 0;
  };
  mu_.Await(absl::Condition(&idle));
}

void WorkPool::Run(int nice) {
  pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
  if (nice > 0) {
    // Best effort: without it the pool only loses its lower priority.
    // Relative to the priority it started with, as nice(1) is.
    const id_t tid = static_cast<id_t>(syscall(SYS_gettid));
    setpriority(PRIO_PROCESS, tid,
                std::min(getpriority(PRIO_PROCESS, tid) + nice, 19));
  }
  absl::MutexLock l(&mu_);
  auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return stop_ || !tasks_.empty();
  };
  while (true) {
    mu_.Await(absl::Condition(&ready));
    if (tasks_.empty()) return;  // stopping, nothing left to run
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    ++running_;
    mu_.Unlock();
    task();
    task = nullptr;  // what it captured goes before the pool counts it done
    mu_.Lock();
    --running_;
  }
}

}  // namespace ohfed::aggregator
