// Corruption with the real binaries (issue 13): an ohfed-aggregator whose
// table gets a flipped byte is restarted; it starts, says what it found in
// one log line, and once its agents have resent what was lost its views
// equal what they were. A store it cannot recover stops it with exit code
// 65 (kExitDamagedStore, which systemd does not restart) and one line.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/sample_data.h"
#include "common/db_recovery.h"
#include "ohfed/v1/ohfed.grpc.pb.h"
#include "tests/testing/db_damage.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::CommandResult;
using ::ohfed::testing::RunCommand;
using ::ohfed::testing::Subprocess;
using ::testing::HasSubstr;

const absl::Time kNow = testing::UseTestNowForBinaries();
const Month kLast = Month::Containing(kNow) - 1;
const Month kFirst = kLast - 11;
const std::vector<std::string> kTrusts = {"RJ1", "RAL"};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The lines of `text` that contain `needle`.
std::vector<std::string> LinesWith(const std::string& text,
                                   const std::string& needle) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StrContains(line, needle)) out.emplace_back(line);
  }
  return out;
}

class CorruptionProcessTest : public ::testing::Test {
 protected:
  void SetUp() override { port_ = testing::PickUnusedPort(); }

  std::string Addr() const { return absl::StrCat("127.0.0.1:", port_); }
  std::string AggregatorData() const { return root_.File("aggregator"); }
  std::string AggregatorLog() const { return root_.File("aggregator.log"); }

  std::unique_ptr<Subprocess> StartAggregator() {
    auto p = Subprocess::Start({OHFED_AGGREGATOR_BIN, "--listen", Addr(),
                                "--data", AggregatorData(), "--insecure"},
                               AggregatorLog());
    EXPECT_TRUE(p.ok());
    EXPECT_THAT(testing::WaitForPort(port_, absl::Seconds(30)),
                testing::IsOk());
    return p.ok() ? std::move(*p) : nullptr;
  }

  void StartAgent(const std::string& trust) {
    const std::string dir = root_.File("agent_" + trust);
    std::filesystem::create_directories(dir);
    OHFED_ASSERT_OK(agent::WriteSampleData(
        agent::MakeSampleData(trust, kFirst, kLast), dir));
    auto p = Subprocess::Start(
        {OHFED_AGENT_BIN, "--trust", trust, "--data", dir, "--aggregator",
         agents_to_.empty() ? Addr() : agents_to_, "--insecure"},
        dir + ".log");
    ASSERT_TRUE(p.ok());
    agents_[trust] = std::move(*p);
    for (int i = 0; i < 1500 && !std::filesystem::exists(dir + "/agent.sock");
         ++i) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    for (const char* kind : {"staffing", "activity", "profile"}) {
      CommandResult r = Cli(trust, {"import", kind, dir + "/" + kind + ".csv",
                                    "--accept-outliers"});
      ASSERT_EQ(r.exit_code, 0) << trust << " " << kind << ": " << r.err;
    }
  }

