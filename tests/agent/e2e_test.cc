// End to end with the real binaries: `ohfed-agent` started as a process and
// driven by the real `ohfed` CLI over its unix socket, sending to an
// in-process Ingest sink on loopback. Covers import, status, show, set,
// sync, help, failures, SIGTERM, and kill -9 during an import.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/sample_data.h"
#include "cli/agent_client.h"
#include "common/transport.h"
#include "common/version.h"
#include "tests/testing/fake_ingest.h"
#include "tests/testing/sanitizer_run.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed::agent {
namespace {

using ::ohfed::testing::CommandResult;
using ::ohfed::testing::RunCommand;
using ::ohfed::testing::Subprocess;
using ::testing::HasSubstr;
using ::testing::Not;

// The agent runs on the test clock (OHFED_TEST_NOW, set here before any test
// starts a binary), so the months below do not depend on the machine's date.
const Month kLast = Month::Containing(testing::UseTestNowForBinaries()) - 1;
const Month kFirst = kLast - 5;

class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    files_ = agent::MakeSampleData("RJ1", kFirst, kLast, 7);
    OHFED_ASSERT_OK(agent::WriteSampleData(files_, dir_.path()));
  }

  std::unique_ptr<Subprocess> StartAgent(const std::string& data) {
    std::string socket = data + "/agent.sock";
    auto p =
        Subprocess::Start({OHFED_AGENT_BIN, "--trust", "RJ1", "--data", data,
                           "--aggregator", sink_.address(), "--insecure"},
                          data + ".log");
    EXPECT_TRUE(p.ok());
    // Ready once it answers: a killed agent's stale socket file exists
    // before the new one replaces it.
    auto client = AgentClient::Connect(socket);
    bool ready = false;
    for (int i = 0; i < 500 && !ready; ++i) {
      ready = std::filesystem::exists(socket) && client->Status().ok();
      if (!ready) absl::SleepFor(absl::Milliseconds(10));
    }
    EXPECT_TRUE(ready) << socket;
    return p.ok() ? std::move(*p) : nullptr;
  }

  CommandResult Cli(const std::string& data, std::vector<std::string> args) {
    std::vector<std::string> argv = {OHFED_CLI_BIN, "--agent",
                                     data + "/agent.sock"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunCommand(argv, absl::Seconds(60));
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : CommandResult();
  }

  void ImportAll(const std::string& data) {
    for (const char* kind : {"staffing", "activity", "profile"}) {
      // Random sample data has outliers; they are not the point here.
      CommandResult r =
          Cli(data, {"import", kind, dir_.File(std::string(kind) + ".csv"),
                     "--accept-outliers"});
      ASSERT_EQ(r.exit_code, 0) << kind << ": " << r.err;
    }
  }

  // Every local summary, by period, straight from the agent.
  std::map<std::string, v1::UnitSummary> Summaries(const std::string& data) {
    std::map<std::string, v1::UnitSummary> out;
    auto client = AgentClient::Connect(data + "/agent.sock");
    auto status = client->Status();
    EXPECT_TRUE(status.ok()) << status.status();
    if (!status.ok()) return out;
    for (const auto& p : status->periods())
      out[p.period()] = *client->Summary(p.period());
    return out;
  }

  static void ExpectOneLine(const CommandResult& r) {
    EXPECT_NE(r.exit_code, 0);
    EXPECT_FALSE(r.err.empty());
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }

  testing::TempDir dir_;
  testing::IngestServer sink_;
  agent::SampleFiles files_;
};

