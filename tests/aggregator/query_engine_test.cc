// The query engine against an in-memory View (tests/aggregator/
// query_fake_view.h) with hand-computed expectations. The arithmetic of
// sub-national rows is checked with disclosure thresholds that change
// nothing (RunExact); disclosure control itself: query_disclosure_test.cc.
#include "aggregator/query_engine.h"

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/query_rows.h"
#include "tests/aggregator/query_fake_view.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::Request;

using ::ohfed::aggregator::testing::FakeView;
using ::ohfed::testing::StatusIs;
using ::testing::DoubleNear;
using ::testing::ElementsAre;

constexpr char kImm[] = "activity.count.immunisation";
constexpr char kWait[] = "activity.wait_days.management_referral";
constexpr char kConsultant[] = "staffing.wte.consultant_om";
constexpr char kServed[] = "profile.staff_served";
constexpr char kSeqohs[] = "profile.seqohs_accredited";

// The data every test below queries (see each test for the arithmetic).
void Populate(FakeView& v) {
  // Flow: Q1 2026 per trust T1=11, T2=23, T3=7, T4=5; T5 only in 2025-04.
  v.Set("T1", "2026-01", kImm, 10);
  v.Set("T2", "2026-01", kImm, 20);
  v.Set("T4", "2026-01", kImm, 5);
  v.Set("T1", "2026-02", kImm, 1);
  v.Set("T3", "2026-02", kImm, 7);
  v.Set("T2", "2026-03", kImm, 3);
  v.Set("T1", "2026-04", kImm, 100);
  v.Set("T5", "2025-04", kImm, 4);
  // Stock: latest in Q1 T1=3 (Mar), T2=1.5 (Feb), T4=0.5; T3 only outside.
  v.Set("T1", "2026-01", kConsultant, 2);
  v.Set("T1", "2026-03", kConsultant, 3);
  v.Set("T2", "2026-02", kConsultant, 1.5);
  v.Set("T4", "2026-03", kConsultant, 0.5);
  v.Set("T3", "2025-12", kConsultant, 4);
  v.Set("T3", "2026-04", kConsultant, 5);
  // Annual.
  v.Set("T1", "2025", kServed, 10000);
  v.Set("T1", "2026", kServed, 12000);
  v.Set("T2", "2025", kServed, 8000);
  v.Set("T4", "2026", kServed, 30000);
  v.Set("T1", "2026", kSeqohs, 1);
  v.Set("T2", "2026", kSeqohs, 0);
  v.Set("T3", "2026", kSeqohs, 1);
  v.Set("T4", "2025", kSeqohs, 1);
  // Distribution: Q1 events 2,2,2,5,5,10,30.
  v.SetBuckets("T1", "2026-01", kWait, {{2, 3}, {10, 1}});
  v.SetBuckets("T2", "2026-02", kWait, {{5, 2}});
  v.SetBuckets("T4", "2026-01", kWait, {{30, 1}});
  // Nurses for the specialist share.
  v.Set("T1", "2026-03", "staffing.wte.nurse_specialist_oh", 2);
  v.Set("T1", "2026-03", "staffing.wte.nurse_general", 1);
  v.Set("T1", "2026-03", "staffing.wte.nurse_mental_health", 1);
  v.Set("T4", "2026-02", "staffing.wte.nurse_general", 4);
}

std::optional<v1::Row> Find(const v1::QueryResponse& resp,
                            const std::string& unit, const std::string& measure,
                            const std::string& stat) {
  for (const v1::Row& r : resp.rows()) {
    if (r.unit() == unit && r.measure() == measure && r.stat() == stat)
      return r;
  }
  return std::nullopt;
}

class QueryEngineTest : public ::testing::Test {
 protected:
  QueryEngineTest() { Populate(view_); }

