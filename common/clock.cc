#include "common/clock.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/const_init.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace ohfed {
namespace {

class RealClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// The real clock shifted by a fixed offset (OHFED_TEST_NOW).
class OffsetClock : public Clock {
 public:
  explicit OffsetClock(absl::Duration offset) : offset_(offset) {}
  absl::Time Now() const override { return absl::Now() + offset_; }
  absl::Time FromSystemTime(absl::Time system_time) const override {
    return system_time + offset_;
  }

 private:
  const absl::Duration offset_;
};

}  // namespace

Clock* Clock::Real() {
  static RealClock* const kClock = new RealClock();
  return kClock;
}

absl::StatusOr<Clock*> ClockFromEnvironment() {
  const char* value = std::getenv(kTestNowVariable);
  if (value == nullptr || *value == '\0') return Clock::Real();
  const std::string text(value, strnlen(value, 64));
  absl::Time start;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &start, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat(kTestNowVariable, " is not a time like ",
                     "2026-11-26T00:00:00Z: '", text, "'"));
  }
  // Kept for the process's life like Real(), since components keep the
  // pointer; held from a static (not merely dropped) so that it stays
  // reachable and LeakSanitizer does not report it at exit.
  static absl::Mutex mu(absl::kConstInit);
  static auto* const kept = new std::vector<std::unique_ptr<Clock>>();
  absl::MutexLock lock(&mu);
  kept->push_back(std::make_unique<OffsetClock>(start - absl::Now()));
  return kept->back().get();
}

std::string TestClockWarning(const Clock& clock) {
  if (&clock == Clock::Real()) return "";
  const char* value = std::getenv(kTestNowVariable);
  return absl::StrCat(
      "WARNING: ", kTestNowVariable, "=",
      value ? std::string(value, strnlen(value, 64)) : "",
      " is set: this process's clock started there, not at the real time ",
      "(it is now ",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", clock.Now(), absl::UTCTimeZone()),
      " on it). For tests only: never set it in production.");
}

}  // namespace ohfed
