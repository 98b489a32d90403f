// SIGHUP reloads (issue 11), against the real daemons: registry versions in
// a folder (a merger, then a trust moving ICS), a newer version dropped in
// while an ingest stream stays open, a broken one refused naming file and
// line, and config-file keys put in force live or reported as needing a
// restart.
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/transport.h"
#include "ohfed/v1/ohfed.grpc.pb.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/service/service_client.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed::testing {
namespace {

using ::ohfed::aggregator::testing::Summary;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kImm[] = "activity.count.immunisation";

// A London registry version: `rows` are "ICS,TRUST" pairs.
std::string Version(
    const std::string& name, const std::string& from,
    const std::vector<std::pair<std::string, std::string>>& rows) {
  std::string text = absl::StrCat(
      "# version: ", name, "\n# effective_from: ", from,
      "\nregion_code,region_name,ics_code,ics_name,trust_code,trust_name\n");
  for (const auto& [ics, trust] : rows) {
    absl::StrAppend(&text, "Y56,London,", ics, ",", ics, " ICS,", trust, ",",
                    trust, " trust\n");
  }
  return text;
}

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    UseTestNowForBinaries();  // 2026-01..03 have ended
    auto notify = NotifySocket::Bind(dir_.File("notify"));
    OHFED_ASSERT_OK(notify);
    notify_ = std::move(*notify);
    setenv("NOTIFY_SOCKET", notify_->path().c_str(), 1);
    std::filesystem::create_directories(dir_.File("registry"));
  }
  void TearDown() override { unsetenv("NOTIFY_SOCKET"); }

  std::string Address() const { return absl::StrCat("127.0.0.1:", port_); }

  std::unique_ptr<Subprocess> Start(const std::vector<std::string>& argv,
                                    const std::string& log) {
    auto p = Subprocess::Start(argv, dir_.File(log));
    EXPECT_THAT(p, IsOk());
    if (!p.ok()) return nullptr;
    EXPECT_THAT(notify_->WaitFor("READY=1"), IsOk()) << Log(log);
    return std::move(*p);
  }

  // SIGHUP, then the outcome systemd is told: true for "reloaded".
  bool Reload(Subprocess& daemon) {
    daemon.Signal(SIGHUP);
    EXPECT_THAT(notify_->WaitFor("RELOADING=1"), IsOk());
    return notify_->WaitFor("STATUS=reloaded", absl::Seconds(30)).ok();
  }

  std::shared_ptr<grpc::Channel> Channel() {
    return *MakeChannel(Address(), {.insecure = true});
  }

  // The immunisation sums of `scope` for `period` by `by`, as "UNIT=VALUE"
  // ("*" when suppressed), or the error.
  std::string Sums(const std::string& scope, const std::string& period,
                   const std::string& by = "self") {
    auto stub = v1::Query::NewStub(Channel());
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::QueryRequest req;
    req.set_scope(scope);
    req.set_period(period);
    req.set_by(by);
    req.set_measure_prefix(kImm);
    req.add_stats("sum");
    v1::QueryResponse resp;
    grpc::Status status = stub->Query(&ctx, req, &resp);
    if (!status.ok()) return status.error_message();
    std::vector<std::string> rows;
    for (const v1::Row& r : resp.rows()) {
      rows.push_back(absl::StrCat(
          r.unit(), "=", r.suppressed() ? "*" : absl::StrCat(r.value())));
    }
    return absl::StrJoin(rows, " ");
  }

  std::string Log(const std::string& name) {
    std::ifstream in(dir_.File(name));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  TempDir dir_;
  int port_ = PickUnusedPort();
  std::unique_ptr<NotifySocket> notify_;
};

// An ingest stream, open until the test ends it.
class SubmitStream {
 public:
  explicit SubmitStream(const std::shared_ptr<grpc::Channel>& channel)
      : stub_(v1::Ingest::NewStub(channel)), stream_(stub_->Submit(&ctx_)) {}
  // Sends one summary and returns its outcome.
  v1::Outcome Send(const v1::UnitSummary& s) {
    v1::SubmitRequest req;
    *req.add_summaries() = s;
    v1::SubmitResponse resp;
    if (!stream_->Write(req) || !stream_->Read(&resp) ||
        resp.acks_size() != 1) {
      return v1::OUTCOME_UNSPECIFIED;
    }
    return resp.acks(0).outcome();
  }
  grpc::Status Finish() {
    stream_->WritesDone();
    return stream_->Finish();
  }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<v1::Ingest::Stub> stub_;
  std::unique_ptr<
      grpc::ClientReaderWriter<v1::SubmitRequest, v1::SubmitResponse>>
      stream_;
};