  // Thresholds under which disclosure control changes nothing: no count is
  // in 1..0, rounding to 1 is the identity, no statistic needs events.
  static QueryOptions Exact() {
    QueryOptions o;
    o.disclosure.suppress_max = 0;
    o.disclosure.rounding_base = 1;
    o.disclosure.min_events = 0;
    return o;
  }
  static std::vector<std::pair<QueryOptions, v1::QueryRequest>> ManyQueries();
  v1::QueryResponse RunExact(const v1::QueryRequest& req) {
    return Run(req, Exact());
  }
  v1::QueryResponse Run(const v1::QueryRequest& req,
                        const QueryOptions& options = {}) {
    auto resp = RunQuery(view_, req, options);
    EXPECT_THAT(resp, ::ohfed::testing::IsOk());
    return resp.ok() ? *resp : v1::QueryResponse();
  }
  // Value and n_units of one row, or {-1, 0} when absent.
  std::pair<double, uint32_t> Value(const v1::QueryResponse& resp,
                                    const std::string& unit,
                                    const std::string& measure,
                                    const std::string& stat) {
    auto row = Find(resp, unit, measure, stat);
    if (!row) return {-1, 0};
    return {row->value(), row->n_units()};
  }

  FakeView view_;
};

TEST_F(QueryEngineTest, FlowOverAQuarterEveryStatistic) {
  auto resp =
      Run(Request("national", "2026-Q1", kImm,
                  {"sum", "mean", "median", "min", "max", "p25", "p75"}));
  ASSERT_EQ(resp.rows_size(), 7);
  const v1::Row& first = resp.rows(0);
  EXPECT_EQ(first.scope(), "national");
  EXPECT_EQ(first.unit(), "national");
  EXPECT_EQ(first.unit_name(), "England");
  EXPECT_EQ(first.period(), "2026-Q1");
  EXPECT_EQ(first.measure(), kImm);
  EXPECT_FALSE(first.suppressed());
  // Per trust 11, 23, 7, 5 (sorted 5, 7, 11, 23).
  EXPECT_EQ(Value(resp, "national", kImm, "sum"), std::make_pair(46.0, 4u));
  EXPECT_EQ(Value(resp, "national", kImm, "mean"), std::make_pair(11.5, 4u));
  EXPECT_EQ(Value(resp, "national", kImm, "median"), std::make_pair(9.0, 4u));
  EXPECT_EQ(Value(resp, "national", kImm, "min"), std::make_pair(5.0, 4u));
  EXPECT_EQ(Value(resp, "national", kImm, "max"), std::make_pair(23.0, 4u));
  // Type-7 interpolation: h = 3 * 0.25 = 0.75 -> 5 + 0.75 * 2.
  EXPECT_EQ(Value(resp, "national", kImm, "p25"), std::make_pair(6.5, 4u));
  // h = 2.25 -> 11 + 0.25 * 12.
  EXPECT_EQ(Value(resp, "national", kImm, "p75"), std::make_pair(14.0, 4u));
}

TEST_F(QueryEngineTest, FlowOverAFinancialYearAndARange) {
  // FY2025 = 2025-04..2026-03: Q1's 46 plus T5's 4 in April 2025.
  auto fy = Run(Request("national", "FY2025", kImm, {"sum"}));
  EXPECT_EQ(Value(fy, "national", kImm, "sum"), std::make_pair(50.0, 5u));
  EXPECT_EQ(fy.rows(0).period(), "FY2025");
  // 2026-02..2026-04: T1 1+100, T3 7, T2 3.
  auto range = Run(Request("national", "2026-02:2026-04", kImm, {"sum"}));
  EXPECT_EQ(Value(range, "national", kImm, "sum"), std::make_pair(111.0, 3u));
  EXPECT_EQ(range.rows(0).period(), "2026-02:2026-04");
}

TEST_F(QueryEngineTest, DefaultStatisticsPerType) {
  auto resp =
      Run(Request("national", "2026-Q1", "activity.count.immunisation"));
  ASSERT_EQ(resp.rows_size(), 1);
  EXPECT_EQ(resp.rows(0).stat(), "sum");
  auto yn = Run(Request("national", "2026", kSeqohs));
  std::vector<std::string> stats;
  for (const auto& r : yn.rows()) stats.push_back(r.stat());
  EXPECT_THAT(stats, ElementsAre("yes", "answered", "pct"));
}

TEST_F(QueryEngineTest, StockTakesEachTrustsLatestMonthInRange) {
  auto q1 = Run(Request("national", "2026-Q1", kConsultant, {"sum", "max"}));
  EXPECT_EQ(Value(q1, "national", kConsultant, "sum"), std::make_pair(5.0, 3u));
  EXPECT_EQ(Value(q1, "national", kConsultant, "max"), std::make_pair(3.0, 3u));
  auto feb = Run(Request("national", "2026-02", kConsultant, {"sum"}));
  EXPECT_EQ(Value(feb, "national", kConsultant, "sum"),
            std::make_pair(1.5, 1u));
  // Stocks are not summed over months: T3's December value, T1's March one.
  auto range =
      Run(Request("national", "2025-12:2026-03", kConsultant, {"sum"}));
  EXPECT_EQ(Value(range, "national", kConsultant, "sum"),
            std::make_pair(9.0, 4u));
}

