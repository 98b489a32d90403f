// Disclosure control as the query engine applies it to every row (SPEC §7,
// aggregator/query_disclosure.h), against the in-memory View. Whether the
// secondary pattern protects every cell: disclosure_audit_test.cc.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aggregator/disclosure_pattern.h"
#include "aggregator/query_engine.h"
#include "tests/aggregator/query_fake_view.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::Request;

using ::ohfed::aggregator::testing::FakeView;
using ::ohfed::testing::StatusIs;

constexpr char kImm[] = "activity.count.immunisation";
constexpr char kWait[] = "activity.wait_days.management_referral";
constexpr char kConsultant[] = "staffing.wte.consultant_om";

// "*" for a suppressed row, the value otherwise, "absent" with no row.
std::string Shown(const v1::QueryResponse& resp, const std::string& unit,
                  const std::string& stat) {
  for (const v1::Row& r : resp.rows()) {
    if (r.unit() == unit && r.stat() == stat) {
      return r.suppressed() ? "*" : absl::StrCat(r.value());
    }
  }
  return "absent";
}

class QueryDisclosureTest : public ::testing::Test {
 protected:
  QueryDisclosureTest() {
    // January 2026 (T1, T2 in I1; T3 in I2; all R1. T4, T5 in I3, R2):
    // I1 = 3, I2 = 40, R1 = 43, I3 = R2 = 42, national 85.
    view_.Set("T1", "2026-01", kImm, 0);
    view_.Set("T2", "2026-01", kImm, 3);
    view_.Set("T3", "2026-01", kImm, 40);
    view_.Set("T4", "2026-01", kImm, 12);
    view_.Set("T5", "2026-01", kImm, 30);
    view_.SetBuckets("T1", "2026-01", kWait, {{1, 3}});
    view_.SetBuckets("T3", "2026-01", kWait, {{4, 20}});
    view_.SetBuckets("T4", "2026-01", kWait, {{2, 12}});
    view_.SetBuckets("T5", "2026-01", kWait, {{6, 30}});
    view_.Set("T1", "2026-01", kConsultant, 2);
    view_.Set("T1", "2026-02", kConsultant, 3);
  }
  v1::QueryResponse Run(const v1::QueryRequest& req,
                        const QueryOptions& options = {}) {
    auto resp = RunQuery(view_, req, options);
    EXPECT_THAT(resp, ::ohfed::testing::IsOk());
    return resp.ok() ? *resp : v1::QueryResponse();
  }
  FakeView view_;
};

TEST_F(QueryDisclosureTest, PrimaryRuleBelowNationalExactNationally) {
  auto trusts = Run(Request("national", "2026-01", kImm, {"sum"}, "trust"));
  EXPECT_EQ(Shown(trusts, "T1", "sum"), "0");
  EXPECT_EQ(Shown(trusts, "T2", "sum"), "*");
  EXPECT_EQ(Shown(trusts, "T3", "sum"), "40");
  EXPECT_EQ(Shown(trusts, "T4", "sum"), "10");  // 12 to the nearest 5
  EXPECT_EQ(Shown(trusts, "T5", "sum"), "30");
  // Totals are rounded from unrounded values: 43, not 0 + * + 40.
  auto regions = Run(Request("national", "2026-01", kImm, {"sum"}, "region"));
  EXPECT_EQ(Shown(regions, "R1", "sum"), "45");
  EXPECT_EQ(Shown(regions, "R2", "sum"), "40");
  auto national = Run(Request("national", "2026-01", kImm, {"sum", "mean"}));
  EXPECT_EQ(Shown(national, "national", "sum"), "85");
  EXPECT_EQ(Shown(national, "national", "mean"), "17");
}

TEST_F(QueryDisclosureTest, TheSameCellIsSuppressedInEveryView) {
  EXPECT_EQ(Shown(Run(Request("national", "2026-01", kImm, {"sum"}, "ics")),
                  "I1", "sum"),
            "*");
  EXPECT_EQ(Shown(Run(Request("region:R1", "2026-01", kImm, {"sum"}, "ics")),
                  "I1", "sum"),
            "*");
  EXPECT_EQ(
      Shown(Run(Request("ics:I1", "2026-01", kImm, {"sum"})), "I1", "sum"),
      "*");
  // The quarter holds only January: the same figure, the same "*".
  EXPECT_EQ(
      Shown(Run(Request("ics:I1", "2026-Q1", kImm, {"sum"})), "I1", "sum"),
      "*");
}

