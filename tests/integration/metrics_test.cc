// `--metrics` on the real binaries: an aggregator and an agent that has sent
// one summary serve /metrics that `promtool check metrics` accepts, and a
// real Prometheus (Debian's `prometheus`, on a free loopback port with its
// own config and data directory) scrapes both and answers a PromQL query for
// the counter the upload moved. promtool and prometheus come from
// deploy/install-deps.sh.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "tests/testing/http.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::CommandResult;
using ::ohfed::testing::HttpGet;
using ::ohfed::testing::IsOk;
using ::ohfed::testing::RunCommand;
using ::ohfed::testing::Subprocess;
using ::testing::HasSubstr;

std::string Addr(int port) { return absl::StrCat("127.0.0.1:", port); }

// The path of `name` on $PATH (Subprocess execs without a search), or "".
std::string Which(const std::string& name) {
  const char* path = getenv("PATH");
  for (absl::string_view dir :
       absl::StrSplit(path ? path : "/usr/bin:/bin", ':')) {
    std::string candidate = absl::StrCat(dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Polls `f` (returning true when done) every 100 ms, at most `tries` times.
template <class F>
bool Await(int tries, F f) {
  for (int i = 0; i < tries; ++i) {
    if (f()) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return false;
}

class MetricsBinariesTest : public ::testing::Test {
 protected:
  // An aggregator and an agent, both with --metrics, and one summary (RJ1,
  // 2026-03) sent and acknowledged.
  void SetUp() override {
    const int port = testing::PickUnusedPort();
    aggregator_metrics_ = testing::PickUnusedPort();
    agent_metrics_ = testing::PickUnusedPort();
    auto aggregator =
        Subprocess::Start({OHFED_AGGREGATOR_BIN, "--listen", Addr(port),
                           "--data", dir_.File("agg"), "--insecure",
                           "--metrics", Addr(aggregator_metrics_)},
                          dir_.File("agg.log"));
    ASSERT_THAT(aggregator, IsOk());
    aggregator_ = std::move(*aggregator);
    OHFED_ASSERT_OK(testing::WaitForPort(port, absl::Seconds(30)));
    const std::string socket = dir_.File("agent/agent.sock");
    auto agent = Subprocess::Start(
        {OHFED_AGENT_BIN, "--trust", "RJ1", "--data", dir_.File("agent"),
         "--aggregator", Addr(port), "--insecure", "--metrics",
         Addr(agent_metrics_), "--initial-backoff-ms", "250",
         "--max-backoff-seconds", "7"},
        dir_.File("agent.log"));
    ASSERT_THAT(agent, IsOk());
    agent_ = std::move(*agent);
    OHFED_ASSERT_OK(testing::WaitForPort(agent_metrics_, absl::Seconds(30)));
    ASSERT_TRUE(std::filesystem::exists(socket));  // serving before metrics
    CommandResult set = *RunCommand({OHFED_CLI_BIN, "--agent", socket, "set",
                                     "2026-03", "staffing.wte.admin", "2.5"});
    ASSERT_EQ(set.exit_code, 0) << set.err;
    CommandResult sync = *RunCommand(
        {OHFED_CLI_BIN, "--agent", socket, "sync", "--timeout", "60"});
    ASSERT_EQ(sync.exit_code, 0) << sync.err;
  }

  std::string Scrape(int port) {
    auto got = HttpGet(port, "/metrics");
    EXPECT_THAT(got, IsOk());
    if (!got.ok()) return "";
    EXPECT_EQ(got->status, 200);
    return got->body;
  }

  // promtool check metrics on `text`: its exit code and output.
  CommandResult Promtool(const std::string& name, const std::string& text) {
    const std::string file = dir_.Write(name, text);
    auto r = RunCommand(
        {"/bin/sh", "-c", "promtool check metrics < '" + file + "' 2>&1"});
    EXPECT_THAT(r, IsOk());
    return r.ok() ? *r : CommandResult{};
  }

  testing::TempDir dir_;
  int aggregator_metrics_ = 0, agent_metrics_ = 0;
  std::unique_ptr<Subprocess> aggregator_, agent_;
};

TEST_F(MetricsBinariesTest, PromtoolAcceptsWhatBothDaemonsServe) {
  const std::string aggregator = Scrape(aggregator_metrics_);
  EXPECT_THAT(aggregator, HasSubstr("\nohfed_summaries_accepted_total 1\n"));
  EXPECT_THAT(aggregator, HasSubstr("\nohfed_summaries_received_total 1\n"));
  EXPECT_THAT(
      aggregator,
      HasSubstr("\nohfed_summaries_rejected_total{reason=\"invalid\"} 0\n"));
  EXPECT_THAT(aggregator,
              HasSubstr("ohfed_rpc_duration_seconds_count{method=\"/ohfed.v1."
                        "Ingest/Submit\",code=\"OK\"} "));
  EXPECT_THAT(aggregator,
              HasSubstr("\nohfed_ingest_streams_ended_total{reason=\"ok\"} "));
  EXPECT_THAT(
      aggregator,
      HasSubstr("ohfed_trust_last_received_age_seconds{trust=\"RJ1\"} "));
  EXPECT_THAT(aggregator, HasSubstr("\nohfed_rocksdb_live_sst_files_bytes "));
  EXPECT_THAT(aggregator, HasSubstr("\nprocess_resident_memory_bytes "));
  CommandResult checked = Promtool("aggregator.prom", aggregator);
  EXPECT_EQ(checked.exit_code, 0) << checked.out;

  const std::string agent = Scrape(agent_metrics_);
  EXPECT_THAT(agent, HasSubstr("\nohfed_outbox_pending 0\n"));
  EXPECT_THAT(agent, HasSubstr("\nohfed_upstream_lag_seconds 0\n"));
  EXPECT_THAT(agent,
              HasSubstr("\nohfed_outbox_oldest_pending_age_seconds 0\n"));
  EXPECT_THAT(agent,
              HasSubstr("ohfed_upload_acks_total{outcome=\"accepted\"} 1\n"));
  EXPECT_THAT(agent, HasSubstr("ohfed_rocksdb_synced_write_seconds_count "));
  EXPECT_THAT(agent, HasSubstr("\nprocess_open_fds "));
  // --initial-backoff-ms and --max-backoff-seconds set its retry schedule.
  EXPECT_THAT(agent,
              HasSubstr("\nohfed_upstream_backoff_initial_seconds 0.25\n"));
  EXPECT_THAT(agent, HasSubstr("\nohfed_upstream_backoff_max_seconds 7\n"));
  EXPECT_THAT(agent, HasSubstr("\nohfed_upstream_retry_backoff_seconds 0\n"));
  checked = Promtool("agent.prom", agent);
  EXPECT_EQ(checked.exit_code, 0) << checked.out;
}

TEST_F(MetricsBinariesTest, PrometheusScrapesBothAndAnswersPromQl) {
  const int port = testing::PickUnusedPort();
  const std::string config = dir_.Write(
      "prometheus.yml", absl::StrCat("global:\n"
                                     "  scrape_interval: 1s\n"
                                     "  evaluation_interval: 1s\n"
                                     "scrape_configs:\n"
                                     "  - job_name: ohfed-aggregator\n"
                                     "    static_configs:\n"
                                     "      - targets: ['",
                                     Addr(aggregator_metrics_),
                                     "']\n"
                                     "  - job_name: ohfed-agent\n"
                                     "    static_configs:\n"
                                     "      - targets: ['",
                                     Addr(agent_metrics_), "']\n"));
  const std::string binary = Which("prometheus");
  ASSERT_NE(binary, "") << "prometheus not on PATH: run deploy/install-deps.sh";
  auto prometheus = Subprocess::Start(
      {binary, "--config.file=" + config,
       "--storage.tsdb.path=" + dir_.File("tsdb"),
       "--web.listen-address=" + Addr(port), "--log.level=warn"},
      dir_.File("prometheus.log"));
  ASSERT_THAT(prometheus, IsOk());

  // The value of a single-sample instant query, or "" while there is none.
  auto query = [port](const std::string& promql) -> std::string {
    auto got = HttpGet(port, "/api/v1/query?query=" + promql, absl::Seconds(5));
    if (!got.ok() || got->status != 200) return "";
    auto json = nlohmann::json::parse(got->body, nullptr, false);
    if (json.is_discarded() || json["status"] != "success") return "";
    const auto& result = json["data"]["result"];
    if (!result.is_array() || result.size() != 1) return "";
    return result[0]["value"][1].get<std::string>();
  };
  std::string accepted, agent_acks;
  // Bounded: 60 s for Prometheus to start and scrape both targets.
  Await(600, [&] {
    accepted = query("ohfed_summaries_accepted_total");
    agent_acks = query("ohfed_upload_acks_total%7Boutcome%3D%22accepted%22%7D");
    return accepted == "1" && agent_acks == "1";
  });
  EXPECT_EQ(accepted, "1") << ReadFile(dir_.File("prometheus.log"));
  EXPECT_EQ(agent_acks, "1");
  EXPECT_EQ(query("up%7Bjob%3D%22ohfed-agent%22%7D"), "1");

  (*prometheus)->Signal(SIGTERM);
  auto exited = (*prometheus)->Wait(absl::Seconds(30));
  EXPECT_THAT(exited, IsOk());  // else the destructor kills it
}

TEST(MetricsFlagTest, AMalformedAddressStopsTheDaemonNamingIt) {
  testing::TempDir dir;
  CommandResult r =
      *RunCommand({OHFED_AGGREGATOR_BIN, "--listen", "127.0.0.1:0", "--data",
                   dir.File("agg"), "--insecure", "--metrics", "localhost"},
                  absl::Seconds(30));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--metrics localhost: expected HOST:PORT"));
}

}  // namespace
}  // namespace ohfed
