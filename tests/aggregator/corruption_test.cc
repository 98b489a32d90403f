// The aggregator's store opened after damage to its files
// (aggregator/summary_store.h, aggregator/store_recovery.h,
// common/db_recovery.h): a torn WAL tail, a truncated table, a flipped
// byte in a table. The store starts, says what it found in one line,
// rebuilds the rollups from the units that survived, flags the view as
// unconfirmed, lists what it holds so that agents resend what was lost,
// and, once they have, equals the truth again. The last test runs a real
// agent store and uploader against a real aggregator.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/local_store.h"
#include "aggregator/aggregator.h"
#include "aggregator/query_completeness.h"
#include "aggregator/summary_store.h"
#include "common/transport.h"
#include "common/uploader.h"
#include "tests/aggregator/rollup_check.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/db_damage.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::ExpectSameRollups;
using ::ohfed::aggregator::testing::Summary;
using ::ohfed::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::vector<std::string> kTrusts = {"R1H", "RAL", "RAX", "RBS",
                                          "RJ1", "RRK", "RTH", "RX1"};

// The truth: what the agents hold. Twelve months of eight trusts, four
// measures each, at revision 10.
std::vector<v1::UnitSummary> Truth() {
  std::vector<v1::UnitSummary> out;
  for (const std::string& trust : kTrusts) {
    for (int month = 1; month <= 12; ++month) {
      const double v = static_cast<double>(trust[1] * 13 + month);
      out.push_back(Summary(trust, absl::StrFormat("2025-%02d", month), 10,
                            {{"activity.count.immunisation", v},
                             {"activity.count.tb_screening", v + 1},
                             {"staffing.wte.admin", month * 0.5},
                             {"staffing.wte.consultant_om", 1.5}}));
    }
  }
  return out;
}

class AggregatorCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    SummaryStoreOptions options;
    options.clock = &clock_;
    auto s = SummaryStore::Open(dir_.path(), options);
    OHFED_ASSERT_OK(s);
    store_ = std::move(*s);
  }

  void Commit(const std::vector<v1::UnitSummary>& units) {
    OHFED_ASSERT_OK(store_->Commit(units));
  }

  void CloseAndFlush() {
    store_.reset();
    ohfed::testing::FlushDb(dir_.path());
  }

  // What every agent does at its next sync: compare the revisions it had
  // acknowledged (the truth's) with those held (Feedback.held) and resend
  // the units held below them; then ask Feedback again. Returns how many
  // units were resent.
  size_t AgentsResend() {
    std::vector<v1::UnitSummary> resend;
    for (const v1::UnitSummary& s : Truth()) {
      if (store_->HeldRevisionOf(s.trust(), s.period()) < s.revision()) {
        resend.push_back(s);
      }
    }
    if (!resend.empty()) Commit(resend);
    for (const std::string& trust : kTrusts) {
      for (int ask = 0; ask < 2; ++ask)
        OHFED_EXPECT_OK(store_->OnFeedback(trust));
    }
    return resend.size();
  }

  // The rollups of a store that never lost anything.
  RollupMap TruthRollups() {
    TempDir dir;
    SummaryStoreOptions options;
    options.clock = &clock_;
    auto s = SummaryStore::Open(dir.path(), options);
    EXPECT_TRUE(s.ok()) << s.status();
    EXPECT_TRUE((*s)->Commit(Truth()).ok());
    return (*s)->Rollups();
  }

  size_t HeldUnits() { return store_->stats().units_held; }

  v1::CompletenessResponse Completeness(const std::string& period) {
    v1::CompletenessRequest request;
    request.set_scope("national");
    request.set_period(period);
    auto r = store_->Read([&](const View& v) {
      return RunCompleteness(v, request, clock_.Now());
    });
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : v1::CompletenessResponse();
  }

  // The row of `trust` in a national completeness block.
  static v1::TrustCompleteness Row(const v1::PeriodCompleteness& p,
                                   const std::string& trust) {
    for (const v1::TrustCompleteness& t : p.trusts()) {
      if (t.trust() == trust) return t;
    }
    ADD_FAILURE() << "no row for " << trust;
    return {};
  }

  // After recovery the view is flagged until the agents resend; then it
  // equals the truth and the flag is gone.
  void ExpectAgentsRestoreTheTruth(size_t lost) {
    ExpectSameRollups(store_->Rollups(), store_->RecomputedRollups());
    EXPECT_EQ(HeldUnits(), Truth().size() - lost);
    v1::CompletenessResponse before = Completeness("2025-12");
    EXPECT_THAT(before.warning(), HasSubstr("damaged and recovered"));
    EXPECT_THAT(before.warning(), HasSubstr("have not yet resent"));
    EXPECT_EQ(before.periods(0).unconfirmed(), before.periods(0).expected());
    EXPECT_TRUE(Row(before.periods(0), "RX1").unconfirmed());

    EXPECT_EQ(AgentsResend(), lost);
    EXPECT_EQ(HeldUnits(), Truth().size());
    ExpectSameRollups(store_->Rollups(), TruthRollups());
    v1::CompletenessResponse after = Completeness("2025-12");
    EXPECT_EQ(after.periods(0).reported(), kTrusts.size());
    for (const std::string& trust : kTrusts) {
      EXPECT_FALSE(Row(after.periods(0), trust).unconfirmed()) << trust;
    }
    // England's other trusts have no agent here: they stay unconfirmed (and
    // the warning up) until they come back or kConfirmWindow passes.
    EXPECT_EQ(after.periods(0).unconfirmed(),
              after.periods(0).expected() - kTrusts.size());
    clock_.Advance(kConfirmWindow);
    EXPECT_EQ(Completeness("2025-12").warning(), "");
  }

  TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1774000000)};
  std::unique_ptr<SummaryStore> store_;
};