TEST_F(E2eTest, ImportStatusShowSetSyncAndCleanShutdown) {
  std::string data = dir_.File("agent");
  auto agent = StartAgent(data);
  ImportAll(data);
  // Re-importing is harmless.
  CommandResult again =
      Cli(data, {"import", "activity", dir_.File("activity.csv")});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.out, HasSubstr("0 imported"));
  EXPECT_THAT(again.out, HasSubstr("periods changed: none"));

  std::string month = kLast.ToString();
  CommandResult set =
      Cli(data, {"set", month, "staffing.wte.nurse_general", "2.5"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  CommandResult show = Cli(data, {"show", month});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("staffing.wte.nurse_general"));
  bool found = false;
  for (absl::string_view line : absl::StrSplit(show.out, '\n')) {
    if (absl::StartsWith(line, "staffing.wte.nurse_general ")) {
      found = true;
      EXPECT_THAT(std::string(line), HasSubstr(" 2.5 "));
    }
  }
  EXPECT_TRUE(found) << show.out;
  CommandResult year = Cli(data, {"set", absl::StrCat(kLast.year()),
                                  "profile.host_type", "ambulance"});
  EXPECT_EQ(year.exit_code, 0) << year.err;

  CommandResult sync = Cli(data, {"sync", "--timeout", "30"});
  EXPECT_EQ(sync.exit_code, 0) << sync.err;
  auto mine = Summaries(data);
  auto held = sink_.ingest().held();
  EXPECT_EQ(held.size(), mine.size());
  for (const auto& [period, s] : mine) {
    EXPECT_EQ(held["RJ1/" + period].SerializeAsString(), s.SerializeAsString());
  }

  CommandResult status = Cli(data, {"status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("RJ1"));
  EXPECT_THAT(status.out, HasSubstr(sink_.address()));
  EXPECT_THAT(status.out, HasSubstr(month + "   current"));
  EXPECT_THAT(status.out, Not(HasSubstr("pending")));
  CommandResult periods = Cli(data, {"periods"});
  EXPECT_THAT(periods.out, HasSubstr(kFirst.ToString()));

  agent->Signal(SIGTERM);
  auto code = agent->Wait(absl::Seconds(20));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  EXPECT_FALSE(std::filesystem::exists(data + "/agent.sock"));
}

TEST_F(E2eTest, FailuresExitNonZeroWithOneLine) {
  std::string data = dir_.File("agent");
  auto agent = StartAgent(data);
  std::string bad =
      dir_.Write("bad.csv", "period,staff_group,wte\n2026-01,admin,x\n");
  CommandResult r = Cli(data, {"import", "staffing", bad});
  ExpectOneLine(r);
  EXPECT_THAT(r.err, HasSubstr("rejected"));
  EXPECT_THAT(r.err, HasSubstr("line 2, column wte"));
  ExpectOneLine(Cli(data, {"import", "staffing", dir_.File("missing.csv")}));
  // A file larger than one control message is streamed: not refused for
  // its size, but for what it holds (here, no line break at all).
  std::string huge =
      dir_.Write("huge.csv", std::string(kMaxImportBytes + 1, 'x'));
  CommandResult too_big = Cli(data, {"import", "activity", huge});
  ExpectOneLine(too_big);
  EXPECT_THAT(too_big.err, HasSubstr("huge.csv line 1: a record longer than"));
  ExpectOneLine(Cli(data, {"set", "2026-01", "staffing.wte.admin", "lots"}));
  ExpectOneLine(Cli(data, {"show", "1999-01"}));
  ExpectOneLine(Cli(dir_.File("nowhere"), {"status"}));
  EXPECT_THAT(Cli(dir_.File("nowhere"), {"status"}).err,
              HasSubstr("cannot reach the agent"));

  sink_.ingest().set_faults({.reject_trust = "RJ1"});
  ASSERT_EQ(
      Cli(data, {"import", "profile", dir_.File("profile.csv")}).exit_code, 0);
  CommandResult sync = Cli(data, {"sync", "--timeout", "20"});
  ExpectOneLine(sync);
  EXPECT_THAT(sync.err, HasSubstr("rejected"));
  EXPECT_THAT(sync.err, HasSubstr("unknown trust 'RJ1'"));
  CommandResult status = Cli(data, {"status"});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_THAT(status.out, HasSubstr("rejected"));
  EXPECT_THAT(status.out, HasSubstr("unknown trust 'RJ1'"));
}

TEST_F(E2eTest, ImportReportsAreCappedAndSkippingEverythingFails) {
  std::string data = dir_.File("agent");
  auto agent = StartAgent(data);
  std::string csv = "period,staff_group,wte\n";
  for (int i = 0; i < 1200; ++i) csv += "2026-01,admin,x\n";
  std::string bad = dir_.Write("bad.csv", csv);
  CommandResult skipped =
      Cli(data, {"import", "staffing", bad, "--skip-invalid"});
  ExpectOneLine(skipped);
  EXPECT_THAT(skipped.err, HasSubstr("nothing imported from " + bad +
                                     ": all 1200 rows were skipped"));
  EXPECT_THAT(skipped.out, HasSubstr("skipped: line 1001, column wte"));
  EXPECT_THAT(skipped.out, HasSubstr("\n... and 200 more\n"));
  EXPECT_THAT(skipped.out, Not(HasSubstr("line 1002,")));
}

TEST_F(E2eTest, HelpExplainsTheFiles) {
  // The long file help on `help` and `import --help` only.
  for (std::vector<std::string> args :
       {std::vector<std::string>{"help"}, {"import", "--help"}}) {
    CommandResult r = Cli(dir_.path(), args);
    EXPECT_EQ(r.exit_code, 0);
    for (const char* text : {"period,staff_group,wte,basis,post_id",
                             "date,activity,client_org,subject_ref,wait_days",
                             "year,question,answer", "import", "sync", "status",
                             "ohfed confirm"}) {
      EXPECT_THAT(r.out, HasSubstr(text)) << args[0];
    }
  }
  CommandResult top = Cli(dir_.path(), {"--help"});
  EXPECT_EQ(top.exit_code, 0);
  for (const char* text :
       {"import", "unset", "retract", "confirm", "query", "ohfed help"}) {
    EXPECT_THAT(top.out, HasSubstr(text));
  }
  for (std::vector<std::string> args : {std::vector<std::string>{"--help"},
                                        {"sync", "--help"},
                                        {"set", "--help"}}) {
    EXPECT_THAT(Cli(dir_.path(), args).out,
                Not(HasSubstr("period,staff_group,wte,basis,post_id")))
        << args[0];
  }
  CommandResult set = Cli(dir_.path(), {"set", "--help"});
  EXPECT_EQ(set.exit_code, 0);
  EXPECT_THAT(set.out, HasSubstr("profile.host_type acute"));
  CommandResult agent = *RunCommand({OHFED_AGENT_BIN, "--help"});
  EXPECT_EQ(agent.exit_code, 0);
  EXPECT_THAT(agent.out, HasSubstr("--aggregator"));
  CommandResult missing = *RunCommand({OHFED_AGENT_BIN, "--trust", "RJ1"});
  EXPECT_NE(missing.exit_code, 0);
}

TEST_F(E2eTest, KillDuringImportThenReimportConverges) {
  // Reference: a clean import into its own agent.
  std::string ref = dir_.File("reference");
  auto reference = StartAgent(ref);
  ImportAll(ref);
  auto expected = Summaries(ref);
  ASSERT_FALSE(expected.empty());

  // Kill -9 while imports are in flight, at a few points.
  std::string data = dir_.File("agent");
  for (int delay_ms : {0, 5, 40}) {
    auto agent = StartAgent(data);
    auto import =
        Subprocess::Start({OHFED_CLI_BIN, "--agent", data + "/agent.sock",
                           "import", "activity", dir_.File("activity.csv")},
                          dir_.File("import.log"));
    ASSERT_TRUE(import.ok());
    absl::SleepFor(absl::Milliseconds(delay_ms));
    agent->Signal(SIGKILL);
    ASSERT_TRUE(agent->Wait(absl::Seconds(10)).ok());
    (void)(*import)->Wait(absl::Seconds(30));
  }
  auto agent = StartAgent(data);
  ImportAll(data);
  auto got = Summaries(data);
  ASSERT_EQ(got.size(), expected.size());
  for (const auto& [period, s] : expected) {
    v1::UnitSummary a = s, b = got[period];
    for (auto* x : {&a, &b}) {
      x->clear_revision();
      x->clear_produced_unix_ms();
    }
    EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString()) << period;
  }

  // Kill -9 after an import: the restarted agent has the same summaries and
  // revisions, and a re-import changes nothing.
  agent->Signal(SIGKILL);
  ASSERT_TRUE(agent->Wait(absl::Seconds(10)).ok());
  agent = StartAgent(data);
  auto after = Summaries(data);
  for (const auto& [period, s] : got) {
    EXPECT_EQ(after[period].SerializeAsString(), s.SerializeAsString())
        << period;
  }
  for (const char* kind : {"staffing", "activity", "profile"}) {
    CommandResult r =
        Cli(data, {"import", kind, dir_.File(std::string(kind) + ".csv")});
    EXPECT_THAT(r.out, HasSubstr("periods changed: none")) << kind;
  }
  auto final = Summaries(data);
  for (const auto& [period, s] : got) {
    EXPECT_EQ(final[period].revision(), s.revision()) << period;
  }
}

TEST_F(E2eTest, VersionUnknownCommandAndInvalidPeriod) {
  for (const char* bin : {OHFED_CLI_BIN, OHFED_AGENT_BIN}) {
    CommandResult v = *RunCommand({bin, "--version"});
    EXPECT_EQ(v.exit_code, 0) << bin;
    EXPECT_THAT(v.out, HasSubstr(absl::StrCat(" ", Version()))) << bin;
  }
  CommandResult frob = Cli(dir_.path(), {"frobnicate"});
  ExpectOneLine(frob);
  EXPECT_THAT(frob.err, HasSubstr("unknown command 'frobnicate'"));

  std::string data = dir_.File("agent");
  auto agent = StartAgent(data);
  CommandResult show = Cli(data, {"show", "2026-13"});
  ExpectOneLine(show);
  EXPECT_THAT(show.err, HasSubstr("invalid period '2026-13'"));
  EXPECT_THAT(show.err, Not(HasSubstr("no data")));
}

TEST_F(E2eTest, UnknownTrustIsRefusedAtStart) {
  CommandResult r = *RunCommand({OHFED_AGENT_BIN, "--trust", "ZZZ9", "--data",
                                 dir_.File("agent"), "--aggregator",
                                 sink_.address(), "--insecure"});
  ExpectOneLine(r);
  EXPECT_THAT(r.err, HasSubstr("unknown trust code 'ZZZ9'"));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("agent/agent.sock")));
}

