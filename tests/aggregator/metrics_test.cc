// The aggregator's /metrics (aggregator/aggregator_metrics.h) in-process:
// rejections counted by reason class, ingest outcomes, group commits, RPC
// latency per method, and one last-receipt series per trust inside --covers,
// aged by the injected clock.
#include <algorithm>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "aggregator/aggregator.h"
#include "aggregator/aggregator_metrics.h"
#include "common/clock.h"
#include "common/status.h"
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
                              "\"/ohfed.v1.Ingest/Submit\",code=\"OK\"} 1\n"));
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

// The value of the series `series` (name and labels) in exposition `text`;
// -1 when it is not there.
double Value(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, series + " ")) {
      double v = -1;
      return absl::SimpleAtod(line, &v) ? v : -1;
    }
  }
  return -1;
}

const char* const kStreamEnds[] = {
    "ok",         "stream_limit",  "unauthorized",
    "unparsable", "batch_refused", "idle_timeout",
    "peer_gone"};

std::string Ended(const std::string& reason) {
  return absl::StrCat("ohfed_ingest_streams_ended_total{reason=\"", reason,
                      "\"}");
}

// ohfed_ingest_streams_ended_total{reason}: a real stream ended each way,
// and after each exactly that reason's series moved by one.
TEST(AggregatorMetricsTest, CountsIngestStreamsEndedByReason) {
  ::ohfed::testing::TempDir dir;
  AggregatorOptions options = testing::LoopbackOptions(dir.File("db"));
  options.ingest.max_streams_per_peer = 1;
  options.ingest.idle_timeout = absl::Milliseconds(300);
  auto aggregator = Aggregator::Start(options);
  OHFED_ASSERT_OK(aggregator);
  auto metrics = ServeAggregatorMetrics("127.0.0.1:0", aggregator->get());
  OHFED_ASSERT_OK(metrics);
  auto scrape = [&] {
    auto got =
        ::ohfed::testing::HttpGet((*metrics)->server->port(), "/metrics");
    return got.ok() ? got->body : "";
  };
  // Counters are process-wide: other tests' streams count too.
  std::map<std::string, double> expected;
  const std::string first = scrape();
  for (const char* r : kStreamEnds) expected[r] = Value(first, Ended(r));
  for (const char* r : kStreamEnds) ASSERT_GE(expected[r], 0) << r;
  // After a stream ended by `reason`: awaits its count (the handler counts
  // as it returns, which a cancelled client does not wait for), then checks
  // every series.
  auto expect_ended = [&](const std::string& reason) {
    ++expected[reason];
    std::string text = scrape();
    for (int i = 0; i < 500 && Value(text, Ended(reason)) < expected[reason];
         ++i) {
      absl::SleepFor(absl::Milliseconds(20));
      text = scrape();
    }
    for (const char* r : kStreamEnds) {
      EXPECT_THAT(
          text, HasSubstr(absl::StrCat("\n", Ended(r), " ", expected[r], "\n")))
          << "after a stream ended by " << reason;
    }
  };

  auto channel = MakeChannel((*aggregator)->address(), {.insecure = true});
  OHFED_ASSERT_OK(channel);
  auto ingest = v1::Ingest::NewStub(*channel);
  v1::SubmitRequest one;
  *one.add_summaries() = Summary("RJ1", "2026-03", 1, {{kImm, 10}});
  std::vector<v1::SubmitResponse> responses;
  OHFED_ASSERT_OK(FromGrpc(testing::SendBatches(*ingest, {one}, &responses)));
  expect_ended("ok");

  v1::SubmitRequest too_many;
  for (int i = 0; i <= kMaxSummariesPerBatch; ++i) {
    *too_many.add_summaries() = Summary("RJ1", "2026-03", 1, {{kImm, 1}});
  }
  EXPECT_EQ(testing::SendBatches(*ingest, {too_many}, &responses).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  expect_ended("batch_refused");

  // Raw messages, as a peer without the schema (or a hostile one) sends.
  auto send_raw = [&](const std::string& bytes) {
    static const grpc::internal::RpcMethod kSubmit(
        "/ohfed.v1.Ingest/Submit", grpc::internal::RpcMethod::BIDI_STREAMING);
    grpc::ClientContext ctx;
    std::unique_ptr<
        grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>>
        raw(grpc::internal::ClientReaderWriterFactory<
            grpc::ByteBuffer, grpc::ByteBuffer>::Create(channel->get(), kSubmit,
                                                        &ctx));
    grpc::Slice slice(bytes);
    raw->Write(grpc::ByteBuffer(&slice, 1));
    raw->WritesDone();
    return raw->Finish().error_code();
  };
  EXPECT_EQ(send_raw("\xff\xff\xff"), grpc::StatusCode::INVALID_ARGUMENT);
  expect_ended("unparsable");
  // Over the message limit: gRPC refuses it before the handler sees it.
  EXPECT_EQ(send_raw(std::string(kMaxMessageBytes + 1, 'x')),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  expect_ended("peer_gone");

  {  // one stream open (its first batch acked), a second one refused
    grpc::ClientContext ctx;
    auto open = ingest->Submit(&ctx);
    ASSERT_TRUE(open->Write(one));
    v1::SubmitResponse ack;
    ASSERT_TRUE(open->Read(&ack));
    EXPECT_EQ(testing::SendBatches(*ingest, {one}, &responses).error_code(),
              grpc::StatusCode::RESOURCE_EXHAUSTED);
    expect_ended("stream_limit");
    ctx.TryCancel();  // the sender goes away mid-stream
    open->Finish();
  }
  expect_ended("peer_gone");

  {  // a stream that sends nothing is ended after --stream-idle-timeout
    grpc::ClientContext ctx;
    auto idle = ingest->Submit(&ctx);
    v1::SubmitResponse nothing;
    EXPECT_FALSE(idle->Read(&nothing));
    idle->Finish();
  }
  expect_ended("idle_timeout");
  metrics->reset();
}

}  // namespace
}  // namespace ohfed::aggregator
