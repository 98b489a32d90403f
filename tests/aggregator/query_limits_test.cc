// Bounds on one query (issue 8): statistics deduplicated and capped, the
// period span and the rows per answer capped, and evaluation abandoned once
// the caller has gone. Against an in-memory View.
#include "aggregator/query_limits.h"

#include <atomic>
#include <string>
#include <vector>

#include "aggregator/query_completeness.h"
#include "aggregator/query_engine.h"
#include "tests/aggregator/query_fake_view.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::FakeView;
using ::ohfed::testing::StatusIs;

constexpr char kImm[] = "activity.count.immunisation";

// Counts the unit summaries the engine reads: the work it does.
class CountingView : public FakeView {
 public:
  const HeldUnit* Unit(absl::string_view trust,
                       absl::string_view period) const override {
    reads.fetch_add(1, std::memory_order_relaxed);
    return FakeView::Unit(trust, period);
  }
  mutable std::atomic<int64_t> reads{0};
};

class QueryLimitsTest : public ::testing::Test {
 protected:
  QueryLimitsTest() {
    for (const char* trust : {"T1", "T2", "T3", "T4", "T5"}) {
      view_.Set(trust, "2026-01", kImm, 10);
      view_.Set(trust, "2026-01", "staffing.wte.admin", 2);
    }
  }
  static v1::QueryRequest Request(const std::string& period,
                                  const std::string& prefix,
                                  const std::string& by = "self") {
    v1::QueryRequest req;
    req.set_scope("national");
    req.set_period(period);
    req.set_measure_prefix(prefix);
    req.set_by(by);
    return req;
  }
  CountingView view_;
};

// The probe's request: `sum` 150,000 times once built 68M rows.
TEST_F(QueryLimitsTest, ManyListedStatisticsAreRefused) {
  v1::QueryRequest req = Request("2026-01", kImm);
  for (int i = 0; i < 150000; ++i) req.add_stats("sum");
  EXPECT_THAT(RunQuery(view_, req),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "150000 statistics listed; at most 64: list each "
                       "statistic once"));
  EXPECT_EQ(view_.reads.load(), 0);
}

TEST_F(QueryLimitsTest, RepeatedStatisticsCountOnce) {
  v1::QueryRequest req = Request("2026-01", kImm);
  for (const char* s : {"sum", "mean", "sum", "sum", "mean"}) req.add_stats(s);
  auto resp = RunQuery(view_, req);
  OHFED_ASSERT_OK(resp);
  ASSERT_EQ(resp->rows_size(), 2);
  EXPECT_EQ(resp->rows(0).stat(), "sum");
  EXPECT_EQ(resp->rows(0).value(), 50);
  EXPECT_EQ(resp->rows(1).stat(), "mean");
}

TEST_F(QueryLimitsTest, PeriodSpanIsCapped) {
  EXPECT_THAT(RunQuery(view_, Request("2000-01:2026-12", kImm)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "period: 2000-01:2026-12 spans 324 months; at most "
                       "120 (10 years) per request: ask for a shorter range"));
  OHFED_EXPECT_OK(RunQuery(view_, Request("2017-01:2026-12", kImm)));

  v1::CompletenessRequest c;
  c.set_scope("national");
  c.set_period("1990:2026");
  EXPECT_THAT(RunCompleteness(view_, c, absl::Now()),
              StatusIs(absl::StatusCode::kInvalidArgument, "spans 444 months"));
}

// An error message names a field, never echoes a hostile megabyte of it.
TEST_F(QueryLimitsTest, OversizedFieldsAreNotEchoed) {
  const std::string huge(1 << 20, 'x');
  v1::QueryRequest req = Request(huge, kImm);
  absl::StatusOr<v1::QueryResponse> resp = RunQuery(view_, req);
  EXPECT_THAT(resp, StatusIs(absl::StatusCode::kInvalidArgument,
                             "period: 1048576 bytes; at most 256"));
  req = Request("2026-01", huge);
  EXPECT_THAT(RunQuery(view_, req),
              StatusIs(absl::StatusCode::kInvalidArgument, "measures: "));
  v1::CompletenessRequest c;
  c.set_scope(huge);
  c.set_period("2026-01");
  EXPECT_THAT(RunCompleteness(view_, c, absl::Now()),
              StatusIs(absl::StatusCode::kInvalidArgument, "scope: "));
  EXPECT_LT(resp.status().message().size(), 100u);
}

TEST_F(QueryLimitsTest, RowsPerAnswerAreCapped) {
  QueryOptions options;
  options.max_rows = 6;
  // Two measures by five trusts: ten rows.
  v1::QueryRequest req = Request("2026-01", "", "trust");
  req.add_stats("sum");
  EXPECT_THAT(RunQuery(view_, req, options),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "the answer exceeds 6 rows: narrow it"));
  options.max_rows = 10;
  auto resp = RunQuery(view_, req, options);
  OHFED_ASSERT_OK(resp);
  EXPECT_EQ(resp->rows_size(), 10);
}

// A heavy query (every staffing measure, every trust, ten years; by trust
// a ten-year range is answered for non-disclosive measures only) stops at
// the first check after its caller has gone, having done a sliver of the
// work. A query reads each (trust, month) unit once whatever the measures
// (aggregator/query_grid.h), so the full query reads 5 trusts x 120 months
// and the cancelled one at most the units of the 3 trusts it evaluated.
TEST_F(QueryLimitsTest, CancelledQueryStopsEarly) {
  v1::QueryRequest req = Request("2017-01:2026-12", "staffing", "trust");
  OHFED_ASSERT_OK(RunQuery(view_, req));
  const int64_t full = view_.reads.exchange(0);
  ASSERT_EQ(full, 5 * 120);

  int checks = 0;
  QueryOptions options;
  options.cancelled = [&] { return ++checks > 3; };
  EXPECT_THAT(RunQuery(view_, req, options),
              StatusIs(absl::StatusCode::kCancelled,
                       "the caller has gone or its deadline has passed"));
  EXPECT_EQ(checks, 4);
  // 3 of its 140 (measure, trust) pairs: at most those 3 trusts' units.
  EXPECT_LE(view_.reads.load(), 3 * 120);
}

// The service's poll costs a pass through gRPC's completion queue, so it
// is polled at most every cancelled_poll_interval: within an interval no
// later than the query takes, only the first check polls.
TEST_F(QueryLimitsTest, CancellationIsPolledAtMostOncePerInterval) {
  v1::QueryRequest req = Request("2017-01:2026-12", "staffing", "trust");
  int checks = 0;
  QueryOptions options;
  options.cancelled = [&] { return ++checks > 1; };
  options.cancelled_poll_interval = absl::Hours(1);
  OHFED_ASSERT_OK(RunQuery(view_, req, options));
  EXPECT_EQ(checks, 1);
  v1::CompletenessRequest completeness;
  completeness.set_scope("national");
  completeness.set_period("2017-01:2026-12");
  checks = 0;
  OHFED_ASSERT_OK(RunCompleteness(view_, completeness, absl::Now(), options));
  EXPECT_EQ(checks, 1);
}

TEST_F(QueryLimitsTest, CancelledCompletenessStopsEarly) {
  v1::CompletenessRequest req;
  req.set_scope("national");
  req.set_period("2017-01:2026-12");
  int checks = 0;
  QueryOptions options;
  options.cancelled = [&] { return ++checks > 2; };
  EXPECT_THAT(RunCompleteness(view_, req, absl::Now(), options),
              StatusIs(absl::StatusCode::kCancelled, "query abandoned"));
  EXPECT_EQ(checks, 3);
}

}  // namespace
}  // namespace ohfed::aggregator
