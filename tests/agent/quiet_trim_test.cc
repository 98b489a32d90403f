// QuietTrim trims once the delay passes after the last Poke, and leaves no
// thread behind.
#include "agent/quiet_trim.h"

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace ohfed::agent {
namespace {

class Counter {
 public:
  std::function<void()> Fn() {
    return [this] {
      absl::MutexLock l(&mu_);
      ++n_;
    };
  }
  // Waits (up to a minute, far beyond any delay here) for `n` calls.
  bool AwaitAtLeast(int n) {
    absl::MutexLock l(&mu_);
    auto reached = [this, n]() { return n_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(60));
  }
  int n() {
    absl::MutexLock l(&mu_);
    return n_;
  }

 private:
  absl::Mutex mu_;
  int n_ = 0;
};

TEST(QuietTrimTest, TrimsOnceAfterAPoke) {
  Counter trims;
  QuietTrim q(absl::ZeroDuration(), trims.Fn());
  EXPECT_EQ(trims.n(), 0);  // nothing without a poke
  q.Poke();
  EXPECT_TRUE(trims.AwaitAtLeast(1));
  // A later poke starts another trim (the first thread has ended).
  q.Poke();
  EXPECT_TRUE(trims.AwaitAtLeast(2));
}

TEST(QuietTrimTest, TrimNotYetDueIsSkippedAtDestruction) {
  Counter trims;
  {
    QuietTrim q(absl::Hours(1), trims.Fn());
    q.Poke();
  }  // does not wait the hour
  EXPECT_EQ(trims.n(), 0);
}

}  // namespace
}  // namespace ohfed::agent
