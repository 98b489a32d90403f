// Where the lanes run their queries: heavy ones in Linux's SCHED_IDLE class
// (below every normal thread, whatever the process's nice), light ones at
// the process's normal priority.
#include "aggregator/query_lanes.h"

#include <sched.h>

#include <atomic>

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

}  // namespace
}  // namespace ohfed::aggregator
