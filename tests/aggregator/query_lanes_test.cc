// Where the lanes run their queries: heavy ones in Linux's SCHED_IDLE class
// (below every normal thread, whatever the process's nice), light ones at
// the process's normal priority; and background work beside them.
#include "aggregator/query_lanes.h"

#include <sched.h>

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace ohfed::aggregator {
namespace {

TEST(HeavyLaneTest, HeavyQueriesRunInTheIdleSchedulingClass) {
  QueryLanes lanes;
  std::atomic<int> heavy_policy{-1}, light_policy{-1};
  lanes.Run(QueryLane::kHeavy, [&] { heavy_policy = sched_getscheduler(0); });
  lanes.Run(QueryLane::kLight, [&] { light_policy = sched_getscheduler(0); });
  lanes.WaitIdle();
  EXPECT_EQ(heavy_policy, SCHED_IDLE);
  EXPECT_EQ(light_policy, SCHED_OTHER);
}

// Background work (the patterns' warm-up) runs at the heavy lane's
// priority but on its own thread, without counting as a query: a heavy query
// that arrives while it runs does not wait for it (issue 14: one measure's
// pattern over five years could hold a heavy query for ~100 ms).
TEST(HeavyLaneTest, AHeavyQueryDoesNotWaitForBackgroundWork) {
  QueryLaneOptions options;
  std::atomic<int> started{0};
  options.on_start = [&](QueryLane) { ++started; };
  QueryLanes lanes(options);
  absl::Notification running, go, heavy_ran;
  std::atomic<int> background_policy{-1};
  lanes.RunInBackground([&] {
    background_policy = sched_getscheduler(0);
    running.Notify();
    go.WaitForNotification();
  });
  running.WaitForNotification();
  lanes.Run(QueryLane::kHeavy, [&] { heavy_ran.Notify(); });
  // Bounded only so that a regression fails instead of hanging.
  EXPECT_TRUE(heavy_ran.WaitForNotificationWithTimeout(absl::Seconds(30)));
  go.Notify();
  lanes.WaitIdle();
  EXPECT_EQ(background_policy, SCHED_IDLE);
  EXPECT_EQ(started, 1);  // the heavy query only
}

}  // namespace
}  // namespace ohfed::aggregator
