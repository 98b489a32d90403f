// The daemons' clock from the environment (OHFED_TEST_NOW, test only): the
// real clock when unset, else one that starts at the given instant and runs
// at real speed; a value that is not a time is refused naming the variable.
#include "common/clock.h"

#include <cstdlib>
#include <optional>
#include <string>

#include "absl/base/config.h"
#include "absl/cleanup/cleanup.h"
#include "tests/testing/testing.h"

#ifdef ABSL_HAVE_ADDRESS_SANITIZER
#include <sanitizer/lsan_interface.h>
#define OHFED_HAVE_LSAN 1
#else
#define OHFED_HAVE_LSAN 0
#endif

namespace ohfed {
namespace {

using ::ohfed::testing::StatusIs;

absl::Time At(const char* text) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text, &t, &error)) << error;
  return t;
}

class ClockFromEnvironmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = std::getenv(kTestNowVariable);
    if (old != nullptr) saved_ = old;
    unsetenv(kTestNowVariable);
  }
  void TearDown() override {
    if (saved_.has_value()) {
      setenv(kTestNowVariable, saved_->c_str(), 1);
    } else {
      unsetenv(kTestNowVariable);
    }
  }

 private:
  std::optional<std::string> saved_;
};

TEST_F(ClockFromEnvironmentTest, UnsetIsTheRealClock) {
  absl::StatusOr<Clock*> clock = ClockFromEnvironment();
  OHFED_ASSERT_OK(clock);
  EXPECT_EQ(*clock, Clock::Real());
  EXPECT_EQ(TestClockWarning(**clock), "");
}

TEST_F(ClockFromEnvironmentTest, SetStartsThereAndRuns) {
  setenv(kTestNowVariable, "2031-01-02T03:04:05Z", 1);
  absl::StatusOr<Clock*> clock = ClockFromEnvironment();
  OHFED_ASSERT_OK(clock);
  const absl::Time start = At("2031-01-02T03:04:05Z");
  const absl::Time first = (*clock)->Now();
  EXPECT_GE(first, start);
  EXPECT_LT(first, start + absl::Minutes(10));
  EXPECT_GE((*clock)->Now(), first);  // never goes back
  // A gRPC deadline on the system clock lands at the same distance on it.
  const absl::Time real_deadline = absl::Now() + absl::Hours(1);
  const absl::Duration ahead =
      (*clock)->FromSystemTime(real_deadline) - (*clock)->Now();
  EXPECT_GT(ahead, absl::Minutes(50));
  EXPECT_LE(ahead, absl::Hours(1));
  EXPECT_THAT(
      TestClockWarning(**clock),
      ::testing::HasSubstr("WARNING: OHFED_TEST_NOW=2031-01-02T03:04:05Z "
                           "is set"));
}

// The clock outlives every pointer to it without being a leak: under ASan
// (tests/sanitize.sh asan) LeakSanitizer reported it at every daemon's exit.
TEST_F(ClockFromEnvironmentTest, ClockIsNotALeakOnceDropped) {
  setenv(kTestNowVariable, "2031-01-02T03:04:05Z", 1);
  {
    absl::StatusOr<Clock*> clock = ClockFromEnvironment();
    OHFED_ASSERT_OK(clock);
  }
#if OHFED_HAVE_LSAN
  EXPECT_EQ(__lsan_do_recoverable_leak_check(), 0)
      << "LeakSanitizer reported a leak (above)";
#else
  GTEST_SKIP() << "needs LeakSanitizer: bash tests/sanitize.sh asan";
#endif
}

TEST_F(ClockFromEnvironmentTest, NotATimeIsRefusedNamingTheVariable) {
  setenv(kTestNowVariable, "2026-11-26", 1);
  EXPECT_THAT(ClockFromEnvironment(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "OHFED_TEST_NOW is not a time like "
                       "2026-11-26T00:00:00Z: '2026-11-26'"));
}

TEST(ClockTest, RealAndFakeClocksTakeSystemTimesAsTheyAre) {
  const absl::Time t = At("2026-11-26T12:00:00Z");
  EXPECT_EQ(Clock::Real()->FromSystemTime(t), t);
  FakeClock fake(t + absl::Hours(24));
  EXPECT_EQ(fake.FromSystemTime(t), t);
}

}  // namespace
}  // namespace ohfed
