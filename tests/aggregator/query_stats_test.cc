// Edge cases of the statistics arithmetic (the engine tests cover the
// common cases through RunQuery).
#include "aggregator/query_stats.h"

#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::testing::StatusIs;

TEST(QueryStatsTest, SingleValueIsEveryPercentile) {
  for (const char* stat : {"median", "p25", "p75", "min", "max", "mean"}) {
    EXPECT_EQ(ScalarStat(stat, {4.5}), 4.5) << stat;
  }
  EXPECT_EQ(ScalarStat("sum", {}), std::nullopt);
  EXPECT_EQ(ScalarStat("yes", {1}), std::nullopt);
}

TEST(QueryStatsTest, DistributionWithoutEventsHasOnlyACount) {
  EXPECT_EQ(DistributionStat("events", {}), 0);
  EXPECT_EQ(DistributionStat("median", {}), std::nullopt);
  Buckets one = {{7, 1}};
  EXPECT_EQ(DistributionStat("p90", one), 7);
  // 1 x 0 and 9 x 10: p90 h = 8.1 -> both neighbours are 10.
  Buckets skewed = {{0, 1}, {10, 9}};
  EXPECT_EQ(DistributionStat("p90", skewed), 10);
  EXPECT_EQ(DistributionStat("p25", skewed), 10);  // h = 2.25
  EXPECT_EQ(DistributionStat("min", skewed), 0);
  EXPECT_EQ(DistributionStat("p1", skewed), std::nullopt);  // not offered
  // 0, 0, 10, 10: median h = 1.5 interpolates between ranks 1 and 2.
  Buckets even = {{0, 2}, {10, 2}};
  EXPECT_EQ(DistributionStat("median", even), 5);
  EXPECT_EQ(DistributionStat("mean", even), 5);
}

TEST(QueryStatsTest, NamesAndApplicability) {
  OHFED_EXPECT_OK(CheckStatName("p90"));
  EXPECT_THAT(CheckStatName("P90"),
              StatusIs(absl::StatusCode::kInvalidArgument, "'P90'"));
  Measure count;
  count.type = ValueType::kCount;
  EXPECT_TRUE(StatApplies("median", count));
  EXPECT_FALSE(StatApplies("pct", count));
  Measure yes_no;
  yes_no.type = ValueType::kOption;
  EXPECT_TRUE(StatApplies("pct", yes_no));
  EXPECT_FALSE(StatApplies("sum", yes_no));
}

TEST(QueryStatsTest, YesNo) {
  EXPECT_EQ(YesNoStat("pct", {1, 0, 0, 1}), 50);
  EXPECT_EQ(YesNoStat("yes", {0, 0}), 0);
  EXPECT_EQ(YesNoStat("answered", {}), std::nullopt);
}

}  // namespace
}  // namespace ohfed::aggregator
