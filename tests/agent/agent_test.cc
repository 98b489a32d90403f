// The agent wired together in-process, driven through its AgentControl
// service over a real unix socket with AgentClient: atomic and
// --skip-invalid imports, Sync's answers, Status, shutdown releasing waits.
#include "agent/agent.h"

#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cli/agent_client.h"
#include "tests/testing/fake_ingest.h"
#include "tests/testing/testing.h"

namespace ohfed::agent {
namespace {

using ::testing::HasSubstr;

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override { StartAgent(sink_.address()); }

  void StartAgent(const std::string& aggregator,
                  const std::function<void(AgentOptions&)>& tweak = nullptr) {
    AgentOptions o;
    o.trust = "rj1";  // normalised to upper case
    o.data_dir = dir_.path();
    o.aggregator = aggregator;
    o.insecure = true;
    o.uploader.initial_backoff = absl::Milliseconds(5);
    o.uploader.max_backoff = absl::Milliseconds(50);
    if (tweak) tweak(o);
    auto a = Agent::Start(o);
    ASSERT_TRUE(a.ok()) << a.status();
    agent_ = std::move(*a);
    auto c = AgentClient::Connect(agent_->socket());
    ASSERT_TRUE(c.ok());
    client_ = std::make_unique<AgentClient>(std::move(*c));
  }

  testing::TempDir dir_;
  testing::IngestServer sink_;
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<AgentClient> client_;
};

const char kMixed[] =
    "period,staff_group,wte,basis,post_id\n"
    "2026-01,admin,1.0,,A1\n"
    "2026-01,admin,x,,A2\n"
    "2026-02,admin,1.0,,A1\n"
    "2026-02,wizard,1.0,,A3\n";

TEST_F(AgentTest, AtomicImportStoresNothingAndReportsEveryBadRow) {
  auto r = client_->Import("staffing", "mixed.csv", kMixed, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows_read(), 4u);
  EXPECT_EQ(r->rows_imported(), 0u);
  ASSERT_EQ(r->errors_size(), 2);
  EXPECT_EQ(r->errors(0).line(), 3u);
  EXPECT_EQ(r->errors(0).column(), "wte");
  EXPECT_EQ(r->errors(1).line(), 5u);
  EXPECT_EQ(r->errors(1).column(), "staff_group");
  EXPECT_EQ(client_->Status()->periods_size(), 0);
}

TEST_F(AgentTest, SkipInvalidImportsTheValidRows) {
  auto r = client_->Import("staffing", "mixed.csv", kMixed, true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows_imported(), 2u);
  EXPECT_EQ(r->rows_skipped(), 2u);
  EXPECT_EQ(r->errors_size(), 2);
  EXPECT_EQ(r->periods_changed_size(), 2);
  auto jan = client_->Summary("2026-01");
  ASSERT_TRUE(jan.ok());
  EXPECT_EQ(jan->trust(), "RJ1");
}

TEST_F(AgentTest, MissingColumnRejectsEvenWithSkipInvalid) {
  auto r =
      client_->Import("staffing", "bad.csv", "period,wte\n2026-01,1\n", true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows_imported(), 0u);
  ASSERT_EQ(r->errors_size(), 1);
  EXPECT_EQ(r->errors(0).reason(), "missing required column");
  EXPECT_EQ(client_->Status()->periods_size(), 0);
}

TEST_F(AgentTest, SyncCompletesAndStatusShowsCurrent) {
  ASSERT_TRUE(client_
                  ->Import("staffing", "s.csv",
                           "period,staff_group,wte\n2026-01,admin,2\n", false)
                  .ok());
  ASSERT_TRUE(client_->SetValue("2026", "profile.host_type", "acute").ok());
  auto sync = client_->Sync(absl::Seconds(30));
  ASSERT_TRUE(sync.ok()) << sync.status();
  EXPECT_TRUE(sync->complete());
  EXPECT_EQ(sink_.ingest().held().size(), 2u);
  auto status = client_->Status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->trust(), "RJ1");
  EXPECT_EQ(status->aggregator(), sink_.address());
  EXPECT_GT(status->last_sync_unix_ms(), 0);
  ASSERT_EQ(status->periods_size(), 2);
  for (const auto& p : status->periods()) {
    EXPECT_EQ(p.state(), "current");
    EXPECT_EQ(p.acked_revision(), p.revision());
  }
}

