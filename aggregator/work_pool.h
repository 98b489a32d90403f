// A fixed set of threads running posted tasks in order of posting. The RPC
// layer runs its blocking work here (commits, queries) rather than on gRPC's
// callback threads, so that the number of threads does not grow with the
// number of open calls.
//
// `nice` lowers the OS priority of the pool's threads only (Linux schedules
// threads individually; setpriority on the thread id): a pool of heavy
// queries then yields the CPU to light queries and commits. An unprivileged
// process cannot raise a thread's priority back, which is why a lane of work
// has its own threads rather than adjusting them per task.
//
// Thread-safe. The destructor runs every task already posted, then joins.
#ifndef OHFED_AGGREGATOR_WORK_POOL_H_
#define OHFED_AGGREGATOR_WORK_POOL_H_

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace ohfed::aggregator {

class WorkPool {
 public:
  // `threads` >= 1 named `name` (at most 15 characters show in /proc);
  // `nice` 0 keeps the process's priority, 1..19 lowers it by that much
  // (to 19 at most).
  WorkPool(std::string name, int threads, int nice = 0);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Runs `task` on one of the pool's threads once those posted before it
  // have started.
  void Post(std::function<void()> task);

  // Blocks until no task is queued or running.
  void WaitIdle();

  int size() const { return static_cast<int>(threads_.size()); }

 private:
  void Run(int nice);

  const std::string name_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_WORK_POOL_H_