// A merger (RAL absorbed into R1H from 2026-02), then RJ1 moving from ICS
// QKK to QMF from 2026-03, loaded by SIGHUP: each month's figures follow the
// registry version in effect for it.
TEST_F(ReloadTest, RegistryFolderVersionsAndSighupFollowTheVersionInEffect) {
  dir_.Write("registry/2025-01.csv",
             Version("v1", "2025-01",
                     {{"QKK", "RJ1"}, {"QKK", "R1H"}, {"QMF", "RAL"}}));
  dir_.Write("registry/2026-02-merger.csv",
             Version("v2", "2026-02", {{"QKK", "RJ1"}, {"QKK", "R1H"}}));
  auto server = Start(
      {OHFED_AGGREGATOR_BIN, "--listen", Address(), "--data", dir_.File("agg"),
       "--insecure", "--registry", dir_.File("registry")},
      "aggregator.log");
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(Log("aggregator.log"),
              HasSubstr("registry versions v1 (from 2025-01, 3 trusts), v2 "
                        "(from 2026-02, 2 trusts)"));

  SubmitStream stream(Channel());
  EXPECT_EQ(stream.Send(Summary("RAL", "2026-01", 1, {{kImm, 40}})),
            v1::OUTCOME_ACCEPTED);
  // After the merger RAL is no longer a trust; R1H reports for both.
  EXPECT_EQ(stream.Send(Summary("RAL", "2026-03", 1, {{kImm, 40}})),
            v1::OUTCOME_REJECTED);
  for (const char* month : {"2026-01", "2026-03"}) {
    EXPECT_EQ(stream.Send(Summary("RJ1", month, 1, {{kImm, 10}})),
              v1::OUTCOME_ACCEPTED);
    EXPECT_EQ(stream.Send(Summary("R1H", month, 1, {{kImm, 20}})),
              v1::OUTCOME_ACCEPTED);
  }
  EXPECT_EQ(Sums("ics:QKK", "2026-01", "trust"), "RJ1=10 R1H=20");
  EXPECT_EQ(Sums("ics:QMF", "2026-01", "trust"), "RAL=40");
  EXPECT_EQ(Sums("region:Y56", "2026-01", "ics"), "QKK=30 QMF=40");
  EXPECT_EQ(Sums("region:Y56", "2026-03", "ics"), "QKK=30");
  EXPECT_THAT(Sums("ics:QMF", "2026-03"), HasSubstr("unknown ics 'QMF'"));

  // A third version: RJ1 joins QMF from 2026-03. The stream stays open.
  dir_.Write("registry/2026-03-move.csv",
             Version("v3", "2026-03", {{"QKK", "R1H"}, {"QMF", "RJ1"}}));
  ASSERT_TRUE(Reload(*server)) << Log("aggregator.log");
  EXPECT_THAT(Log("aggregator.log"),
              HasSubstr("rollups rebuilt for the new placement of trusts"));
  EXPECT_EQ(Sums("region:Y56", "2026-03", "ics"), "QKK=20 QMF=10");
  EXPECT_EQ(Sums("ics:QMF", "2026-03", "trust"), "RJ1=10");
  EXPECT_EQ(Sums("region:Y56", "2026-01", "ics"), "QKK=30 QMF=40");
  EXPECT_EQ(Sums("ics:QKK", "2026-01", "trust"), "RJ1=10 R1H=20");
  // The stream opened before the reload carries on, into the new placement.
  EXPECT_EQ(stream.Send(Summary("RJ1", "2026-03", 2, {{kImm, 15}})),
            v1::OUTCOME_ACCEPTED);
  EXPECT_EQ(Sums("ics:QMF", "2026-03"), "QMF=15");

  // A broken version is refused naming file and line; v3 stays in force.
  const std::string broken = dir_.Write(
      "registry/2026-06.csv",
      Version("v4", "2026-06", {{"QKK", "R1H"}}) + "Y56,London,QKK\n");
  server->Signal(SIGHUP);
  ASSERT_THAT(notify_->WaitFor("STATUS=reload failed, see the log"), IsOk());
  EXPECT_THAT(Log("aggregator.log"),
              HasSubstr(absl::StrCat(
                  "reload refused, what was loaded before stays in force: ",
                  broken, " line 5: expected 6 fields, found 3")));
  EXPECT_EQ(Sums("region:Y56", "2026-03", "ics"), "QKK=20 QMF=15");
  EXPECT_EQ(stream.Send(Summary("R1H", "2026-03", 2, {{kImm, 25}})),
            v1::OUTCOME_ACCEPTED);
  EXPECT_TRUE(stream.Finish().ok());
  EXPECT_EQ(Sums("region:Y56", "2026-03", "ics"), "QKK=25 QMF=15");

  server->Signal(SIGTERM);
  EXPECT_THAT(server->Wait(absl::Seconds(30)), IsOk());
  // A restart with the same folder (the broken file gone) keeps it all.
  std::filesystem::remove(broken);
  server = Start(
      {OHFED_AGGREGATOR_BIN, "--listen", Address(), "--data", dir_.File("agg"),
       "--insecure", "--registry", dir_.File("registry")},
      "aggregator2.log");
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(Log("aggregator2.log"), Not(HasSubstr("rollups rebuilt")));
  EXPECT_EQ(Sums("region:Y56", "2026-03", "ics"), "QKK=25 QMF=15");
}