// The agent uploads with a window: the aggregator answers the first three
// batches only once all three have arrived, which a sender that waits for
// each ack never completes (its sync times out).
TEST_F(AgentTest, UploadsSeveralBatchesBeforeTheFirstAck) {
  client_.reset();
  agent_.reset();
  sink_.ingest().set_faults({.hold_first = 3});
  StartAgent(sink_.address(),
             [](AgentOptions& o) { o.uploader.batch_size = 1; });
  ASSERT_TRUE(client_
                  ->Import("staffing", "s.csv",
                           "period,staff_group,wte\n2026-01,admin,2\n"
                           "2026-02,admin,2\n2026-03,admin,2\n"
                           "2026-04,admin,2\n",
                           false)
                  .ok());
  auto sync = client_->Sync(absl::Seconds(20));
  ASSERT_TRUE(sync.ok()) << sync.status();
  EXPECT_TRUE(sync->complete());
  EXPECT_EQ(sink_.ingest().held().size(), 4u);
  EXPECT_EQ(sink_.ingest().most_unanswered(), 3u);
}

TEST_F(AgentTest, SyncReportsRejectionWithTheReason) {
  sink_.ingest().set_faults({.reject_trust = "RJ1"});
  ASSERT_TRUE(client_
                  ->Import("staffing", "s.csv",
                           "period,staff_group,wte\n2026-01,admin,2\n", false)
                  .ok());
  auto sync = client_->Sync(absl::Seconds(30));
  ASSERT_TRUE(sync.ok());
  EXPECT_FALSE(sync->complete());
  EXPECT_EQ(sync->rejected(), 1u);
  ASSERT_EQ(sync->periods_size(), 1);
  EXPECT_EQ(sync->periods(0).reason(), "unknown trust 'RJ1'");
}

TEST_F(AgentTest, SyncTimesOutPendingWithTheTransportError) {
  agent_.reset();
  StartAgent("127.0.0.1:1");  // nobody listens there
  ASSERT_TRUE(client_->SetValue("2026-01", "staffing.wte.admin", "1").ok());
  auto sync = client_->Sync(absl::Milliseconds(500));
  ASSERT_TRUE(sync.ok());
  EXPECT_FALSE(sync->complete());
  EXPECT_EQ(sync->pending(), 1u);
  EXPECT_FALSE(sync->last_error().empty());
}

TEST_F(AgentTest, ShutdownReleasesAWaitingSync) {
  agent_.reset();
  StartAgent("127.0.0.1:1");
  ASSERT_TRUE(client_->SetValue("2026-01", "staffing.wte.admin", "1").ok());
  absl::StatusOr<v1::SyncResponse> sync;
  std::thread t([&] { sync = client_->Sync(absl::Seconds(60)); });
  absl::SleepFor(absl::Milliseconds(200));
  absl::Time start = absl::Now();
  agent_->Shutdown(absl::Seconds(5));
  t.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  if (sync.ok()) {
    EXPECT_FALSE(sync->complete());
  }
}

TEST_F(AgentTest, SecondAgentOnTheSameDataFails) {
  AgentOptions o;
  o.trust = "RJ1";
  o.data_dir = dir_.path();
  o.aggregator = sink_.address();
  o.insecure = true;
  o.socket = dir_.File("other.sock");
  EXPECT_THAT(Agent::Start(o),
              testing::StatusIs(absl::StatusCode::kUnavailable,
                                absl::StrCat("data directory ", dir_.path(),
                                             " is in use by another agent")));
}

// Another agent's socket is live: refused, and left alone.
TEST_F(AgentTest, SecondAgentOnALiveSocketIsRefused) {
  testing::TempDir other;
  AgentOptions o;
  o.trust = "RV5";
  o.data_dir = other.path();
  o.aggregator = sink_.address();
  o.insecure = true;
  o.socket = agent_->socket();
  EXPECT_THAT(Agent::Start(o),
              testing::StatusIs(
                  absl::StatusCode::kFailedPrecondition,
                  absl::StrCat("socket ", agent_->socket(), " is in use")));
  auto status = client_->Status();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->trust(), "RJ1");
}