// --log-format json reaches the agent's start-up errors too, and its
// backoff flags are checked at start, naming the flag.
TEST_F(E2eTest, JsonLogFormatAndBackoffFlags) {
  std::vector<std::string> args = {
      OHFED_AGENT_BIN, "--trust",      "ZZZ9",          "--data",
      dir_.File("a"),  "--aggregator", sink_.address(), "--insecure"};
  std::vector<std::string> json = args;
  json.insert(json.end(), {"--log-format", "json"});
  CommandResult r = *RunCommand(json);
  ExpectOneLine(r);
  EXPECT_THAT(r.err, ::testing::StartsWith("{\"time\":\""));
  EXPECT_THAT(r.err, HasSubstr("\"level\":\"error\",\"component\":"
                               "\"ohfed-agent\",\"msg\":\"unknown trust "
                               "code 'ZZZ9'"));
  for (const char* flag : {"--initial-backoff-ms", "--max-backoff-seconds"}) {
    std::vector<std::string> bad = args;
    bad.insert(bad.end(), {flag, "0"});
    CommandResult refused = *RunCommand(bad);
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_THAT(refused.err, HasSubstr(flag));
  }
}

// Issue 8: start-up failures end with one line that names the cause.
TEST_F(E2eTest, StartUpFailuresNameTheCause) {
  const std::vector<std::string> base = {
      OHFED_AGENT_BIN,    "--trust",      "RJ1",           "--data",
      dir_.File("agent"), "--aggregator", sink_.address(), "--insecure"};
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = base;
    argv.insert(argv.end(), extra.begin(), extra.end());
    CommandResult r = *RunCommand(argv, absl::Seconds(30));
    ExpectOneLine(r);
    return r.err;
  };
  std::string long_socket = "/tmp/" + std::string(110, 's') + ".sock";
  EXPECT_THAT(run({"--socket", long_socket}),
              HasSubstr("longer than the 107 a unix socket allows"));
  EXPECT_THAT(run({"--socket", "/nonexistent-ohfed-dir/agent.sock"}),
              HasSubstr("directory /nonexistent-ohfed-dir"));
  // A misspelt key and a broken line in the config file are refused.
  std::string misspelt =
      dir_.Write("agent.toml", "trust = \"RJ1\"\ndta = \"/tmp/x\"\n");
  EXPECT_THAT(run({"--config", misspelt}), HasSubstr("unknown key 'dta'"));
  std::string broken = dir_.Write("broken.toml", "trust = \"RJ1\"\ninsecure\n");
  EXPECT_THAT(run({"--config", broken}),
              HasSubstr("line 2: expected key = value"));
}

