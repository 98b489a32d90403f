// Outages of any length cost only delay (SPEC §5). In-process agents and
// aggregators over real gRPC share one fake clock standing in for two
// years: while an aggregator is down the agents keep recording (each month's
// data, corrections of the two before, a hand-entered value), and the
// outbox holds one entry per unit and period however many changes were
// made; once the aggregator is back everything drains and every level
// equals the agents (tests/chaos/truth.h, stores checked offline).
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "agent/agent.h"
#include "agent/sample_data.h"
#include "aggregator/aggregator.h"
#include "cli/agent_client.h"
#include "common/period.h"
#include "tests/chaos/truth.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed::chaos {
namespace {

using ::ohfed::testing::IsOk;

const std::vector<std::string> kTrusts = {"RJ1", "RJ2", "R1H"};  // London
constexpr Month kStart = Month::Of(2024, 11);
constexpr int kOutageMonths = 23;  // 2024-12 .. 2026-10 recorded meanwhile

absl::Time MidMonth(Month m) {
  return absl::FromCivil(absl::CivilDay(m.year(), m.month(), 10),
                         absl::UTCTimeZone());
}

class OutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    national_port_ = testing::PickUnusedPort();
    regional_port_ = testing::PickUnusedPort();
    national_ = StartAggregator("national", national_port_, "");
    regional_ = StartAggregator("regional", regional_port_,
                                absl::StrCat("127.0.0.1:", national_port_));
    for (const std::string& t : kTrusts) StartAgent(t);
  }
  void TearDown() override {
    agents_.clear();
    regional_.reset();
    national_.reset();
  }

  std::unique_ptr<aggregator::Aggregator> StartAggregator(
      const std::string& name, int port, const std::string& upstream) {
    aggregator::AggregatorOptions o;
    o.listen = absl::StrCat("127.0.0.1:", port);
    o.data_dir = dir_.File(name);
    o.upstream = upstream;
    if (!upstream.empty()) o.covers = "region:Y56";
    o.insecure = true;
    o.store.clock = &clock_;
    o.uploader.initial_backoff = absl::Milliseconds(10);
    o.uploader.max_backoff = absl::Milliseconds(100);
    auto a = aggregator::Aggregator::Start(o);
    EXPECT_THAT(a, IsOk());
    return a.ok() ? std::move(*a) : nullptr;
  }

  void StartAgent(const std::string& trust) {
    agent::AgentOptions o;
    o.trust = trust;
    o.data_dir = dir_.File("agent_" + trust);
    std::filesystem::create_directories(o.data_dir);
    o.aggregator = absl::StrCat("127.0.0.1:", regional_port_);
    o.insecure = true;
    o.clock = &clock_;
    o.uploader.initial_backoff = absl::Milliseconds(10);
    o.uploader.max_backoff = absl::Milliseconds(100);
    auto a = agent::Agent::Start(o);
    ASSERT_THAT(a, IsOk());
    agents_[trust] = std::move(*a);
  }

  agent::AgentClient Client(const std::string& trust) {
    return *agent::AgentClient::Connect(agents_.at(trust)->socket());
  }

  // Month `m` has just ended: every trust imports it, re-imports the two
  // months before with corrected figures, and sets a value by hand. Returns
  // the number of changes (new revisions) made.
  int RecordMonth(Month m) {
    clock_.Set(MidMonth(m + 1));
    int changes = 0;
    for (const std::string& t : kTrusts) {
      agent::AgentClient c = Client(t);
      for (int back = 0; back < 3; ++back) {
        const Month month = m - back;
        if (month < kStart) continue;
        agent::SampleFiles f = agent::MakeSampleData(
            t, month, month, month - kStart + 7 * back + 1);
        for (const auto& [kind, content] :
             {std::pair<const char*, const std::string&>("staffing",
                                                         f.staffing),
              {"activity", f.activity},
              {"profile", f.profile}}) {
          auto r = c.Import(kind, "month.csv", content, false, true);
          EXPECT_THAT(r, IsOk()) << t << " " << kind << " " << month.ToString();
          if (r.ok()) changes += r->periods_changed_size();
        }
      }
      auto set = c.SetValue(m.ToString(), "staffing.wte.manager",
                            absl::StrCat(1 + (m - kStart) % 9));
      EXPECT_THAT(set, IsOk());
      changes += set.ok();
    }
    return changes;
  }

  // Every period an agent holds, and those pending (by `ohfed status`).
  struct Outbox {
    int periods = 0;
    int pending = 0;
  };
  Outbox OutboxOf(const std::string& trust) {
    Outbox out;
    auto status = Client(trust).Status();
    EXPECT_THAT(status, IsOk());
    if (!status.ok()) return out;
    for (const v1::PeriodState& p : status->periods()) {
      ++out.periods;
      out.pending += p.state() == "pending";
    }
    return out;
  }

  void SyncAgents() {
    for (const std::string& t : kTrusts) {
      auto r = Client(t).Sync(absl::Seconds(60));
      ASSERT_THAT(r, IsOk());
      ASSERT_TRUE(r->complete()) << t << ": " << r->DebugString();
    }
  }

  void AwaitForwarded() {
    for (int i = 0; i < 600 && regional_->forwarder()->outbox_size() > 0; ++i) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_EQ(regional_->forwarder()->outbox_size(), 0u);
  }

  // The truth from the agents, then both stores offline.
  void ExpectEveryLevelEqualsTheAgents() {
    std::map<std::string, std::string> sockets;
    for (const auto& [t, a] : agents_) sockets[t] = a->socket();
    absl::StatusOr<Truth> truth = CollectTruth(sockets);
    ASSERT_THAT(truth, IsOk());
    regional_.reset();
    national_.reset();
    const std::set<std::string> trusts(kTrusts.begin(), kTrusts.end());
    for (const char* name : {"national", "regional"}) {
      CheckResult r = CheckStore(dir_.File(name), *truth, trusts);
      EXPECT_THAT(r.problems, ::testing::IsEmpty()) << name;
      EXPECT_GT(r.revisions_checked, kOutageMonths * 3) << name;
    }
  }

  testing::TempDir dir_;
  FakeClock clock_{MidMonth(kStart + 1)};
  int national_port_ = 0, regional_port_ = 0;
  std::unique_ptr<aggregator::Aggregator> national_, regional_;
  std::map<std::string, std::unique_ptr<agent::Agent>> agents_;
};

