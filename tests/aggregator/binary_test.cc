// The real ohfed-aggregator binary: serves, survives SIGHUP, stops cleanly
// on SIGTERM and SIGINT with exit 0 keeping what it acknowledged, takes its
// flags from a config file, and refuses bad flags with a one-line reason.
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/token.h"
#include "common/transport.h"
#include "common/version.h"
#include "nlohmann/json.hpp"
#include "ohfed/v1/ohfed.grpc.pb.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/http.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::RunCommand;
using ::ohfed::testing::Subprocess;
using ::ohfed::testing::TempDir;
using ::testing::HasSubstr;

std::string FailsWith(std::vector<std::string> args);

class BinaryTest : public ::testing::Test {
 protected:
  // 2026-03 has ended on the aggregator's clock whatever the machine's date.
  void SetUp() override { ::ohfed::testing::UseTestNowForBinaries(); }

  std::unique_ptr<Subprocess> StartServer(std::vector<std::string> args) {
    std::vector<std::string> argv = {OHFED_AGGREGATOR_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = Subprocess::Start(argv, dir_.File("aggregator.log"));
    EXPECT_THAT(p, ::ohfed::testing::IsOk());
    EXPECT_THAT(::ohfed::testing::WaitForPort(port_, absl::Seconds(20)),
                ::ohfed::testing::IsOk());
    return p.ok() ? std::move(*p) : nullptr;
  }

  std::vector<std::string> Flags() {
    return {"--listen", absl::StrCat("127.0.0.1:", port_), "--data",
            dir_.File("data"), "--insecure"};
  }

  v1::Outcome SubmitOne(uint64_t revision, const std::string& trust = "RJ1") {
    auto channel =
        *MakeChannel(absl::StrCat("127.0.0.1:", port_), {.insecure = true});
    auto stub = v1::Ingest::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    auto stream = stub->Submit(&ctx);
    v1::SubmitRequest req;
    *req.add_summaries() = aggregator::testing::Summary(
        trust, "2026-03", revision, {{"activity.count.immunisation", 4}});
    v1::SubmitResponse resp;
    EXPECT_TRUE(stream->Write(req));
    EXPECT_TRUE(stream->Read(&resp));
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
    return resp.acks_size() == 1 ? resp.acks(0).outcome()
                                 : v1::OUTCOME_UNSPECIFIED;
  }

  // Region:Y56's immunisations in 2026-03 as answered: "*" or the value.
  std::string RegionShows() {
    auto channel =
        *MakeChannel(absl::StrCat("127.0.0.1:", port_), {.insecure = true});
    auto stub = v1::Query::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::QueryRequest req;
    req.set_scope("region:Y56");
    req.set_period("2026-03");
    req.set_measure_prefix("activity.count.immunisation");
    v1::QueryResponse resp;
    grpc::Status status = stub->Query(&ctx, req, &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (resp.rows_size() != 1) return "no row";
    return resp.rows(0).suppressed() ? "*" : absl::StrCat(resp.rows(0).value());
  }

  TempDir dir_;
  int port_ = ::ohfed::testing::PickUnusedPort();
};

// Disclosure thresholds (SPEC §7) are configuration: a count of 4 below
// national is "*" by default, and rounded to 5 once only 1..3 are hidden.
TEST_F(BinaryTest, DisclosureThresholdsComeFromFlagsAndConfig) {
  auto server = StartServer(Flags());
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(SubmitOne(1), v1::OUTCOME_ACCEPTED);
  EXPECT_EQ(RegionShows(), "*");
  server->Signal(SIGTERM);
  OHFED_ASSERT_OK(server->Wait(absl::Seconds(20)));

  std::string config = dir_.Write(
      "disclosure.toml",
      absl::StrCat("listen = \"127.0.0.1:", port_, "\"\ndata = \"",
                   dir_.File("data"), "\"\ninsecure = true\n",
                   "suppress-max = 3\nrounding-base = 5\nmin-events = 8\n"));
  server = StartServer({"--config", config});
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(RegionShows(), "5");
  server->Signal(SIGTERM);
  OHFED_ASSERT_OK(server->Wait(absl::Seconds(20)));

  std::vector<std::string> zero = Flags();
  zero.insert(zero.end(), {"--rounding-base", "0"});
  zero[3] = dir_.File("data2");
  EXPECT_THAT(FailsWith(zero), HasSubstr("rounding-base"));
}

TEST_F(BinaryTest, SigtermExitsZeroAndAcknowledgedDataSurvives) {
  auto server = StartServer(Flags());
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(SubmitOne(2), v1::OUTCOME_ACCEPTED);
  server->Signal(SIGHUP);  // not a stop signal: still serving afterwards
  EXPECT_EQ(SubmitOne(2), v1::OUTCOME_STALE);
  server->Signal(SIGTERM);
  auto code = server->Wait(absl::Seconds(20));
  OHFED_ASSERT_OK(code);
  EXPECT_EQ(*code, 0);
  // Restarted (this time stopped with SIGINT), it still holds revision 2.
  server = StartServer(Flags());
  EXPECT_EQ(SubmitOne(2), v1::OUTCOME_STALE);
  server->Signal(SIGINT);
  code = server->Wait(absl::Seconds(20));
  OHFED_ASSERT_OK(code);
  EXPECT_EQ(*code, 0);
}

TEST_F(BinaryTest, SigtermExitsZeroWhileUpstreamIsUnreachable) {
  std::vector<std::string> flags = Flags();
  flags.push_back("--upstream");
  flags.push_back(
      absl::StrCat("127.0.0.1:", ::ohfed::testing::PickUnusedPort()));
  auto server = StartServer(flags);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(SubmitOne(1), v1::OUTCOME_ACCEPTED);  // durable here, pending there
  server->Signal(SIGTERM);
  auto code = server->Wait(absl::Seconds(20));
  OHFED_ASSERT_OK(code);
  EXPECT_EQ(*code, 0);
}

TEST_F(BinaryTest, ConfigFileProvidesEveryFlag) {
  std::string config =
      dir_.Write("aggregator.toml",
                 absl::StrCat("listen = \"127.0.0.1:", port_, "\"\ndata = \"",
                              dir_.File("data"), "\"\ninsecure = true\n",
                              "rebuild-rollups = true\n"));
  auto server = StartServer({"--config", config});
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(SubmitOne(1), v1::OUTCOME_ACCEPTED);
  server->Signal(SIGTERM);
  auto code = server->Wait(absl::Seconds(20));
  OHFED_ASSERT_OK(code);
  EXPECT_EQ(*code, 0);
}

// --log-format json: every stderr line is one JSON object with time, level,
// component and msg, and a trust code a peer chose (a newline and a quote in
// it) stays inside one msg rather than starting a line of its own.
TEST_F(BinaryTest, JsonLogsAreOneObjectPerLineEvenForHostileInput) {
  std::vector<std::string> flags = Flags();
  flags.insert(flags.end(), {"--log-format", "json"});
  auto server = StartServer(flags);
  ASSERT_NE(server, nullptr);
  const std::string hostile = "Z\"Z\n2026-03-15T00:00:00Z info forged";
  EXPECT_EQ(SubmitOne(1, hostile), v1::OUTCOME_REJECTED);
  server->Signal(SIGTERM);
  OHFED_ASSERT_OK(server->Wait(absl::Seconds(20)));

  std::ifstream in(dir_.File("aggregator.log"));
  std::string text(std::istreambuf_iterator<char>(in), {});
  std::vector<std::string> lines =
      absl::StrSplit(text, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 2u) << text;
  int hostile_lines = 0, raw_lines = 0;
  for (const std::string& line : lines) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    for (const char* field : {"time", "level", "component", "msg"}) {
      EXPECT_TRUE(j.contains(field) && j[field].is_string())
          << field << " in " << line;
    }
    EXPECT_THAT(j.value("time", ""), ::testing::EndsWith("Z")) << line;
    EXPECT_EQ(j.value("component", ""), "ohfed-aggregator") << line;
    if (absl::StrContains(j.value("msg", ""), "forged")) ++hostile_lines;
    // Escaped once, by the log: the reader gets the trust code as sent,
    // not "Z\\\"Z\\n..." (escaped by the ingest service, then again).
    if (absl::StrContains(j.value("msg", ""), "rejected " + hostile)) {
      ++raw_lines;
    }
  }
  EXPECT_EQ(hostile_lines, 1) << text;
  EXPECT_EQ(raw_lines, 1) << text;
  EXPECT_EQ(nlohmann::json::parse(lines.back())["msg"], "stopped");
}

// The tuning keys of deploy/config (issue 11): group commit delay, upstream
// backoff and log format are flags and config keys, checked at start.
TEST_F(BinaryTest, TuningKeysAreAcceptedFromConfigAndCheckedAtStart) {
  std::string config = dir_.Write(
      "tuning.conf",
      absl::StrCat(
          "listen = \"127.0.0.1:", port_, "\"\ndata = \"", dir_.File("data"),
          "\"\ninsecure = true\n", "group-commit-delay-ms = 2\n",
          "upstream-initial-backoff-ms = 50\n",
          "upstream-max-backoff-seconds = 5\nlog-format = \"json\"\n"));
  auto server = StartServer({"--config", config});
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(SubmitOne(1), v1::OUTCOME_ACCEPTED);
  server->Signal(SIGTERM);
  OHFED_ASSERT_OK(server->Wait(absl::Seconds(20)));

  std::vector<std::string> base = {"--listen", "127.0.0.1:0", "--data",
                                   dir_.File("d"), "--insecure"};
  auto with = [&](std::string flag, std::string value) {
    std::vector<std::string> args = base;
    args.insert(args.end(), {flag, value});
    return FailsWith(args);
  };
  EXPECT_THAT(with("--group-commit-delay-ms", "5000"),
              HasSubstr("group-commit-delay-ms"));
  EXPECT_THAT(with("--upstream-initial-backoff-ms", "0"),
              HasSubstr("upstream-initial-backoff-ms"));
  EXPECT_THAT(with("--upstream-max-backoff-seconds", "-1"),
              HasSubstr("upstream-max-backoff-seconds"));
  EXPECT_THAT(with("--log-format", "xml"), HasSubstr("log-format"));
}

// --upstream-initial-backoff-ms and --upstream-max-backoff-seconds reach
// the upstream uploader: its retry schedule (common/uploader.h; the
// schedule itself is tested in UploaderTest.BackoffOptionsSetTheRetry-
// Schedule) reports them on /metrics.
TEST_F(BinaryTest, UpstreamBackoffFlagsSetTheUploadersSchedule) {
  const int metrics = ::ohfed::testing::PickUnusedPort();
  std::vector<std::string> flags = Flags();
  flags.insert(
      flags.end(),
      {"--upstream",
       absl::StrCat("127.0.0.1:", ::ohfed::testing::PickUnusedPort()),
       "--upstream-initial-backoff-ms", "250", "--upstream-max-backoff-seconds",
       "7", "--metrics", absl::StrCat("127.0.0.1:", metrics)});
  auto server = StartServer(flags);
  ASSERT_NE(server, nullptr);
  OHFED_ASSERT_OK(::ohfed::testing::WaitForPort(metrics, absl::Seconds(20)));
  auto got = ::ohfed::testing::HttpGet(metrics, "/metrics");
  OHFED_ASSERT_OK(got);
  EXPECT_THAT(got->body,
              HasSubstr("\nohfed_upstream_backoff_initial_seconds 0.25\n"));
  EXPECT_THAT(got->body, HasSubstr("\nohfed_upstream_backoff_max_seconds 7\n"));
  server->Signal(SIGTERM);
  OHFED_EXPECT_OK(server->Wait(absl::Seconds(20)));
}

// Runs the binary expecting a start-up failure with a one-line reason.
std::string FailsWith(std::vector<std::string> args) {
  args.insert(args.begin(), OHFED_AGGREGATOR_BIN);
  auto r = RunCommand(args, absl::Seconds(20));
  EXPECT_THAT(r, ::ohfed::testing::IsOk());
  if (!r.ok()) return "";
  EXPECT_NE(r->exit_code, 0) << r->err;
  std::vector<std::string> lines =
      absl::StrSplit(r->err, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 1u) << r->err;
  return r->err;
}

// The systemd units set OHFED_LOG_FORMAT=journal; a log-format key in the
// config file (or the flag) wins over it. (No journal listens here, so
// journal entries would be text lines: json and text tell them apart.)
TEST_F(BinaryTest, LogFormatComesFromTheEnvironmentUnlessTheConfigSetsIt) {
  const std::vector<std::string> args = {
      "--listen",     "127.0.0.1:0", "--data",
      dir_.File("d"), "--registry",  "/nonexistent-registry.csv"};
  setenv("OHFED_LOG_FORMAT", "json", 1);
  absl::Cleanup unset = [] { unsetenv("OHFED_LOG_FORMAT"); };
  EXPECT_THAT(FailsWith(args), ::testing::StartsWith("{\"time\":"));
  std::vector<std::string> with_config = args;
  with_config.insert(
      with_config.end(),
      {"--config", dir_.Write("text.conf", "log-format = \"text\"\n")});
  EXPECT_THAT(FailsWith(with_config),
              ::testing::ContainsRegex("^[-0-9T:.]+Z error ohfed-aggregator: "
                                       "registry file or folder /nonexistent"));
}

TEST_F(BinaryTest, BadFlagsFailWithOneLineReason) {
  EXPECT_THAT(FailsWith({"--listen", "127.0.0.1:0", "--data", dir_.File("d"),
                         "--bogus"}),
              HasSubstr("bogus"));
  EXPECT_THAT(FailsWith({"--listen", "127.0.0.1:1"}), HasSubstr("--data"));
  EXPECT_THAT(FailsWith({"--listen", "0.0.0.0:0", "--data", dir_.File("d"),
                         "--insecure"}),
              HasSubstr("insecure"));
  EXPECT_THAT(FailsWith({"--listen", "127.0.0.1:0", "--data", dir_.File("d"),
                         "--insecure", "--registry", dir_.File("missing.csv")}),
              HasSubstr("missing.csv"));
}

// gRPC turns SO_REUSEPORT on by default: a second aggregator on the same
// port used to "listen" too and take half the connections.
TEST_F(BinaryTest, PortInUseIsRefusedNamingThePort) {
  auto first = StartServer(Flags());
  ASSERT_NE(first, nullptr);
  std::vector<std::string> flags = Flags();
  flags[3] = dir_.File("data2");  // its own data, the same port
  EXPECT_THAT(FailsWith(flags),
              HasSubstr(absl::StrCat("port ", port_, " is already in use")));
  EXPECT_EQ(SubmitOne(1), v1::OUTCOME_ACCEPTED);  // the first still serves
}

// malloc is tcmalloc's when the build links it (OHFED_TCMALLOC, the
// default: aggregator/CMakeLists.txt); the heap keeper's tests prove the
// keeper works on it.
TEST_F(BinaryTest, RunsOnTcmallocWhenTheBuildLinksIt) {
  std::unique_ptr<Subprocess> server = StartServer(Flags());
  ASSERT_NE(server, nullptr);
  std::ifstream maps(absl::StrCat("/proc/", server->pid(), "/maps"));
  std::stringstream text;
  text << maps.rdbuf();
  EXPECT_EQ(absl::StrContains(text.str(), "libtcmalloc_minimal"),
            OHFED_AGGREGATOR_TCMALLOC != 0);
}

TEST_F(BinaryTest, VersionIsTheProjectVersion) {
  auto r = RunCommand({OHFED_AGGREGATOR_BIN, "--version"}, absl::Seconds(20));
  OHFED_ASSERT_OK(r);
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out, absl::StrCat("ohfed-aggregator ", Version(), "\n"));
}