TEST_F(QueryDisclosureTest, StatisticsAcrossUnitsOfACountAreSuppressed) {
  // The mean of I3's trusts (21) times n_units would give the exact total.
  auto resp = Run(Request("ics:I3", "2026-01", kImm,
                          {"sum", "mean", "median", "min", "max"}));
  EXPECT_EQ(Shown(resp, "I3", "sum"), "40");
  for (const char* stat : {"mean", "median", "min", "max"}) {
    EXPECT_EQ(Shown(resp, "I3", stat), "*") << stat;
  }
}

TEST_F(QueryDisclosureTest, DistributionStatisticsNeedEightEvents) {
  auto resp = Run(Request("national", "2026-01", kWait,
                          {"events", "mean", "median", "p90"}, "trust"));
  EXPECT_EQ(Shown(resp, "T1", "events"), "*");
  EXPECT_EQ(Shown(resp, "T1", "mean"), "*");  // 3 events
  EXPECT_EQ(Shown(resp, "T1", "p90"), "*");
  EXPECT_EQ(Shown(resp, "T3", "events"), "20");
  EXPECT_EQ(Shown(resp, "T3", "mean"), "4");
  EXPECT_EQ(Shown(resp, "T3", "median"), "4");
  auto national = Run(Request("national", "2026-01", kWait, {"events"}));
  EXPECT_EQ(Shown(national, "national", "events"), "65");
}

TEST_F(QueryDisclosureTest, NonDisclosiveMeasuresAreExact) {
  auto resp = Run(Request("trust:T1", "2026-01", kConsultant, {"sum"}));
  EXPECT_EQ(Shown(resp, "T1", "sum"), "2");
}

TEST_F(QueryDisclosureTest, RangesBelowNationalAreRefusedForDisclosure) {
  EXPECT_THAT(
      RunQuery(view_, Request("ics:I1", "2026-01:2026-02", kImm)),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "period: '2026-01:2026-02' is not a month, quarter, year or "
               "financial year; below national level disclosive measures"));
  EXPECT_THAT(
      RunQuery(view_, Request("national", "2026-01:2026-02", kImm, {}, "ics")),
      StatusIs(absl::StatusCode::kInvalidArgument, "activity.count"));
  // Nationally, for staffing, or for a range that is a standard period.
  EXPECT_EQ(Shown(Run(Request("national", "2026-01:2026-02", kImm)), "national",
                  "sum"),
            "85");
  EXPECT_EQ(Shown(Run(Request("ics:I1", "2026-01:2026-02", kConsultant)), "I1",
                  "sum"),
            "3");
  EXPECT_EQ(Shown(Run(Request("ics:I3", "2026-01:2026-03", kImm)), "I3", "sum"),
            "40");
}

TEST_F(QueryDisclosureTest, SharedPatternCacheComputesEachMeasureOnce) {
  QueryOptions shared;
  shared.patterns = std::make_shared<PatternCache>();
  auto by_ics = Request("national", "2026-01", kImm, {"sum"}, "ics");
  EXPECT_EQ(Shown(Run(by_ics, shared), "I1", "sum"), "*");
  EXPECT_EQ(shared.patterns->size(), 1u);
  // Another breakdown of the same measure reuses it; another measure adds.
  EXPECT_EQ(
      Shown(Run(Request("national", "2026-01", kImm, {"sum"}, "trust"), shared),
            "T2", "sum"),
      "*");
  EXPECT_EQ(shared.patterns->size(), 1u);
  Run(Request("national", "2026-01", kWait, {"events"}, "ics"), shared);
  EXPECT_EQ(shared.patterns->size(), 2u);

  // The cached pattern is the one applied: once Trust Two's 3 becomes 30,
  // a fresh query no longer hides ICS One, the cached pattern (of the data
  // it was computed on, as for one snapshot) still does.
  view_.Set("T2", "2026-01", kImm, 30);
  EXPECT_EQ(Shown(Run(by_ics), "I1", "sum"), "30");
  EXPECT_EQ(Shown(Run(by_ics, shared), "I1", "sum"), "*");
}

TEST_F(QueryDisclosureTest, ThresholdsComeFromOptions) {
  QueryOptions options;
  options.disclosure.suppress_max = 2;
  options.disclosure.rounding_base = 10;
  auto resp =
      Run(Request("national", "2026-01", kImm, {"sum"}, "trust"), options);
  EXPECT_EQ(Shown(resp, "T2", "sum"), "0");  // 3 to the nearest 10
  EXPECT_EQ(Shown(resp, "T4", "sum"), "10");
  EXPECT_EQ(Shown(resp, "T5", "sum"), "30");
}

}  // namespace
}  // namespace ohfed::aggregator