TEST_F(QueryEngineTest, AnnualMeasuresAnswerTheLatestYearInRange) {
  // A month range inside 2026 uses 2026: T1 12000, T4 30000.
  auto q1 = Run(Request("national", "2026-Q1", kServed, {"sum"}));
  EXPECT_EQ(Value(q1, "national", kServed, "sum"), std::make_pair(42000.0, 2u));
  // FY2025 touches 2025 and 2026: T1 12000 (2026), T2 8000 (2025), T4 30000.
  auto fy = Run(Request("national", "FY2025", kServed, {"sum", "mean"}));
  EXPECT_EQ(Value(fy, "national", kServed, "sum"), std::make_pair(50000.0, 3u));
  auto y2025 = Run(Request("national", "2025", kServed, {"sum"}));
  EXPECT_EQ(Value(y2025, "national", kServed, "sum"),
            std::make_pair(18000.0, 2u));
}

TEST_F(QueryEngineTest, YesNoCountsAnswers) {
  auto resp = Run(Request("national", "2026", kSeqohs));
  EXPECT_EQ(Value(resp, "national", kSeqohs, "yes"), std::make_pair(2.0, 3u));
  EXPECT_EQ(Value(resp, "national", kSeqohs, "answered"),
            std::make_pair(3.0, 3u));
  auto pct = Value(resp, "national", kSeqohs, "pct");
  EXPECT_THAT(pct.first, DoubleNear(200.0 / 3, 1e-9));
}

TEST_F(QueryEngineTest, DistributionsPoolEventsOverMonthsAndTrusts) {
  // Events 2,2,2,5,5,10,30 (N=7): mean 56/7; median h=3 -> 5;
  // p90 h=5.4 -> 10 + 0.4 * 20.
  auto resp = Run(Request("national", "2026-Q1", kWait));
  EXPECT_EQ(Value(resp, "national", kWait, "events"), std::make_pair(7.0, 3u));
  EXPECT_EQ(Value(resp, "national", kWait, "mean"), std::make_pair(8.0, 3u));
  EXPECT_EQ(Value(resp, "national", kWait, "median"), std::make_pair(5.0, 3u));
  EXPECT_THAT(Value(resp, "national", kWait, "p90").first,
              DoubleNear(18, 1e-9));
  // North only (2,2,2,5,5,10): median h=2.5 -> 3.5, p90 h=4.5 -> 7.5.
  auto north = RunExact(Request("region:R1", "2026-Q1", kWait));
  EXPECT_EQ(Value(north, "R1", kWait, "events"), std::make_pair(6.0, 2u));
  EXPECT_EQ(Value(north, "R1", kWait, "median"), std::make_pair(3.5, 2u));
  EXPECT_EQ(Value(north, "R1", kWait, "p90"), std::make_pair(7.5, 2u));
}

TEST_F(QueryEngineTest, BreaksDownByIcsWithinARegionAndByTrust) {
  auto by_ics = RunExact(Request("region:R1", "2026-Q1", kImm, {"sum"}, "ics"));
  ASSERT_EQ(by_ics.rows_size(), 2);
  EXPECT_EQ(by_ics.rows(0).scope(), "region:R1");
  EXPECT_EQ(by_ics.rows(0).unit(), "I1");
  EXPECT_EQ(by_ics.rows(0).unit_name(), "ICS One");
  EXPECT_EQ(Value(by_ics, "I1", kImm, "sum"), std::make_pair(34.0, 2u));
  EXPECT_EQ(Value(by_ics, "I2", kImm, "sum"), std::make_pair(7.0, 1u));

  // By trust, nationally: T5 reported nothing in Q1, so it has no row.
  auto by_trust =
      RunExact(Request("national", "2026-Q1", kImm, {"sum"}, "trust"));
  std::vector<std::string> units;
  for (const auto& r : by_trust.rows()) units.push_back(r.unit());
  EXPECT_THAT(units, ElementsAre("T1", "T2", "T3", "T4"));
  EXPECT_EQ(Value(by_trust, "T2", kImm, "sum"), std::make_pair(23.0, 1u));

  auto by_region =
      RunExact(Request("national", "2026-Q1", kImm, {"sum"}, "region"));
  EXPECT_EQ(Value(by_region, "R1", kImm, "sum"), std::make_pair(41.0, 3u));
  EXPECT_EQ(Value(by_region, "R2", kImm, "sum"), std::make_pair(5.0, 1u));
}