  CommandResult Cli(const std::string& trust, std::vector<std::string> args) {
    std::vector<std::string> argv = {
        OHFED_CLI_BIN, "--agent", root_.File("agent_" + trust) + "/agent.sock"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunCommand(argv, absl::Seconds(90));
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : CommandResult();
  }

  void SyncAll() {
    for (const std::string& t : kTrusts) {
      CommandResult r = Cli(t, {"sync", "--timeout", "60"});
      ASSERT_EQ(r.exit_code, 0) << t << ": " << r.err << r.out;
    }
  }

  // The national view the test compares: per trust and month, the revision
  // held and whether the trust is unconfirmed; and the national sums of
  // every activity count over the year.
  struct ViewOf {
    std::map<std::string, uint64_t> revisions;  // "trust|month"
    std::map<std::string, bool> unconfirmed;    // by trust
    std::string warning;
    std::string sums;  // the query's rows, serialized
  };

  // At `addr` (default: this aggregator) for `scope`; the sums are always
  // national, so ask an aggregator that covers England.
  ViewOf View(std::string addr = "", const std::string& scope = "national") {
    if (addr.empty()) addr = Addr();
    auto channel =
        grpc::CreateChannel(addr, grpc::InsecureChannelCredentials());
    auto stub = v1::Query::NewStub(channel);
    ViewOf out;
    v1::CompletenessRequest c;
    c.set_scope(scope);
    c.set_period(absl::StrCat(kFirst.ToString(), ":", kLast.ToString()));
    v1::CompletenessResponse cr;
    grpc::ClientContext cctx;
    cctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    grpc::Status cs = stub->Completeness(&cctx, c, &cr);
    EXPECT_TRUE(cs.ok()) << cs.error_message();
    out.warning = cr.warning();
    for (const v1::PeriodCompleteness& p : cr.periods()) {
      for (const v1::TrustCompleteness& t : p.trusts()) {
        if (std::find(kTrusts.begin(), kTrusts.end(), t.trust()) ==
            kTrusts.end()) {
          continue;
        }
        out.revisions[absl::StrCat(t.trust(), "|", p.period())] = t.revision();
        out.unconfirmed[t.trust()] = t.unconfirmed();
      }
    }
    if (scope != "national") return out;
    v1::QueryRequest q;
    q.set_scope("national");
    q.set_period(c.period());
    q.set_by("self");
    q.set_measure_prefix("activity.count");
    v1::QueryResponse qr;
    grpc::ClientContext qctx;
    qctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    grpc::Status qs = stub->Query(&qctx, q, &qr);
    EXPECT_TRUE(qs.ok()) << qs.error_message();
    qr.clear_warning();
    out.sums = qr.SerializeAsString();
    return out;
  }

  // The warning of a national query for one trust's figures.
  std::string TrustWarning(const std::string& trust) {
    auto stub = v1::Query::NewStub(
        grpc::CreateChannel(Addr(), grpc::InsecureChannelCredentials()));
    v1::QueryRequest q;
    q.set_scope("trust:" + trust);
    q.set_period(kLast.ToString());
    q.set_measure_prefix("activity.count");
    v1::QueryResponse r;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    grpc::Status s = stub->Query(&ctx, q, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return r.warning();
  }

  testing::TempDir root_;
  int port_ = 0;
  std::string agents_to_;  // where agents send; empty: this aggregator
  std::map<std::string, std::unique_ptr<Subprocess>> agents_;
};

TEST_F(CorruptionProcessTest, FlippedByteAtTheAggregatorIsResentByAgents) {
  std::unique_ptr<Subprocess> aggregator = StartAggregator();
  for (const std::string& t : kTrusts) StartAgent(t);
  SyncAll();
  const ViewOf truth = View();
  ASSERT_EQ(truth.revisions.size(), 12 * kTrusts.size());

  aggregator->Signal(SIGTERM);
  ASSERT_THAT(aggregator->Wait(absl::Seconds(30)), testing::IsOk());
  testing::FlushDb(AggregatorData());
  const std::string sst = testing::NewestDbFile(AggregatorData(), ".sst");
  // The last data block: the last units ("u/RJ1/..").
  testing::FlipByte(sst, testing::DataBlockBytes(sst) - 40);

  aggregator = StartAggregator();
  const std::vector<std::string> found =
      LinesWith(ReadAll(AggregatorLog()), "was damaged and recovered");
  ASSERT_EQ(found.size(), 1u) << ReadAll(AggregatorLog());
  EXPECT_THAT(found[0], HasSubstr(std::filesystem::path(sst).filename()));
  EXPECT_THAT(found[0], HasSubstr("checksum mismatch"));
  EXPECT_THAT(found[0], HasSubstr("rollups rebuilt"));
  // England's other trusts have no agent: the national view stays flagged.
  EXPECT_THAT(View().warning, HasSubstr("damaged and recovered"));
  auto cli = RunCommand({OHFED_CLI_BIN, "query", "--aggregator", Addr(),
                         "--insecure", "--scope", "national", "--period",
                         kLast.ToString(), "--measures", "completeness"});
  ASSERT_TRUE(cli.ok());
  EXPECT_EQ(cli->exit_code, 0) << cli->err;
  EXPECT_THAT(cli->err, HasSubstr("ohfed query: warning: this aggregator's "
                                  "store was damaged and recovered"));

  // The agents compare at their next sync and resend what was lost.
  SyncAll();
  ViewOf now;
  for (int i = 0; i < 300; ++i) {
    now = View();
    if (now.revisions == truth.revisions && !now.unconfirmed["RJ1"] &&
        !now.unconfirmed["RAL"]) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(now.revisions, truth.revisions);
  EXPECT_EQ(now.sums, truth.sums);
  EXPECT_FALSE(now.unconfirmed["RJ1"]);
  EXPECT_FALSE(now.unconfirmed["RAL"]);
  // Something was lost, and resent because the aggregator listed what it
  // holds.
  std::string agent_logs;
  for (const std::string& t : kTrusts) {
    agent_logs += ReadAll(root_.File("agent_" + t) + ".log");
  }
  EXPECT_THAT(agent_logs, HasSubstr("no longer holds"));
}

// The national store is damaged; the agents send to a regional aggregator,
// whose forwarder asks the national one what it still holds once it can
// reach it again (Ingest.Feedback per trust), resends what was lost and asks
// again, which confirms the trusts. Before, only agents asked their own
// aggregator: the national view stayed partial and flagged for good.
TEST_F(CorruptionProcessTest, DamagedNationalStoreIsRefilledByTheRegional) {
  const int regional_port = testing::PickUnusedPort();
  const std::string regional_addr = absl::StrCat("127.0.0.1:", regional_port);
  const std::string regional_log = root_.File("regional.log");
  std::unique_ptr<Subprocess> national = StartAggregator();
  auto regional = Subprocess::Start(
      {OHFED_AGGREGATOR_BIN, "--listen", regional_addr, "--data",
       root_.File("regional"), "--insecure", "--upstream", Addr(), "--covers",
       "region:Y56", "--upstream-initial-backoff-ms", "50",
       "--upstream-max-backoff-seconds", "1"},
      regional_log);
  ASSERT_TRUE(regional.ok());
  ASSERT_THAT(testing::WaitForPort(regional_port, absl::Seconds(30)),
              testing::IsOk());
  agents_to_ = regional_addr;
  for (const std::string& t : kTrusts) StartAgent(t);
  SyncAll();
  // The regional view is the agents' (they synced to it); wait until the
  // national one has it all.
  auto at_regional = [&] { return View(regional_addr, "region:Y56"); };
  auto at_national = [&] { return View(Addr(), "region:Y56"); };
  const ViewOf regional_before = at_regional();
  ASSERT_EQ(regional_before.revisions.size(), 12 * kTrusts.size());
  for (int i = 0; i < 300; ++i) {
    if (at_national().revisions == regional_before.revisions) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(at_national().revisions, regional_before.revisions);
  const std::string truth_sums = View().sums;

  national->Signal(SIGTERM);
  ASSERT_THAT(national->Wait(absl::Seconds(30)), testing::IsOk());
  testing::FlushDb(AggregatorData());
  const std::string sst = testing::NewestDbFile(AggregatorData(), ".sst");
  testing::FlipByte(sst, testing::DataBlockBytes(sst) - 40);  // u/RJ1/..
  // Work goes on while the national aggregator is down: a staffing figure
  // (not in the sums compared) changes, and the forwarder cannot send it.
  CommandResult set =
      Cli("RAL", {"set", kLast.ToString(), "staffing.wte.manager", "7"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  SyncAll();
  for (int i = 0; i < 300 && LinesWith(ReadAll(regional_log),
                                       "cannot send to upstream aggregator")
                                 .empty();
       ++i) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_FALSE(
      LinesWith(ReadAll(regional_log), "cannot send to upstream aggregator")
          .empty())
      << ReadAll(regional_log);

  national = StartAggregator();
  ASSERT_EQ(
      LinesWith(ReadAll(AggregatorLog()), "was damaged and recovered").size(),
      1u)
      << ReadAll(AggregatorLog());

  const ViewOf truth = at_regional();
  ViewOf now;
  for (int i = 0; i < 300; ++i) {
    now = at_national();
    if (now.revisions == truth.revisions && !now.unconfirmed["RJ1"] &&
        !now.unconfirmed["RAL"]) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(now.revisions, truth.revisions);
  EXPECT_FALSE(now.unconfirmed["RJ1"]);
  EXPECT_FALSE(now.unconfirmed["RAL"]);
  EXPECT_EQ(View().sums, truth_sums);
  // The warning is gone wherever only these trusts count; England's other
  // trusts have no agent, so the national one stays.
  EXPECT_EQ(TrustWarning("RJ1"), "");
  EXPECT_EQ(TrustWarning("RAL"), "");
  EXPECT_THAT(View().warning, HasSubstr("damaged and recovered"));
  EXPECT_THAT(ReadAll(regional_log),
              HasSubstr("no longer holds"));  // the regional resent
}

TEST_F(CorruptionProcessTest, StoreBeyondRecoveryExitsWithOneLineAndCode65) {
  std::unique_ptr<Subprocess> aggregator = StartAggregator();
  aggregator->Signal(SIGTERM);
  ASSERT_THAT(aggregator->Wait(absl::Seconds(30)), testing::IsOk());
  testing::FlushDb(AggregatorData());  // the registry fingerprint: a table
  testing::TruncateFile(testing::NewestDbFile(AggregatorData(), ".sst"), 100);
  // Nowhere to move the damaged table.
  std::ofstream(AggregatorData() + "/quarantine") << "a file, not a folder";

  auto p = Subprocess::Start({OHFED_AGGREGATOR_BIN, "--listen", Addr(),
                              "--data", AggregatorData(), "--insecure"},
                             root_.File("second.log"));
  ASSERT_TRUE(p.ok());
  auto code = (*p)->Wait(absl::Seconds(60));
  ASSERT_THAT(code, testing::IsOk());
  EXPECT_EQ(*code, kExitDamagedStore);
  const std::string log = ReadAll(root_.File("second.log"));
  EXPECT_EQ(LinesWith(log, "is damaged").size(), 1u) << log;
  EXPECT_THAT(log, HasSubstr("cannot move damaged tables aside"));
}

}  // namespace
}  // namespace ohfed
