// A heavy query pauses at its polls while light queries are queued or
// running (QueryLanes::HeavyPoll), yet is not starved: each pause ends
// after heavy_max_pause, at the query's deadline, or once the light lane is
// idle. No timings are asserted: each step waits for the event it needs.
#include "aggregator/query_lanes.h"

#include <sched.h>

#include <atomic>
#include <memory>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace ohfed::aggregator {
namespace {

class HeavyPollTest : public ::testing::Test {
 protected:
  // Lanes whose heavy queries pause at most `max_pause` at once.
  void Start(absl::Duration max_pause) {
    QueryLaneOptions options;
    options.heavy_max_pause = max_pause;
    options.on_pause = [this] {
      ++pauses_;
      if (!paused_.HasBeenNotified()) paused_.Notify();
    };
    lanes_ = std::make_unique<QueryLanes>(options);
  }
  void TearDown() override {
    if (!release_light_.HasBeenNotified()) release_light_.Notify();
    lanes_->WaitIdle();
  }

  // A light query that runs until release_light_.
  void StartLightQuery() {
    lanes_->Run(QueryLane::kLight, [this] {
      light_started_.Notify();
      release_light_.WaitForNotification();
    });
    light_started_.WaitForNotification();
  }

  std::unique_ptr<QueryLanes> lanes_;
  std::atomic<int> pauses_{0};
  absl::Notification paused_, light_started_, release_light_, heavy_done_;
};

TEST_F(HeavyPollTest, HeavyQueryWaitsForTheLightOneThenCompletes) {
  Start(absl::InfiniteDuration());
  StartLightQuery();
  std::atomic<bool> past_poll{false};
  lanes_->Run(QueryLane::kHeavy, [&] {
    lanes_->HeavyPoll();
    past_poll = true;
    heavy_done_.Notify();
  });
  paused_.WaitForNotification();
  // Mid-way, paused: the light query still runs, and is answered first.
  EXPECT_FALSE(past_poll);
  release_light_.Notify();
  heavy_done_.WaitForNotification();
  EXPECT_TRUE(past_poll);
}

TEST_F(HeavyPollTest, HeavyQueryIsNotStarvedByLightOnesThatNeverEnd) {
  Start(absl::Milliseconds(1));
  StartLightQuery();
  lanes_->Run(QueryLane::kHeavy, [&] {
    for (int i = 0; i < 3; ++i) lanes_->HeavyPoll();
    heavy_done_.Notify();
  });
  heavy_done_.WaitForNotification();  // while the light query still runs
  EXPECT_FALSE(release_light_.HasBeenNotified());
  EXPECT_EQ(pauses_, 3);
}

TEST_F(HeavyPollTest, PauseEndsAtTheQueryDeadline) {
  Start(absl::InfiniteDuration());
  StartLightQuery();
  lanes_->Run(QueryLane::kHeavy, [&] {
    lanes_->HeavyPoll(absl::Now());  // its deadline: now
    heavy_done_.Notify();
  });
  heavy_done_.WaitForNotification();
  EXPECT_FALSE(release_light_.HasBeenNotified());
}

TEST_F(HeavyPollTest, HeavyQueriesRunInTheIdleSchedulingClass) {
  Start(absl::ZeroDuration());
  std::atomic<int> heavy_policy{-1}, light_policy{-1};
  lanes_->Run(QueryLane::kHeavy, [&] { heavy_policy = sched_getscheduler(0); });
  lanes_->Run(QueryLane::kLight, [&] { light_policy = sched_getscheduler(0); });
  lanes_->WaitIdle();
  EXPECT_EQ(heavy_policy, SCHED_IDLE);
  EXPECT_EQ(light_policy, SCHED_OTHER);
}

TEST_F(HeavyPollTest, NoPauseWithoutLightQueries) {
  Start(absl::InfiniteDuration());
  lanes_->Run(QueryLane::kHeavy, [&] {
    lanes_->HeavyPoll();
    heavy_done_.Notify();
  });
  heavy_done_.WaitForNotification();
  EXPECT_EQ(pauses_, 0);
}

TEST_F(HeavyPollTest, NoPauseWhenDisabled) {
  Start(absl::ZeroDuration());  // --heavy-query-pause-ms 0
  StartLightQuery();
  lanes_->Run(QueryLane::kHeavy, [&] {
    lanes_->HeavyPoll();
    heavy_done_.Notify();
  });
  heavy_done_.WaitForNotification();
  EXPECT_EQ(pauses_, 0);
}

}  // namespace
}  // namespace ohfed::aggregator