TEST_F(AgentTest, OutlierImportIsHeldUntilConfirmed) {
  ASSERT_TRUE(client_
                  ->Import("staffing", "s.csv",
                           "period,staff_group,wte\n2026-01,admin,4\n"
                           "2026-02,admin,5\n2026-03,admin,6\n",
                           false)
                  .ok());
  auto r = client_->Import("staffing", "jump.csv",
                           "period,staff_group,wte\n2026-04,admin,13\n", false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->periods_held(), ::testing::ElementsAre("2026-04"));
  auto sync = client_->Sync(absl::Seconds(30));
  ASSERT_TRUE(sync.ok());
  EXPECT_FALSE(sync->complete());
  ASSERT_EQ(sync->periods_size(), 1);
  EXPECT_EQ(sync->periods(0).state(), "held");
  EXPECT_THAT(sync->periods(0).reason(), HasSubstr("ohfed confirm 2026-04"));
  EXPECT_EQ(sink_.ingest().held().count("RJ1/2026-04"), 0u);

  auto c = client_->Confirm("2026-04");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->changed());
  sync = client_->Sync(absl::Seconds(30));
  ASSERT_TRUE(sync.ok());
  EXPECT_TRUE(sync->complete());
  EXPECT_EQ(sink_.ingest().held().count("RJ1/2026-04"), 1u);

  r = client_->Import("staffing", "jump.csv",
                      "period,staff_group,wte\n2026-05,admin,40\n", false,
                      /*accept_outliers=*/true);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->warnings().empty());
  EXPECT_TRUE(r->periods_held().empty());
}

TEST_F(AgentTest, UnsetAndRetractGoThroughTheService) {
  ASSERT_TRUE(client_
                  ->Import("staffing", "s.csv",
                           "period,staff_group,wte\n2026-01,admin,2\n", false)
                  .ok());
  ASSERT_TRUE(client_->SetValue("2026-01", "staffing.wte.admin", "3").ok());
  EXPECT_THAT(client_->Status()->periods(0).manual(),
              ::testing::ElementsAre("staffing.wte.admin"));
  auto u = client_->UnsetValue("2026-01", "staffing.wte.admin");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_TRUE(u->changed());
  EXPECT_TRUE(client_->Status()->periods(0).manual().empty());
  EXPECT_THAT(client_->UnsetValue("2026-13", "staffing.wte.admin"),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                "invalid period '2026-13'"));

  ASSERT_TRUE(client_->Sync(absl::Seconds(30))->complete());
  auto r = client_->Retract("2026-01");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed());
  ASSERT_TRUE(client_->Sync(absl::Seconds(30))->complete());
  v1::UnitSummary held = sink_.ingest().held()["RJ1/2026-01"];
  EXPECT_TRUE(held.retracted());
  EXPECT_EQ(held.revision(), r->revision());
  auto status = client_->Status();
  EXPECT_TRUE(status->periods(0).retracted());
  EXPECT_EQ(status->periods(0).state(), "current");
}

TEST(AgentOptionsTest, BadTrustAndInsecureRemoteAreRefused) {
  testing::TempDir dir;
  AgentOptions o{.trust = "R!",
                 .data_dir = dir.path(),
                 .aggregator = "127.0.0.1:7400",
                 .insecure = true};
  EXPECT_THAT(
      Agent::Start(o),
      testing::StatusIs(absl::StatusCode::kInvalidArgument, "ODS code"));
  o.trust = "ZZZ9";
  EXPECT_THAT(Agent::Start(o),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                "unknown trust code 'ZZZ9'"));
  // A trust formed after this release is known to a newer registry
  // version (--registry), which the agent then accepts.
  auto newer = Registry::Parse(
      "# version: v2\n# effective_from: 2027-04\n"
      "region_code,region_name,ics_code,ics_name,trust_code,trust_name\n"
      "Y56,London,QMJ,NCL ICB,ZZZ9,Merged trust\n",
      "v2.csv");
  ASSERT_THAT(newer, testing::IsOk());
  auto history = std::make_shared<RegistryHistory>(Registry::England());
  ASSERT_THAT(history->Add(*newer), testing::IsOk());
  EXPECT_EQ(CheckKnownTrust("zzz9", *history).value_or(""), "ZZZ9");
  EXPECT_EQ(CheckKnownTrust("RJ1", *history).value_or(""), "RJ1");
  EXPECT_THAT(CheckKnownTrust("ZZZ8", *history),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                "unknown trust code 'ZZZ8': not in the "
                                "registry (v2); check --trust, or --registry"));
  o.trust = "RJ1";
  o.aggregator = "192.0.2.1:7400";
  EXPECT_THAT(
      Agent::Start(o),
      testing::StatusIs(absl::StatusCode::kInvalidArgument, "loopback"));
}

}  // namespace
}  // namespace ohfed::agent
