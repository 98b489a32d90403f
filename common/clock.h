// Time as a seam: production code asks a Clock, tests inject a FakeClock.
#ifndef OHFED_COMMON_CLOCK_H_
#define OHFED_COMMON_CLOCK_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ohfed {

// Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // The instant on this clock when the system clock reads `system_time`
  // (gRPC deadlines are on the system clock). The real clock and FakeClock
  // return it unchanged, so a FakeClock set past a deadline has passed it;
  // the test clock below shifts it by its offset.
  virtual absl::Time FromSystemTime(absl::Time system_time) const {
    return system_time;
  }
  // The process-wide real clock; never destroyed.
  static Clock* Real();
};

// The clock a daemon runs on, read once at start from the environment.
//
// TEST ONLY: with OHFED_TEST_NOW=2026-11-26T00:00:00Z (RFC 3339, UTC) the
// clock starts at that instant and runs at real speed from there, so that
// tests with fixed-date data (months ended, dates not in the future,
// revisions not ahead, receipt times) pass whatever the machine's date is.
// Never set it in production. Without it: Real(). kInvalidArgument naming
// the variable when its value is not a time.
absl::StatusOr<Clock*> ClockFromEnvironment();
inline constexpr char kTestNowVariable[] = "OHFED_TEST_NOW";

// For a clock from ClockFromEnvironment: "" for the real clock, else the loud
// one-line warning the daemons log once they have started (after start-up,
// so that a refused start still fails with one line on stderr).
std::string TestClockWarning(const Clock& clock);

// A clock that moves only when told to. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock l(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock l(&mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    absl::MutexLock l(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ohfed

#endif  // OHFED_COMMON_CLOCK_H_