TEST_F(BinaryTest, MalformedListenAddressIsSaidSo) {
  std::string err =
      FailsWith({"--listen", "7494", "--data", dir_.File("d"), "--insecure"});
  EXPECT_THAT(err, HasSubstr("malformed address '7494'"));
  EXPECT_THAT(err, ::testing::Not(HasSubstr("loopback")));
}

TEST_F(BinaryTest, ConfigFileWithUnknownKeyOrBrokenLineIsRefused) {
  std::string misspelt = dir_.Write(
      "misspelt.toml", absl::StrCat("listen = \"127.0.0.1:0\"\ndta = \"",
                                    dir_.File("d"), "\"\ninsecure = true\n"));
  EXPECT_THAT(FailsWith({"--config", misspelt}),
              HasSubstr("unknown key 'dta'"));
  std::string broken =
      dir_.Write("broken.toml",
                 "listen = \"127.0.0.1:0\"\ninsecure = true\ndata \"/tmp/x\n");
  EXPECT_THAT(FailsWith({"--config", broken}),
              HasSubstr("line 3: expected key = value"));
  EXPECT_THAT(FailsWith({"--config", dir_.File("absent.toml")}),
              HasSubstr("absent.toml"));
}

// Issue 9: --tokens (config key `tokens`) is checked at start, a malformed
// line refused naming it; without it an --insecure aggregator says once
// that queries are unauthenticated.
TEST_F(BinaryTest, TokensFileIsCheckedAtStartAndOpenModeIsSaid) {
  std::string bad =
      dir_.Write("bad-tokens",
                 *TokensFileLine("t", "national", "") + "\nohfed_x ics:QKK\n");
  std::string config = dir_.Write(
      "tokens.toml",
      absl::StrCat("listen = \"127.0.0.1:0\"\ndata = \"", dir_.File("d"),
                   "\"\ninsecure = true\n", "tokens = \"", bad, "\"\n"));
  EXPECT_THAT(
      FailsWith({"--config", config}),
      HasSubstr(absl::StrCat("tokens file ", bad,
                             " line 2: 'ohfed_x' is not a token hash")));

  auto read_log = [&] {
    std::ifstream in(dir_.File("aggregator.log"));
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  {
    auto open = StartServer(Flags());
    ASSERT_NE(open, nullptr);
    open->Signal(SIGTERM);
    OHFED_ASSERT_OK(open->Wait(absl::Seconds(20)));
  }
  std::string log = read_log();
  EXPECT_THAT(log, HasSubstr("queries are unauthenticated"));
  EXPECT_EQ(log.find("queries are unauthenticated"),
            log.rfind("queries are unauthenticated"));

  std::string good =
      dir_.Write("tokens", *TokensFileLine("t", "national", "") + "\n");
  std::vector<std::string> flags = Flags();
  flags.push_back("--tokens");
  flags.push_back(good);
  auto guarded = StartServer(flags);
  ASSERT_NE(guarded, nullptr);
  guarded->Signal(SIGTERM);
  OHFED_ASSERT_OK(guarded->Wait(absl::Seconds(20)));
  const std::string second = read_log().substr(log.size());  // appended
  EXPECT_THAT(second, HasSubstr("1 query tokens from " + good));
  EXPECT_THAT(second, ::testing::Not(HasSubstr("queries are unauthenticated")));
}

// OHFED_TEST_NOW (test only, common/clock.h) is the aggregator's "now": on
// 2026-03-15 March has not ended and its summary is refused; on the tests'
// usual date it is taken. Its use is logged; a value that is not a time
// stops the aggregator naming the variable.
TEST_F(BinaryTest, TestClockFromEnvironmentDecidesWhatHasEnded) {
  absl::Cleanup restore = [] {
    setenv(kTestNowVariable, ::ohfed::testing::kTestNow, 1);
  };
  setenv(kTestNowVariable, "2026-03-15T00:00:00Z", 1);
  auto march = StartServer(Flags());
  ASSERT_NE(march, nullptr);
  EXPECT_EQ(SubmitOne(2), v1::OUTCOME_REJECTED);
  march->Signal(SIGTERM);
  OHFED_ASSERT_OK(march->Wait(absl::Seconds(20)));
  std::ifstream in(dir_.File("aggregator.log"));
  std::stringstream log;
  log << in.rdbuf();
  EXPECT_THAT(log.str(),
              HasSubstr("WARNING: OHFED_TEST_NOW=2026-03-15T00:00:00Z is set"));
  EXPECT_THAT(log.str(), HasSubstr("never set it in production"));

  setenv(kTestNowVariable, ::ohfed::testing::kTestNow, 1);
  auto november = StartServer(Flags());
  ASSERT_NE(november, nullptr);
  EXPECT_EQ(SubmitOne(2), v1::OUTCOME_ACCEPTED);
  november->Signal(SIGTERM);
  OHFED_ASSERT_OK(november->Wait(absl::Seconds(20)));

  setenv(kTestNowVariable, "next tuesday", 1);
  EXPECT_THAT(FailsWith(Flags()),
              HasSubstr("OHFED_TEST_NOW is not a time like "
                        "2026-11-26T00:00:00Z: 'next tuesday'"));
}

}  // namespace
}  // namespace ohfed