TEST_F(AggregatorCorruptionTest, SoundStoreReportsNothingAndIsConfirmed) {
  Commit(Truth());
  Reopen();
  EXPECT_THAT(store_->recovery_report(), IsEmpty());
  EXPECT_EQ(Completeness("2025-12").warning(), "");
  EXPECT_FALSE(Row(Completeness("2025-12").periods(0), "RX1").unconfirmed());
}

TEST_F(AggregatorCorruptionTest, HeldOfListsEveryUnitOfTheTrust) {
  Commit(Truth());
  Commit(
      {Summary("RJ1", "2025-03", 11, {}), Summary("RAL", "2025-01", 12, {})});
  auto held = store_->HeldOf("RJ1");
  ASSERT_EQ(held.size(), 12u);
  EXPECT_EQ(held[0], (std::pair<std::string, uint64_t>("2025-01", 10)));
  EXPECT_EQ(held[2], (std::pair<std::string, uint64_t>("2025-03", 11)));
  EXPECT_THAT(store_->HeldOf("ZZZ"), IsEmpty());
}

TEST_F(AggregatorCorruptionTest, TornWalTailIsReportedAndAgentsResend) {
  std::vector<v1::UnitSummary> truth = Truth();
  std::vector<v1::UnitSummary> last(truth.end() - 6, truth.end());
  truth.resize(truth.size() - 6);
  Commit(truth);
  Commit(last);  // RX1's last six months, the last WAL record
  store_.reset();
  ohfed::testing::TruncateFile(
      ohfed::testing::NewestDbFile(dir_.path(), ".log"), 5);

  Reopen();
  EXPECT_THAT(store_->recovery_report(),
              HasSubstr("was damaged and recovered: WAL "));
  EXPECT_THAT(store_->recovery_report(), HasSubstr("torn tail, dropped"));
  EXPECT_THAT(store_->recovery_report(), HasSubstr("rollups rebuilt"));
  EXPECT_EQ(store_->HeldRevisionOf("RX1", "2025-12"), 0u);
  EXPECT_FALSE(Row(Completeness("2025-12").periods(0), "RX1").reported());
  ExpectAgentsRestoreTheTruth(6);
  // Confirmations are durable.
  clock_.Advance(-kConfirmWindow);
  Reopen();
  EXPECT_FALSE(Row(Completeness("2025-12").periods(0), "RX1").unconfirmed());
  EXPECT_TRUE(Row(Completeness("2025-12").periods(0), "RDE").unconfirmed());
}

TEST_F(AggregatorCorruptionTest, TruncatedTableIsQuarantinedAndAgentsResend) {
  std::vector<v1::UnitSummary> truth = Truth();
  std::vector<v1::UnitSummary> last(truth.end() - 12, truth.end());
  truth.resize(truth.size() - 12);
  Commit(truth);
  CloseAndFlush();
  Reopen();
  Commit(last);  // RX1's year, and the rollups it changes
  CloseAndFlush();
  ohfed::testing::TruncateFile(
      ohfed::testing::NewestDbFile(dir_.path(), ".sst"), 100);

  Reopen();  // without recovery: kDataLoss from the table's size
  EXPECT_THAT(store_->recovery_report(), HasSubstr(": SST 0"));
  EXPECT_THAT(store_->recovery_report(), HasSubstr("damaged tables moved to"));
  // The rollups of the older table came back with the repair: stale for
  // RX1's year until rebuilt from the units.
  ExpectAgentsRestoreTheTruth(12);
}