// Issue 8: a second agent given RJ1's socket took it over.
TEST_F(E2eTest, SecondAgentCannotTakeOverALiveSocketOrDataDirectory) {
  std::string data = dir_.File("agent");
  auto agent = StartAgent(data);
  const std::string socket = data + "/agent.sock";
  CommandResult other = *RunCommand(
      {OHFED_AGENT_BIN, "--trust", "RV5", "--data", dir_.File("rv5"),
       "--aggregator", sink_.address(), "--insecure", "--socket", socket},
      absl::Seconds(30));
  ExpectOneLine(other);
  EXPECT_THAT(other.err,
              HasSubstr(absl::StrCat("socket ", socket, " is in use")));
  CommandResult status = Cli(data, {"status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("trust:       RJ1"));

  CommandResult same = *RunCommand(
      {OHFED_AGENT_BIN, "--trust", "RJ1", "--data", data, "--aggregator",
       sink_.address(), "--insecure", "--socket", dir_.File("second.sock")},
      absl::Seconds(30));
  ExpectOneLine(same);
  EXPECT_THAT(same.err, HasSubstr("is in use by another agent"));
  EXPECT_THAT(same.err, Not(HasSubstr("LOCK")));
  EXPECT_EQ(Cli(data, {"status"}).exit_code, 0);
}

TEST_F(E2eTest, CurrentMonthStaysOpenAndIsNotSent) {
  std::string data = dir_.File("agent");
  auto agent = StartAgent(data);
  const std::string current = (kLast + 1).ToString();
  const std::string last = kLast.ToString();
  ASSERT_EQ(Cli(data, {"set", current, "staffing.wte.admin", "2"}).exit_code,
            0);
  ASSERT_EQ(Cli(data, {"set", last, "staffing.wte.admin", "2"}).exit_code, 0);
  CommandResult sync = Cli(data, {"sync", "--timeout", "30"});
  EXPECT_EQ(sync.exit_code, 0) << sync.err;
  EXPECT_THAT(sync.out, HasSubstr("open months are sent once they end"));
  auto held = sink_.ingest().held();
  EXPECT_EQ(held.count("RJ1/" + last), 1u);
  EXPECT_EQ(held.count("RJ1/" + current), 0u);
  CommandResult status = Cli(data, {"status"});
  EXPECT_THAT(status.out, HasSubstr(current + "   open"));
  EXPECT_THAT(status.out, HasSubstr(last + "   current"));
}

TEST_F(E2eTest, HandEnteredValuesAreShownAndCanBeUnset) {
  std::string data = dir_.File("agent");
  auto agent = StartAgent(data);
  ImportAll(data);
  const std::string month = kLast.ToString();
  ASSERT_EQ(
      Cli(data, {"set", month, "staffing.wte.nurse_general", "2.5"}).exit_code,
      0);
  auto line_of = [](const std::string& text, absl::string_view start) {
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (absl::StartsWith(line, start)) return std::string(line);
    }
    return std::string();
  };
  CommandResult show = Cli(data, {"show", month});
  EXPECT_THAT(line_of(show.out, "staffing.wte.nurse_general "),
              HasSubstr("2.5 [set]"));
  EXPECT_THAT(line_of(show.out, "staffing.wte.admin "),
              Not(HasSubstr("[set]")));
  EXPECT_THAT(show.out, HasSubstr("[set] entered by hand"));
  CommandResult status = Cli(data, {"status"});
  EXPECT_THAT(line_of(status.out, month + " "),
              HasSubstr("set by hand: staffing.wte.nurse_general"));

  // A changed file for that month says the hand-entered value still wins.
  std::string changed = dir_.Write(
      "nurses.csv",
      absl::StrCat("period,staff_group,wte\n", month, ",nurse_general,3\n"));
  CommandResult import = Cli(data, {"import", "staffing", changed});
  EXPECT_EQ(import.exit_code, 0) << import.err;
  EXPECT_THAT(import.out, HasSubstr("keeps the value entered by hand (2.5)"));

  CommandResult unset =
      Cli(data, {"unset", month, "staffing.wte.nurse_general"});
  EXPECT_EQ(unset.exit_code, 0) << unset.err;
  show = Cli(data, {"show", month});
  EXPECT_THAT(line_of(show.out, "staffing.wte.nurse_general "),
              HasSubstr(" 3 "));
  EXPECT_THAT(show.out, Not(HasSubstr("[set]")));
}

TEST_F(E2eTest, RetractAndStatusOrder) {
  std::string data = dir_.File("agent");
  auto agent = StartAgent(data);
  ImportAll(data);
  const std::string month = kLast.ToString();
  CommandResult r = Cli(data, {"retract", month});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("retracted"));
  EXPECT_EQ(Cli(data, {"sync", "--timeout", "30"}).exit_code, 0);
  EXPECT_TRUE(sink_.ingest().held()["RJ1/" + month].retracted());
  CommandResult status = Cli(data, {"status"});
  EXPECT_THAT(status.out, HasSubstr("retracted"));
  CommandResult show = Cli(data, {"show", month});
  EXPECT_THAT(show.out, HasSubstr("withdrawn"));
  // Years after their months: a year's line follows its last month's.
  const std::string year = absl::StrCat(kLast.year());
  size_t year_at = status.out.find("\n" + year + " ");
  size_t month_at = status.out.find("\n" + month + " ");
  ASSERT_NE(year_at, std::string::npos) << status.out;
  EXPECT_GT(year_at, month_at);
}

