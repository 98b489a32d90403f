#include "common/metrics.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/metrics_server.h"
#include "common/process_metrics.h"
#include "common/uploader_metrics.h"
#include "tests/testing/http.h"
#include "tests/testing/testing.h"

namespace ohfed::metrics {
namespace {

using ::ohfed::testing::IsOk;
using ::ohfed::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, ExposesCountersGaugesAndHistogramsInTextFormat) {
  Registry r;
  r.GetCounter("t_events_total", "Events, by kind.", {{"kind", "a\"b\\c\nd"}})
      .Inc(3);
  r.GetGauge("t_queue", "Queue length.").Set(2.5);
  Histogram& h = r.GetHistogram("t_latency_seconds", "Latency.", {1, 2});
  h.Observe(0.5);
  h.Observe(2);  // `le` is inclusive
  h.Observe(3);
  EXPECT_EQ(r.Expose(),
            "# HELP t_events_total Events, by kind.\n"
            "# TYPE t_events_total counter\n"
            "t_events_total{kind=\"a\\\"b\\\\c\\nd\"} 3\n"
            "# HELP t_latency_seconds Latency.\n"
            "# TYPE t_latency_seconds histogram\n"
            "t_latency_seconds_bucket{le=\"1\"} 1\n"
            "t_latency_seconds_bucket{le=\"2\"} 2\n"
            "t_latency_seconds_bucket{le=\"+Inf\"} 3\n"
            "t_latency_seconds_sum 5.5\n"
            "t_latency_seconds_count 3\n"
            "# HELP t_queue Queue length.\n"
            "# TYPE t_queue gauge\n"
            "t_queue 2.5\n");
}

TEST(MetricsTest, HelpEscapesBackslashAndNewlineOnly) {
  Registry r;
  r.GetGauge("t_g", "a \"quoted\" back\\slash\nnewline");
  EXPECT_THAT(r.Expose(),
              HasSubstr("# HELP t_g a \"quoted\" back\\\\slash\\nnewline\n"));
}

TEST(MetricsTest, FormatsValuesShortestExact) {
  EXPECT_EQ(FormatValue(3), "3");
  EXPECT_EQ(FormatValue(0.0005), "0.0005");
  EXPECT_EQ(FormatValue(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
}

TEST(MetricsTest, SameLabelsGiveTheSameSeries) {
  Registry r;
  Counter& a = r.GetCounter("t_total", "T.", {{"k", "x"}});
  Counter& b = r.GetCounter("t_total", "T.", {{"k", "x"}});
  EXPECT_EQ(&a, &b);
  a.Inc();
  b.Inc();
  EXPECT_THAT(r.Expose(), HasSubstr("t_total{k=\"x\"} 2\n"));
}

TEST(MetricsTest, LabelSetsBeyondTheCapShareAnOtherSeries) {
  Registry r;
  for (size_t i = 0; i < kMaxSeriesPerFamily + 10; ++i) {
    r.GetCounter("t_total", "T.", {{"k", absl::StrCat("v", i)}}).Inc();
  }
  const std::string text = r.Expose();
  EXPECT_THAT(text, HasSubstr("t_total{k=\"other\"} 10\n"));
  EXPECT_THAT(text,
              Not(HasSubstr(absl::StrCat("k=\"v", kMaxSeriesPerFamily, "\""))));
}

TEST(MetricsTest, CollectorsRunAtEachExposeUntilTheirHandleGoes) {
  Registry r;
  double value = 1;
  auto handle = r.AddCollector([&value](std::vector<Family>& out) {
    out.push_back(Family{"t_collected", "Collected.", "gauge", {{{}, value}}});
  });
  EXPECT_THAT(r.Expose(), HasSubstr("t_collected 1\n"));
  value = 7;
  EXPECT_THAT(r.Expose(), HasSubstr("t_collected 7\n"));
  handle.reset();
  EXPECT_EQ(r.Expose(), "");
}

TEST(MetricsTest, ProcessFamiliesAreReported) {
  std::vector<Family> families;
  CollectProcess(families);
  std::vector<std::string> names;
  for (const Family& f : families) names.push_back(f.name);
  EXPECT_THAT(names, ::testing::IsSupersetOf(
                         {"process_resident_memory_bytes", "process_open_fds",
                          "process_max_fds", "process_start_time_seconds"}));
  for (const Family& f : families) {
    if (f.name == "process_resident_memory_bytes") {
      EXPECT_GT(f.samples.at(0).second, 0);
    }
  }
}

double Sample(const std::vector<Family>& families, const std::string& name) {
  for (const Family& f : families) {
    if (f.name == name) return f.samples.at(0).second;
  }
  ADD_FAILURE() << "no family " << name;
  return -1;
}

TEST(UploaderMetricsTest, OldestProducedSkipsSummariesWithoutATime) {
  std::vector<v1::UnitSummary> summaries(3);
  summaries[0].set_produced_unix_ms(9000);
  summaries[2].set_produced_unix_ms(7000);
  EXPECT_EQ(OldestProduced(summaries), absl::FromUnixMillis(7000));
  EXPECT_EQ(OldestProduced({}), absl::InfiniteFuture());
}

TEST(UploaderMetricsTest, LagIsZeroWhenDrainedElseTimeSinceTheLastAck) {
  const absl::Time since = absl::FromUnixSeconds(1000);
  const absl::Time now = absl::FromUnixSeconds(5000);
  const absl::Time produced = absl::FromUnixSeconds(500);
  UploaderStats stats;
  std::vector<Family> out;
  CollectUploader(stats, 0, produced, now, since, out);
  EXPECT_EQ(Sample(out, "ohfed_outbox_pending"), 0);
  EXPECT_EQ(Sample(out, "ohfed_outbox_oldest_pending_age_seconds"), 0);
  EXPECT_EQ(Sample(out, "ohfed_upstream_lag_seconds"), 0);
  EXPECT_EQ(Sample(out, "ohfed_upstream_last_ack_timestamp_seconds"), 0);
  out.clear();
  CollectUploader(stats, 3, produced, now, since, out);  // never acked
  EXPECT_EQ(Sample(out, "ohfed_outbox_pending"), 3);
  EXPECT_EQ(Sample(out, "ohfed_outbox_oldest_pending_age_seconds"), 4500);
  EXPECT_EQ(Sample(out, "ohfed_upstream_lag_seconds"), 4000);
  out.clear();
  stats.last_ack = absl::FromUnixSeconds(4000);
  CollectUploader(stats, 3, produced, now, since, out);
  EXPECT_EQ(Sample(out, "ohfed_upstream_lag_seconds"), 1000);
  EXPECT_EQ(Sample(out, "ohfed_upstream_last_ack_timestamp_seconds"), 4000);
}

TEST(MetricsServerTest, ServesMetricsOnlyAtTheMetricsPath) {
  Registry r;
  r.GetCounter("t_served_total", "Served.").Inc(4);
  auto server = MetricsServer::Start("127.0.0.1:0", &r);
  ASSERT_THAT(server, IsOk());
  const int port = (*server)->port();
  EXPECT_EQ((*server)->address(), absl::StrCat("127.0.0.1:", port));
  auto got = testing::HttpGet(port, "/metrics");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->content_type, kMetricsContentType);
  EXPECT_THAT(got->body, HasSubstr("t_served_total 4\n"));
  auto other = testing::HttpGet(port, "/");
  ASSERT_THAT(other, IsOk());
  EXPECT_EQ(other->status, 404);
}

TEST(MetricsServerTest, RefusesAMalformedAddressNamingIt) {
  Registry r;
  EXPECT_THAT(MetricsServer::Start("localhost", &r),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--metrics localhost: expected HOST:PORT"));
  EXPECT_THAT(MetricsServer::Start("127.0.0.1:99999", &r),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--metrics 127.0.0.1:99999: expected HOST:PORT"));
}

TEST(MetricsServerTest, RefusesAPortInUse) {
  Registry r;
  auto first = MetricsServer::Start("127.0.0.1:0", &r);
  ASSERT_THAT(first, IsOk());
  const std::string taken = absl::StrCat("127.0.0.1:", (*first)->port());
  EXPECT_THAT(MetricsServer::Start(taken, &r),
              StatusIs(absl::StatusCode::kUnavailable,
                       "cannot serve metrics on " + taken));
}

}  // namespace
}  // namespace ohfed::metrics