// From 2026-03 T3 moves from ICS I2 to I1: earlier periods keep the old
// placement, later ones use the new.
TEST_F(QueryEngineTest, UnitsFollowTheRegistryInEffectForThePeriod) {
  view_.AddLaterVersion(::ohfed::aggregator::testing::TestRegistryFrom2026_03(
      "I2,ICS Two,T3", "I1,ICS One,T3"));

  auto february =
      RunExact(Request("ics:I1", "2026-02", kImm, {"sum"}, "trust"));
  std::vector<std::string> units;
  for (const auto& r : february.rows()) units.push_back(r.unit());
  EXPECT_THAT(units, ElementsAre("T1"));
  auto i2 = RunExact(Request("ics:I2", "2026-02", kImm, {"sum"}, "trust"));
  EXPECT_EQ(Value(i2, "T3", kImm, "sum"), std::make_pair(7.0, 1u));

  auto april = Run(Request("ics:I1", "2026-04", kConsultant, {"sum"}, "trust"));
  EXPECT_EQ(Value(april, "T3", kConsultant, "sum"), std::make_pair(5.0, 1u));
  v1::QueryRequest gone = Request("ics:I2", "2026-04", kImm, {"sum"});
  EXPECT_THAT(RunQuery(view_, gone),
              StatusIs(absl::StatusCode::kNotFound, "I2"));
}

TEST_F(QueryEngineTest, TrustScopeAndSelfBreakdown) {
  auto resp = RunExact(Request("trust:T5", "2025-04", kImm, {}, "self"));
  ASSERT_EQ(resp.rows_size(), 1);
  EXPECT_EQ(resp.rows(0).unit(), "T5");
  EXPECT_EQ(resp.rows(0).unit_name(), "Trust Five, Ltd");
  EXPECT_EQ(resp.rows(0).value(), 4);
}

TEST_F(QueryEngineTest, DerivedIndicators) {
  // Q1: consultant WTE T1 3, T2 1.5, T4 0.5; staff served (latest year up to
  // 2026) T1 12000, T2 8000 (2025), T4 30000.
  auto resp = Run(Request("national", "2026-Q1", "derived"));
  EXPECT_EQ(Value(resp, "national", "derived.staff_per_consultant", "value"),
            std::make_pair(10000.0, 3u));
  auto gap = Value(resp, "national", "derived.consultant_gap_wte", "value");
  EXPECT_THAT(gap.first, DoubleNear(50000.0 / 17500 - 5, 1e-9));
  EXPECT_EQ(gap.second, 3u);
  // T1 2 / (2+1+1) and T4 0 / 4 -> 2 / 8.
  EXPECT_EQ(Value(resp, "national", "derived.specialist_nurse_share", "value"),
            std::make_pair(0.25, 2u));
  EXPECT_EQ(Value(resp, "national", "derived.critical_mass", "value"),
            std::make_pair(1.0, 3u));

  auto by_region = Run(Request("national", "2026-Q1",
                               "derived.staff_per_consultant", {}, "region"));
  EXPECT_THAT(
      Value(by_region, "R1", "derived.staff_per_consultant", "value").first,
      DoubleNear(20000 / 4.5, 1e-9));
  EXPECT_EQ(Value(by_region, "R2", "derived.staff_per_consultant", "value"),
            std::make_pair(60000.0, 1u));
}

TEST_F(QueryEngineTest, NoRowWhenConsultantWteIsZero) {
  view_.Set("T5", "2026-03", kConsultant, 0);
  view_.Set("T5", "2026", kServed, 5000);
  auto resp = Run(Request("trust:T5", "2026-03", "derived"));
  EXPECT_FALSE(Find(resp, "T5", "derived.staff_per_consultant", "value"));
  EXPECT_EQ(Value(resp, "T5", "derived.consultant_gap_wte", "value").first,
            5000.0 / 17500);
  EXPECT_EQ(Value(resp, "T5", "derived.critical_mass", "value"),
            std::make_pair(0.0, 1u));
}