// The embedded catalogue with another version line, plus `extra_rows`.
std::string CatalogueVersion(const std::string& version,
                             const std::string& extra_rows) {
  std::ifstream in(SourceDir() + "/common/data/catalogue.csv");
  std::string text(std::istreambuf_iterator<char>(in), {});
  const std::string line = "# version: 2026.1";
  text.replace(text.find(line), line.size(), "# version: " + version);
  return text + extra_rows;
}

// A newer catalogue dropped into the catalogue folder and loaded by SIGHUP:
// queries use it, agents still on the built-in version stay accepted.
TEST_F(ReloadTest, NewerCatalogueIsLoadedBySighupAndOlderAgentsStayAccepted) {
  std::filesystem::create_directories(dir_.File("catalogue"));
  dir_.Write("catalogue/2030.1.csv", CatalogueVersion("2030.1", ""));
  auto server = Start(
      {OHFED_AGGREGATOR_BIN, "--listen", Address(), "--data", dir_.File("agg"),
       "--insecure", "--catalogue", dir_.File("catalogue")},
      "aggregator.log");
  ASSERT_NE(server, nullptr);
  constexpr char kFlu[] = "activity.count.flu_vaccination";
  v1::UnitSummary flu = Summary("RJ1", "2026-03", 1, {{kFlu, 30}});
  flu.set_catalogue_version("2031.1");
  SubmitStream stream(Channel());
  EXPECT_EQ(stream.Send(flu), v1::OUTCOME_REJECTED);

  dir_.Write("catalogue/2031.1.csv",
             CatalogueVersion("2031.1", absl::StrCat(kFlu,
                                                     ",Flu vaccinations,count,"
                                                     "count,0,1000000,sum,sum,"
                                                     "yes,month\n")));
  ASSERT_TRUE(Reload(*server)) << Log("aggregator.log");
  EXPECT_THAT(Log("aggregator.log"),
              HasSubstr("catalogue 2031.1 (also accepting summaries of "
                        "2030.1, 2026.1)"));
  EXPECT_EQ(stream.Send(flu), v1::OUTCOME_ACCEPTED);
  // An agent still on the built-in version, on the same open stream.
  EXPECT_EQ(stream.Send(Summary("R1H", "2026-03", 1, {{kImm, 20}})),
            v1::OUTCOME_ACCEPTED);
  EXPECT_TRUE(stream.Finish().ok());

  auto stub = v1::Query::NewStub(Channel());
  grpc::ClientContext ctx;
  v1::QueryRequest req;
  req.set_scope("national");
  req.set_period("2026-03");
  req.set_measure_prefix("activity.count");
  req.add_stats("sum");
  v1::QueryResponse resp;
  ASSERT_TRUE(stub->Query(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.catalogue_version(), "2031.1");
  std::vector<std::string> rows;
  for (const v1::Row& r : resp.rows()) {
    if (r.value() > 0)
      rows.push_back(absl::StrCat(r.measure(), "=", r.value()));
  }
  EXPECT_THAT(rows, ::testing::UnorderedElementsAre(absl::StrCat(kImm, "=20"),
                                                    absl::StrCat(kFlu, "=30")));
  server->Signal(SIGTERM);
  EXPECT_THAT(server->Wait(absl::Seconds(30)), IsOk());
}

// The config file is read again on SIGHUP: a disclosure threshold and the
// log format change at once; `listen` needs a restart and keeps its value.
TEST_F(ReloadTest, ConfigFileKeysApplyLiveOrAreReportedAsNeedingARestart) {
  auto config = [&](const std::string& listen, const std::string& extra) {
    return dir_.Write(
        "aggregator.conf",
        absl::StrCat("listen = \"", listen, "\"\ndata = \"", dir_.File("agg"),
                     "\"\ninsecure = true\n", extra));
  };
  const std::string file = config(Address(), "");
  auto server =
      Start({OHFED_AGGREGATOR_BIN, "--config", file}, "aggregator.log");
  ASSERT_NE(server, nullptr);
  SubmitStream stream(Channel());
  EXPECT_EQ(stream.Send(Summary("RJ1", "2026-03", 1, {{kImm, 4}})),
            v1::OUTCOME_ACCEPTED);
  EXPECT_EQ(Sums("region:Y56", "2026-03"), "Y56=*");

  const std::string moved = absl::StrCat("127.0.0.1:", PickUnusedPort());
  config(moved, "suppress-max = 3\nlog-format = \"json\"\n");
  ASSERT_TRUE(Reload(*server)) << Log("aggregator.log");
  EXPECT_EQ(Sums("region:Y56", "2026-03"), "Y56=5");
  const std::string log = Log("aggregator.log");
  EXPECT_THAT(log, HasSubstr(absl::StrCat("listen changed: needs a restart ('",
                                          moved, "' read; '", Address(),
                                          "' stays in force until then)")));
  EXPECT_THAT(log, HasSubstr("\"msg\":\"reload: registry version"));
  EXPECT_EQ(stream.Send(Summary("RJ1", "2026-03", 2, {{kImm, 9}})),
            v1::OUTCOME_ACCEPTED);

  // A broken line is refused naming the file and line; 3 stays.
  config(moved, "suppress-max = 3\nsuppress-max 0\n");
  server->Signal(SIGHUP);
  ASSERT_THAT(notify_->WaitFor("STATUS=reload failed, see the log"), IsOk());
  EXPECT_THAT(Log("aggregator.log"),
              HasSubstr(absl::StrCat(file,
                                     ": config file line 5: expected "
                                     "key = value")));
  EXPECT_EQ(Sums("region:Y56", "2026-03"), "Y56=10");
  EXPECT_TRUE(stream.Finish().ok());
  server->Signal(SIGTERM);
  EXPECT_THAT(server->Wait(absl::Seconds(30)), IsOk());
}

// The agent re-reads its config on SIGHUP too: the retry backoff applies,
// its trust needs a restart.
TEST_F(ReloadTest, AgentReloadsItsConfigFileOnSighup) {
  auto config = [&](const std::string& trust, int backoff_ms) {
    return dir_.Write(
        "agent.conf",
        absl::StrCat("trust = \"", trust, "\"\ndata = \"", dir_.File("agent"),
                     "\"\naggregator = \"", Address(),
                     "\"\ninsecure = true\ninitial-backoff-ms = ", backoff_ms,
                     "\n"));
  };
  const std::string file = config("RJ1", 200);
  auto agent = Start({OHFED_AGENT_BIN, "--config", file}, "agent.log");
  ASSERT_NE(agent, nullptr);
  config("R1H", 50);
  ASSERT_TRUE(Reload(*agent)) << Log("agent.log");
  EXPECT_THAT(Log("agent.log"),
              HasSubstr("trust changed: needs a restart ('R1H' read; 'RJ1' "
                        "stays in force until then)"));
  EXPECT_THAT(Log("agent.log"), HasSubstr("reload: retry backoff 50 ms"));
  agent->Signal(SIGTERM);
  EXPECT_THAT(agent->Wait(absl::Seconds(30)), IsOk());
}

}  // namespace
}  // namespace ohfed::testing
