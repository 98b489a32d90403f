// Gives memory back once the agent has been quiet for a while after an
// import (issue 14: RSS after an import back to idle).
//
// An import that trimmed (common/memory_trim.h) before it answered still
// left RSS at 1.37x of idle 2 s after a 100,000 event import: the answer,
// the `ohfed show` that usually follows and RocksDB's own work after the
// ingestion touch library pages and heap again. One trim a second after
// the last import brought it to 0.97x. Poke() arms that trim.
//
// The thread exists only while a trim is due (no idle thread); it is joined
// by the next Poke() that starts one, or by the destructor, which skips a
// trim not yet due. Thread-safe.
#ifndef OHFED_AGENT_QUIET_TRIM_H_
#define OHFED_AGENT_QUIET_TRIM_H_

#include <cstdint>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ohfed::agent {

class QuietTrim {
 public:
  static constexpr absl::Duration kDefaultDelay = absl::Seconds(1);

  // `trim` defaults to TrimMemory.
  explicit QuietTrim(absl::Duration delay = kDefaultDelay,
                     std::function<void()> trim = nullptr);
  ~QuietTrim();
  QuietTrim(const QuietTrim&) = delete;
  QuietTrim& operator=(const QuietTrim&) = delete;

  // Trims once `delay` has passed without another Poke().
  void Poke();

 private:
  void Run();

  const absl::Duration delay_;
  const std::function<void()> trim_;
  absl::Mutex mu_;
  absl::Time due_ ABSL_GUARDED_BY(mu_);
  uint64_t pokes_ ABSL_GUARDED_BY(mu_) = 0;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_QUIET_TRIM_H_