TEST_F(QueryEngineTest, InapplicableStatisticsYieldNoRows) {
  auto resp = Run(Request("national", "2026-Q1", kImm, {"yes", "sum", "p90"}));
  ASSERT_EQ(resp.rows_size(), 1);
  EXPECT_EQ(resp.rows(0).stat(), "sum");
  auto none = Run(Request("national", "2030-01", kImm));
  EXPECT_EQ(none.rows_size(), 0);
}

TEST_F(QueryEngineTest, SumsOfNodesComeFromTheRollups) {
  // Tamper with one rollup: a per-trust sum would not see it.
  view_.MutableRollup("national", "2026-01", kImm).sum = 1000;
  auto resp = Run(Request("national", "2026-01", kImm, {"sum", "mean"}));
  EXPECT_EQ(Value(resp, "national", kImm, "sum"), std::make_pair(1000.0, 3u));
  EXPECT_THAT(Value(resp, "national", kImm, "mean").first,
              DoubleNear(35.0 / 3, 1e-9));
}

// The rollup path (node sums) and the per-trust path (by trust) agree for
// every node, flow and distribution, for single months and ranges.
TEST_F(QueryEngineTest, RollupAndPerTrustPathsAgree) {
  for (const std::string period : {"2026-01", "2026-Q1", "FY2025", "2026"}) {
    for (const std::string measure : {kImm, kWait}) {
      std::string stat = measure == kImm ? "sum" : "events";
      auto trusts =
          RunExact(Request("national", period, measure, {stat}, "trust"));
      for (const std::string scope :
           {"national", "region:R1", "region:R2", "ics:I1", "ics:I3"}) {
        auto node = RunExact(Request(scope, period, measure, {stat}));
        double total = 0;
        uint32_t n = 0;
        for (const v1::Row& r : trusts.rows()) {
          if (view_.registry().Contains(*Scope::Parse(scope), r.unit())) {
            total += r.value();
            ++n;
          }
        }
        SCOPED_TRACE(scope + " " + period + " " + measure);
        if (n == 0) {
          EXPECT_EQ(node.rows_size(), 0);
          continue;
        }
        ASSERT_EQ(node.rows_size(), 1);
        EXPECT_EQ(node.rows(0).value(), total);
        EXPECT_EQ(node.rows(0).n_units(), n);
      }
    }
  }
}

TEST_F(QueryEngineTest, RejectsBadInputNamingIt) {
  EXPECT_THAT(RunQuery(view_, Request("county:X", "2026-01", "")),
              StatusIs(absl::StatusCode::kInvalidArgument, "scope"));
  EXPECT_THAT(RunQuery(view_, Request("ics:ZZZ", "2026-01", "")),
              StatusIs(absl::StatusCode::kNotFound, "'ZZZ'"));
  EXPECT_THAT(RunQuery(view_, Request("national", "2026-13", "")),
              StatusIs(absl::StatusCode::kInvalidArgument, "period: "));
  EXPECT_THAT(RunQuery(view_, Request("national", "", "")),
              StatusIs(absl::StatusCode::kInvalidArgument, "period: "));
  EXPECT_THAT(RunQuery(view_, Request("national", "2026-01", "", {}, "county")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "by: unknown level 'county'"));
  EXPECT_THAT(
      RunQuery(view_, Request("ics:I1", "2026-01", "", {}, "region")),
      StatusIs(absl::StatusCode::kInvalidArgument, "above scope 'ics:I1'"));
  EXPECT_THAT(RunQuery(view_, Request("national", "2026-01", "", {"average"})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "unknown statistic 'average'"));
  EXPECT_THAT(
      RunQuery(view_, Request("national", "2026-01", "activity.nonsense")),
      StatusIs(absl::StatusCode::kNotFound, "activity.nonsense"));
}

TEST_F(QueryEngineTest, ResponseCarriesVersions) {
  auto resp = Run(Request("national", "2026-01", kImm));
  EXPECT_EQ(resp.registry_version(), "test-1");
  EXPECT_EQ(resp.catalogue_version(), view_.catalogue().version());
}