TEST_F(AggregatorCorruptionTest, FlippedByteLosesSomeUnitsAndAgentsResend) {
  Commit(Truth());
  CloseAndFlush();
  const std::string sst = ohfed::testing::NewestDbFile(dir_.path(), ".sst");
  // The last data block holds the last units ("u/RX1/..").
  ohfed::testing::FlipByte(sst, ohfed::testing::DataBlockBytes(sst) - 40);

  Reopen();  // without recovery: kDataLoss, "block checksum mismatch"
  EXPECT_THAT(store_->recovery_report(), HasSubstr("checksum mismatch"));
  EXPECT_THAT(store_->recovery_report(),
              HasSubstr("readable entries copied back"));
  const size_t lost = Truth().size() - HeldUnits();
  EXPECT_GT(lost, 0u);
  EXPECT_LT(lost, Truth().size());
  ExpectAgentsRestoreTheTruth(lost);
}

// The protocol end to end: a real agent store and uploader, a real
// aggregator that loses the agent's last commit with a torn WAL tail.
TEST(AgentResendTest, AgentResendsWhatARecoveredAggregatorLost) {
  TempDir agent_dir, aggregator_dir;
  FakeClock clock(absl::FromCivil(absl::CivilSecond(2026, 6, 15, 12, 0, 0),
                                  absl::UTCTimeZone()));
  auto agent = agent::LocalStore::Open(
      {.dir = agent_dir.path(), .trust = "RJ1", .clock = &clock});
  OHFED_ASSERT_OK(agent);
  auto start = [&] {
    auto a = Aggregator::Start(testing::LoopbackOptions(aggregator_dir.path()));
    EXPECT_TRUE(a.ok()) << a.status();
    return a.ok() ? std::move(*a) : nullptr;
  };
  auto uploader_to = [&](const Aggregator& a) {
    auto channel = MakeChannel(a.address(), TransportOptions{.insecure = true});
    EXPECT_TRUE(channel.ok()) << channel.status();
    return std::make_unique<Uploader>(
        agent->get(), v1::Ingest::NewStub(*channel),
        UploaderOptions{.feedback_trust = "RJ1"}, &clock);
  };
  auto set = [&](const std::string& month, const std::string& wte) {
    ASSERT_TRUE((*agent)->SetValue(month, "staffing.wte.admin", wte).ok());
  };

  std::unique_ptr<Aggregator> aggregator = start();
  ASSERT_NE(aggregator, nullptr);
  auto uploader = uploader_to(*aggregator);
  for (const char* m : {"2026-01", "2026-02", "2026-03"}) set(m, "2");
  OHFED_ASSERT_OK(uploader->RunOnce());
  set("2026-04", "3");
  set("2026-05", "4");
  OHFED_ASSERT_OK(uploader->RunOnce());  // one commit: the last WAL record
  EXPECT_GT(aggregator->store().HeldRevisionOf("RJ1", "2026-05"), 0u);
  uploader.reset();
  aggregator.reset();
  ohfed::testing::TruncateFile(
      ohfed::testing::NewestDbFile(aggregator_dir.path(), ".log"), 5);

  aggregator = start();
  ASSERT_NE(aggregator, nullptr);
  SummaryStore& store = aggregator->store();
  EXPECT_THAT(store.recovery_report(), HasSubstr("torn tail"));
  EXPECT_EQ(store.HeldRevisionOf("RJ1", "2026-05"), 0u);
  EXPECT_TRUE(store.Snapshot()->Unconfirmed("RJ1"));
  uploader = uploader_to(*aggregator);
  // Nothing pending at the agent: the pass sends nothing, then Feedback
  // lists what is held and the agent finds the two months missing.
  OHFED_ASSERT_OK(uploader->RunOnce());
  auto pending = (*agent)->Pending(100);
  OHFED_ASSERT_OK(pending);
  ASSERT_EQ(pending->size(), 2u);
  OHFED_ASSERT_OK(uploader->RunOnce());  // resends them; asks again
  for (const v1::PeriodState& p : (*agent)->States()) {
    EXPECT_EQ(store.HeldRevisionOf("RJ1", p.period()), p.revision())
        << p.period();
  }
  EXPECT_FALSE(store.Snapshot()->Unconfirmed("RJ1"));
  ExpectSameRollups(store.Rollups(), store.RecomputedRollups());
  EXPECT_EQ(uploader->stats().summaries_sent, 2u);
}

}  // namespace
}  // namespace ohfed::aggregator