TEST_F(E2eTest, OutlierMonthIsHeldUntilConfirmed) {
  std::string data = dir_.File("agent");
  auto agent = StartAgent(data);
  std::string history = "period,staff_group,wte\n";
  for (int i = 4; i >= 1; --i) {
    absl::StrAppend(&history, (kLast - i).ToString(), ",admin,", 8 - i, "\n");
  }
  ASSERT_EQ(
      Cli(data, {"import", "staffing", dir_.Write("h.csv", history)}).exit_code,
      0);
  const std::string month = kLast.ToString();
  std::string jump =
      absl::StrCat("period,staff_group,wte\n", month, ",admin,40\n");
  CommandResult import =
      Cli(data, {"import", "staffing", dir_.Write("j.csv", jump)});
  EXPECT_EQ(import.exit_code, 0) << import.err;
  EXPECT_THAT(import.out,
              HasSubstr("held for review (outlier warnings above): " + month));
  CommandResult status = Cli(data, {"status"});
  EXPECT_THAT(status.out, HasSubstr(month + "   held"));
  EXPECT_THAT(status.out, HasSubstr("more than twice the highest"));
  CommandResult sync = Cli(data, {"sync", "--timeout", "30"});
  ExpectOneLine(sync);
  EXPECT_THAT(sync.err, HasSubstr("1 held for outlier review, e.g. " + month));
  EXPECT_EQ(sink_.ingest().held().count("RJ1/" + month), 0u);

  CommandResult confirm = Cli(data, {"confirm", month});
  EXPECT_EQ(confirm.exit_code, 0) << confirm.err;
  EXPECT_EQ(Cli(data, {"sync", "--timeout", "30"}).exit_code, 0);
  EXPECT_EQ(sink_.ingest().held().count("RJ1/" + month), 1u);
}