TEST_F(OutageTest, RegionalDownForTwoYearsAgentOutboxesStayOnePerPeriod) {
  RecordMonth(kStart);
  ASSERT_NO_FATAL_FAILURE(SyncAgents());
  regional_->Shutdown();
  regional_.reset();

  int changes = 0;
  for (int k = 1; k <= kOutageMonths; ++k) {
    changes += RecordMonth(kStart + k);
    for (const std::string& t : kTrusts) {
      Outbox o = OutboxOf(t);
      // One entry per period changed since the outage began: the months
      // recorded, the month before it (corrected), and the years touched.
      std::set<int> years;
      for (int j = 0; j <= k; ++j) years.insert((kStart + j).year());
      EXPECT_EQ(o.pending, k + 1 + static_cast<int>(years.size()))
          << t << " after month " << k;
      EXPECT_LE(o.pending, o.periods);
    }
  }
  // Dozens of revisions per period went into one pending entry each.
  const int pending =
      OutboxOf("RJ1").pending * static_cast<int>(kTrusts.size());
  EXPECT_GT(changes, 5 * pending);
  std::cout << "outage: " << changes << " changes during " << kOutageMonths
            << " months, " << pending << " pending entries" << std::endl;

  regional_ = StartAggregator("regional", regional_port_,
                              absl::StrCat("127.0.0.1:", national_port_));
  ASSERT_NO_FATAL_FAILURE(SyncAgents());
  for (const std::string& t : kTrusts) EXPECT_EQ(OutboxOf(t).pending, 0) << t;
  ASSERT_NO_FATAL_FAILURE(AwaitForwarded());
  ExpectEveryLevelEqualsTheAgents();
}

TEST_F(OutageTest, NationalDownForTwoYearsForwarderHoldsOnePerUnit) {
  RecordMonth(kStart);
  ASSERT_NO_FATAL_FAILURE(SyncAgents());
  ASSERT_NO_FATAL_FAILURE(AwaitForwarded());
  national_->Shutdown();
  national_.reset();

  int changes = 0;
  for (int k = 1; k <= kOutageMonths; ++k) {
    changes += RecordMonth(kStart + k);
    ASSERT_NO_FATAL_FAILURE(SyncAgents());  // the regional holds them all
    std::set<int> years;
    for (int j = 0; j <= k; ++j) years.insert((kStart + j).year());
    // One entry per (trust, period) changed since the national went down.
    EXPECT_EQ(regional_->forwarder()->outbox_size(),
              kTrusts.size() * (k + 1 + years.size()))
        << "after month " << k;
  }
  const size_t pending = regional_->forwarder()->outbox_size();
  EXPECT_GT(static_cast<size_t>(changes), 5 * pending);
  std::cout << "outage: " << changes << " changes during " << kOutageMonths
            << " months, " << pending << " units pending upstream" << std::endl;

  national_ = StartAggregator("national", national_port_, "");
  ASSERT_NO_FATAL_FAILURE(AwaitForwarded());
  ExpectEveryLevelEqualsTheAgents();
}

}  // namespace
}  // namespace ohfed::chaos
