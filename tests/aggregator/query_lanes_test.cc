// Where the lanes run their queries: heavy ones in Linux's SCHED_IDLE class
// (below every normal thread, whatever the process's nice), light ones at
// the process's normal priority; and background work in the heavy lane.
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

// Background work (the patterns' warm-up) runs in the heavy lane without
// counting as a query, and sees a heavy query queued behind it, so that it
// can let that query go first.
TEST(HeavyLaneTest, BackgroundWorkSeesAHeavyQueryWaiting) {
  QueryLaneOptions options;
  std::atomic<int> started{0};
  options.on_start = [&](QueryLane) { ++started; };
  QueryLanes lanes(options);
  absl::Notification running, go;
  std::atomic<bool> saw_waiting{false}, heavy_ran{false};
  lanes.RunInBackground([&] {
    running.Notify();
    go.WaitForNotification();
    saw_waiting = lanes.HeavyWaiting();
  });
  running.WaitForNotification();
  EXPECT_FALSE(lanes.HeavyWaiting());
  lanes.Run(QueryLane::kHeavy, [&] { heavy_ran = true; });
  go.Notify();
  lanes.WaitIdle();
  EXPECT_TRUE(saw_waiting);
  EXPECT_TRUE(heavy_ran);
  EXPECT_FALSE(lanes.HeavyWaiting());
  EXPECT_EQ(started, 1);  // the heavy query only
}

}  // namespace
}  // namespace ohfed::aggregator