// The agent's peak memory over an import does not grow with the largest
// month (it did when a month was one stored value, sorted and summarised
// whole: a month of 300,000 events peaked at 92 MiB). Generous: start-up
// alone reaches about 31 MiB (library pages, trimmed after).
TEST_F(E2eTest, AMonthOfManyEventsImportsInBoundedMemory) {
  if (!testing::SanitizerRun().empty()) {
    GTEST_SKIP() << "a sanitizer's shadow memory is not the agent's";
  }
  constexpr int kEvents = 400000;
  constexpr const char* kCodes[] = {"immunisation", "management_referral",
                                    "tb_screening", "workplace_visit"};
  std::map<std::string, int> counts;
  {
    std::ofstream csv(dir_.File("month.csv"));
    csv << "date,activity,client_org,subject_ref,wait_days\n";
    std::mt19937 rng(11);
    for (int i = 0; i < kEvents; ++i) {
      const char* code = kCodes[rng() % 4];
      ++counts[code];
      csv << kLast.ToString() << "-" << (10 + rng() % 19) << "," << code
          << ",,S" << rng() % 1000000 << ","
          << (code[0] == 'm' ? absl::StrCat(rng() % 60) : "") << "\n";
    }
  }
  std::string data = dir_.File("agent");
  auto agent = StartAgent(data);
  CommandResult r = Cli(data, {"import", "activity", dir_.File("month.csv"),
                               "--accept-outliers"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream status(absl::StrCat("/proc/", agent->pid(), "/status"));
  std::string line;
  int64_t peak_kib = -1;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmHWM:")) {
      peak_kib = std::stoll(line.substr(6));
    }
  }
  EXPECT_GT(peak_kib, 0);
  EXPECT_LT(peak_kib, 64 << 10) << "agent peak RSS, KiB";
  auto summaries = Summaries(data);
  const v1::UnitSummary& s = summaries[kLast.ToString()];
  std::map<std::string, int> got;
  for (const v1::Cell& c : s.cells()) {
    if (absl::StartsWith(c.measure(), "activity.count.")) {
      got[c.measure().substr(15)] = static_cast<int>(c.value());
    }
  }
  EXPECT_EQ(got, counts);
}

}  // namespace
}  // namespace ohfed::agent