// Every scope, breakdown, period, prefix and statistics below, with exact
// and with suppressing thresholds (suppressed rows, rounded values) and with
// a limit on rows: answers and refusals (bad input, too many rows) alike.
std::vector<std::pair<QueryOptions, v1::QueryRequest>>
QueryEngineTest::ManyQueries() {
  QueryOptions suppressing;  // the default thresholds
  QueryOptions few_rows = Exact();
  few_rows.max_rows = 3;
  std::vector<std::pair<QueryOptions, v1::QueryRequest>> out;
  for (const QueryOptions& options : {Exact(), suppressing, few_rows}) {
    for (const std::string scope :
         {"national", "region:R1", "ics:I1", "trust:T1", "", "ics:NOPE"}) {
      for (const std::string by : {"", "region", "ics", "trust"}) {
        for (const std::string period :
             {"2026-01", "2026-Q1", "2026", "FY2025", "2025-04:2026-04"}) {
          for (const std::string prefix :
               {"", "activity", "staffing", "profile", "no.such"}) {
            for (const std::vector<std::string>& stats :
                 std::vector<std::vector<std::string>>{
                     {}, {"sum", "median", "pct"}}) {
              out.emplace_back(options,
                               Request(scope, period, prefix, stats, by));
            }
          }
        }
      }
    }
  }
  return out;
}

// SerializeQuery writes the bytes of RunQuery's answer without building it:
// equal byte for byte for each of ManyQueries.
TEST_F(QueryEngineTest, SerializedQueryIsTheResponseSerialized) {
  int compared = 0, refused = 0;
  for (const auto& [options, req] : ManyQueries()) {
    auto answer = RunQuery(view_, req, options);
    std::string bytes = "stale";
    absl::Status s = SerializeQuery(view_, req, options, &bytes);
    ASSERT_EQ(s, answer.status()) << req.ShortDebugString();
    if (!answer.ok()) {
      ++refused;
      continue;
    }
    ASSERT_EQ(bytes, answer->SerializeAsString()) << req.ShortDebugString();
    compared += answer->rows_size() > 0 ? 1 : 0;
  }
  EXPECT_GE(compared, 300);
  EXPECT_GE(refused, 100);
}

// The compact form (QueryRequest.compact) is the tidy answer: the same
// refusals, and once expanded (as `ohfed query` does) the same message, rows
// in the same order; its tables name each unit, measure and statistic of the
// rows once. Serialized, it is byte for byte the message form's.
TEST_F(QueryEngineTest, CompactAnswerExpandsToTheTidyOne) {
  int compared = 0;
  for (auto [options, req] : ManyQueries()) {
    auto tidy = RunQuery(view_, req, options);
    req.set_compact(true);
    std::string bytes = "stale";
    absl::Status s = SerializeQuery(view_, req, options, &bytes);
    ASSERT_EQ(s, tidy.status()) << req.ShortDebugString();
    auto message = RunQuery(view_, req, options);
    ASSERT_EQ(message.status(), tidy.status()) << req.ShortDebugString();
    if (!tidy.ok()) continue;
    ASSERT_EQ(bytes, message->SerializeAsString()) << req.ShortDebugString();
    v1::QueryResponse compact;
    ASSERT_TRUE(compact.ParseFromString(bytes)) << req.ShortDebugString();
    ASSERT_TRUE(compact.has_compact()) << req.ShortDebugString();
    EXPECT_EQ(compact.rows_size(), 0);
    std::set<std::string> units, measures, stats;
    for (const v1::Row& row : tidy->rows()) {
      units.insert(row.unit());
      measures.insert(row.measure());
      stats.insert(row.stat());
    }
    const v1::CompactRows& c = compact.compact();
    EXPECT_EQ(c.units_size(), units.size()) << req.ShortDebugString();
    EXPECT_EQ(c.measures_size(), measures.size()) << req.ShortDebugString();
    EXPECT_EQ(c.stats_size(), stats.size()) << req.ShortDebugString();
    auto expanded = ExpandCompactRows(std::move(compact));
    OHFED_ASSERT_OK(expanded);
    ASSERT_EQ(expanded->SerializeAsString(), tidy->SerializeAsString())
        << req.ShortDebugString();
    compared += tidy->rows_size() > 0;
  }
  EXPECT_GE(compared, 300);
}

}  // namespace
}  // namespace ohfed::aggregator
