// The aggregator's /metrics (aggregator/aggregator_metrics.h) in-process:
// rejections counted by reason class, ingest outcomes, group commits, RPC
// latency per method, and one last-receipt series per trust inside --covers,
// aged by the injected clock.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "aggregator/aggregator.h"
#include "aggregator/aggregator_metrics.h"
#include "common/clock.h"
#include "common/transport.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/http.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::Summary;
using ::testing::HasSubstr;
using ::testing::Not;

const char kImm[] = "activity.count.immunisation";

TEST(AggregatorMetricsTest, CountsOutcomesAndRejectionsByReasonClass) {
  ::ohfed::testing::TempDir dir;
  FakeClock clock(absl::FromCivil(absl::CivilSecond(2026, 5, 1, 12, 0, 0),
                                  absl::UTCTimeZone()));
  AggregatorOptions options = testing::LoopbackOptions(dir.File("db"));
  options.covers = "region:Y56";
  options.store.clock = &clock;
  auto aggregator = Aggregator::Start(options);
  OHFED_ASSERT_OK(aggregator);
  auto metrics =
      ServeAggregatorMetrics("127.0.0.1:0", aggregator->get(), &clock);
  OHFED_ASSERT_OK(metrics);

  auto channel = MakeChannel((*aggregator)->address(), {.insecure = true});
  OHFED_ASSERT_OK(channel);
  auto ingest = v1::Ingest::NewStub(*channel);
  v1::SubmitRequest batch;
  *batch.add_summaries() = Summary("RJ1", "2026-03", 1, {{kImm, 10}});
  *batch.add_summaries() = Summary("RJ2", "2026-03", 1, {{"x.y", 1}});
  *batch.add_summaries() = Summary("RX1", "2026-03", 1, {{kImm, 1}});
  std::vector<v1::SubmitResponse> responses;
  ASSERT_TRUE(testing::SendBatches(*ingest, {batch}, &responses).ok());
  clock.Advance(absl::Hours(1));

  auto got = ::ohfed::testing::HttpGet((*metrics)->server->port(), "/metrics");
  OHFED_ASSERT_OK(got);
  const std::string& text = got->body;
  EXPECT_THAT(text, HasSubstr("\nohfed_summaries_received_total 3\n"));
  EXPECT_THAT(text, HasSubstr("\nohfed_summaries_accepted_total 1\n"));
  EXPECT_THAT(
      text,
      HasSubstr("\nohfed_summaries_rejected_total{reason=\"invalid\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("\nohfed_summaries_rejected_total{reason="
                              "\"outside_coverage\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("\nohfed_summaries_rejected_total{reason="
                              "\"not_permitted\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("\nohfed_store_commit_group_summaries_sum 1\n"));
  EXPECT_THAT(text, HasSubstr("\nohfed_rpc_duration_seconds_count{method="
                              "\"/ohfed.v1.Ingest/Submit\"} 1\n"));
  EXPECT_THAT(
      text, HasSubstr("\nohfed_trust_last_received_age_seconds{trust=\"RJ1\"} "
                      "3600\n"));
  // One timestamp series per trust inside --covers, none outside it.
  const std::vector<std::string> london =
      (*aggregator)
          ->store()
          .registry()
          .Latest()
          .TrustsIn((*aggregator)->store().coverage().scope());
  const std::vector<std::string> lines = absl::StrSplit(text, '\n');
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) {
                            return l.starts_with(
                                "ohfed_trust_last_received_timestamp_seconds{");
                          }),
            static_cast<long>(london.size()));
  EXPECT_THAT(text, Not(HasSubstr("trust=\"RX1\"")));
  metrics->reset();
}

// A regional aggregator whose upstream does not answer: its forwarder's
// outbox, the age of the oldest pending summary and the upstream lag.
TEST(AggregatorMetricsTest, ReportsTheForwardersOutboxAndLag) {
  ::ohfed::testing::TempDir dir;
  const absl::Time start = absl::FromCivil(
      absl::CivilSecond(2026, 5, 1, 12, 0, 0), absl::UTCTimeZone());
  FakeClock clock(start);
  AggregatorOptions options = testing::LoopbackOptions(dir.File("db"));
  options.covers = "region:Y56";
  options.upstream =
      absl::StrCat("127.0.0.1:", ::ohfed::testing::PickUnusedPort());
  options.store.clock = &clock;
  auto aggregator = Aggregator::Start(options);
  OHFED_ASSERT_OK(aggregator);
  auto metrics =
      ServeAggregatorMetrics("127.0.0.1:0", aggregator->get(), &clock);
  OHFED_ASSERT_OK(metrics);

  auto channel = MakeChannel((*aggregator)->address(), {.insecure = true});
  OHFED_ASSERT_OK(channel);
  auto ingest = v1::Ingest::NewStub(*channel);
  v1::SubmitRequest batch;
  v1::UnitSummary s = Summary("RJ1", "2026-03", 1, {{kImm, 10}});
  s.set_produced_unix_ms(absl::ToUnixMillis(start - absl::Minutes(30)));
  *batch.add_summaries() = s;
  std::vector<v1::SubmitResponse> responses;
  ASSERT_TRUE(testing::SendBatches(*ingest, {batch}, &responses).ok());
  clock.Advance(absl::Hours(1));

  auto got = ::ohfed::testing::HttpGet((*metrics)->server->port(), "/metrics");
  OHFED_ASSERT_OK(got);
  EXPECT_THAT(got->body, HasSubstr("\nohfed_outbox_pending 1\n"));
  EXPECT_THAT(got->body,
              HasSubstr("\nohfed_outbox_oldest_pending_age_seconds 5400\n"));
  EXPECT_THAT(got->body, HasSubstr("\nohfed_upstream_lag_seconds 3600\n"));
  EXPECT_THAT(got->body,
              HasSubstr("\nohfed_upstream_last_ack_timestamp_seconds 0\n"));
  EXPECT_THAT(got->body, HasSubstr("\nohfed_upstream_refused 0\n"));
  metrics->reset();
}

}  // namespace
}  // namespace ohfed::aggregator
