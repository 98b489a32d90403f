// The store over a real RocksDB: keep-highest, durability across reopen,
// incremental rollups (subtract old, add new) and their equality with a
// rebuild from the unit summaries.
#include "aggregator/summary_store.h"

#include <rocksdb/write_batch.h>

#include <atomic>
#include <optional>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "aggregator/codec.h"
#include "aggregator/query_engine.h"
#include "common/rocksdb_util.h"
#include "tests/aggregator/rollup_check.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::AddDistribution;
using ::ohfed::aggregator::testing::ExpectSameRollups;
using ::ohfed::aggregator::testing::Summary;
using ::ohfed::testing::TempDir;

const char kImm[] = "activity.count.immunisation";
const char kWait[] = "activity.wait_days.immunisation";

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(std::shared_ptr<const RegistryHistory> registry = nullptr) {
    store_.reset();
    SummaryStoreOptions options;
    options.clock = &clock_;
    options.registry = std::move(registry);
    options.write_mostly = OHFED_STORE_WRITE_MOSTLY;
    auto s = SummaryStore::Open(dir_.path(), options);
    OHFED_ASSERT_OK(s);
    store_ = std::move(*s);
  }

  std::vector<v1::Outcome> Commit(std::vector<v1::UnitSummary> summaries) {
    auto outcomes = store_->Commit(summaries);
    EXPECT_THAT(outcomes, ::ohfed::testing::IsOk());
    return outcomes.ok() ? *outcomes : std::vector<v1::Outcome>();
  }

  // Copy of a rollup cell; n_units 0 when absent.
  RollupCell Rollup(const std::string& node, const std::string& period,
                    const std::string& measure) {
    return store_->Read([&](const View& v) {
      const RollupCell* c = v.Rollup(node, period, measure);
      return c == nullptr ? RollupCell() : *c;
    });
  }

  uint64_t HeldRevision(const std::string& trust, const std::string& period) {
    return store_->Read([&](const View& v) -> uint64_t {
      const HeldUnit* u = v.Unit(trust, period);
      return u == nullptr ? 0 : u->revision;
    });
  }

  // The maintained rollups equal a rebuild from the units.
  void ExpectSameRollupsForTest();

  TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1774000000)};
  std::unique_ptr<SummaryStore> store_;
};

TEST_F(StoreTest, KeepsHighestRevisionOlderOrEqualIsStale) {
  EXPECT_EQ(Commit({Summary("RJ1", "2026-03", 5, {{kImm, 10}})}),
            std::vector<v1::Outcome>{v1::OUTCOME_ACCEPTED});
  EXPECT_EQ(Commit({Summary("RJ1", "2026-03", 5, {{kImm, 99}}),
                    Summary("RJ1", "2026-03", 4, {{kImm, 98}})}),
            (std::vector<v1::Outcome>{v1::OUTCOME_STALE, v1::OUTCOME_STALE}));
  EXPECT_EQ(HeldRevision("RJ1", "2026-03"), 5u);
  EXPECT_EQ(Rollup("national", "2026-03", kImm).sum, 10);
  // Within one commit the higher revision wins whatever the order.
  EXPECT_EQ(
      Commit({Summary("RJ1", "2026-03", 7, {{kImm, 7}}),
              Summary("RJ1", "2026-03", 6, {{kImm, 6}})}),
      (std::vector<v1::Outcome>{v1::OUTCOME_ACCEPTED, v1::OUTCOME_STALE}));
  EXPECT_EQ(Rollup("national", "2026-03", kImm).sum, 7);
  SummaryStoreStats stats = store_->stats();
  EXPECT_EQ(stats.summaries_accepted, 2u);
  EXPECT_EQ(stats.summaries_stale, 3u);
  EXPECT_EQ(stats.units_held, 1u);
}

TEST_F(StoreTest, AcknowledgedSummariesSurviveReopen) {
  Commit({Summary("RJ1", "2026-03", 1, {{kImm, 10}})});
  clock_.Advance(absl::Hours(1));
  Commit({Summary("RJ1", "2026-03", 2, {{kImm, 12}}),
          Summary("R1H", "2026", 3, {{"profile.seqohs_accredited", 1}})});
  Reopen();
  store_->Read([&](const View& v) {
    const HeldUnit* u = v.Unit("RJ1", "2026-03");
    EXPECT_NE(u, nullptr);
    if (u == nullptr) return 0;
    EXPECT_EQ(u->revision, 2u);
    EXPECT_EQ(u->cells.Find(kImm)->value(), 12);
    // First received is the first revision's arrival; last the held one's.
    EXPECT_EQ(u->last_received_unix_ms - u->first_received_unix_ms,
              3600 * 1000);
    EXPECT_EQ(v.LastReceived("RJ1"), u->last_received_unix_ms);
    EXPECT_NE(v.Unit("R1H", "2026"), nullptr);
    EXPECT_EQ(v.Unit("R1H", "2026-03"), nullptr);
    return 0;
  });
  EXPECT_EQ(Rollup("ics:QKK", "2026-03", kImm).sum, 12);
  EXPECT_EQ(Rollup("national", "2026", "profile.seqohs_accredited").n_units,
            1u);
  EXPECT_EQ(Commit({Summary("RJ1", "2026-03", 2, {{kImm, 1}})}),
            std::vector<v1::Outcome>{v1::OUTCOME_STALE});
}

TEST_F(StoreTest, ReplacementSubtractsOldAndAddsNewAtEveryLevel) {
  // RJ1 in ICS QKK and R1H in ICS QMF, both in London (Y56).
  v1::UnitSummary rj1 = Summary("RJ1", "2026-03", 1, {{kImm, 10}});
  AddDistribution(&rj1, kWait, {{2, 3}, {5, 1}});
  v1::UnitSummary r1h = Summary("R1H", "2026-03", 1, {{kImm, 5}});
  AddDistribution(&r1h, kWait, {{5, 2}});
  Commit({rj1, r1h});
  EXPECT_EQ(Rollup("national", "2026-03", kImm).sum, 15);
  EXPECT_EQ(Rollup("national", "2026-03", kImm).n_units, 2u);
  EXPECT_EQ(Rollup("region:Y56", "2026-03", kImm).sum, 15);
  EXPECT_EQ(Rollup("ics:QKK", "2026-03", kImm).sum, 10);
  EXPECT_EQ(Rollup("ics:QMF", "2026-03", kImm).sum, 5);
  EXPECT_EQ(Rollup("region:Y56", "2026-03", kWait).buckets,
            (RollupBuckets{{2, 3}, {5, 3}}));

  // RJ1 corrects March: fewer immunisations, no wait times at all.
  Commit({Summary("RJ1", "2026-03", 2, {{kImm, 3}})});
  EXPECT_EQ(Rollup("national", "2026-03", kImm).sum, 8);
  EXPECT_EQ(Rollup("national", "2026-03", kImm).n_units, 2u);
  EXPECT_EQ(Rollup("region:Y56", "2026-03", kImm).sum, 8);
  EXPECT_EQ(Rollup("ics:QKK", "2026-03", kImm).sum, 3);
  EXPECT_EQ(Rollup("ics:QMF", "2026-03", kImm).sum, 5);
  EXPECT_EQ(Rollup("national", "2026-03", kWait).buckets,
            (RollupBuckets{{5, 2}}));
  EXPECT_EQ(Rollup("national", "2026-03", kWait).n_units, 1u);
  store_->Read([](const View& v) {
    EXPECT_EQ(v.Rollup("ics:QKK", "2026-03", kWait), nullptr);
    EXPECT_EQ(v.Rollup("ics:QKK", "2026-02", kImm), nullptr);
    return 0;
  });
  // Other regions are untouched.
  EXPECT_EQ(Rollup("region:Y60", "2026-03", kImm).n_units, 0u);
}

// London with two ICSs; `rj1_ics` decides where RJ1 sits.
std::shared_ptr<const Registry> London(const std::string& version,
                                       const std::string& effective,
                                       const std::string& rj1_ics) {
  auto r = Registry::Parse(
      absl::StrCat("# version: ", version, "\n# effective_from: ", effective,
                   "\nregion_code,region_name,ics_code,ics_name,trust_code,"
                   "trust_name\n",
                   "Y56,London,QKK,QKK ICS,R1H,Barts\n",
                   "Y56,London,QMF,QMF ICS,RAL,Royal Free\n", "Y56,London,",
                   rj1_ics, ",", rj1_ics, " ICS,RJ1,Guy's\n"),
      version);
  EXPECT_THAT(r, ::ohfed::testing::IsOk());
  return *r;
}

// Queries on unchanged data share one pattern cache (a dashboard page runs
// dozens of queries, each needing the same measures' patterns); any change
// to what is held starts a new one, so no query sees patterns of old data.
TEST_F(StoreTest, QueriesSharePatternsUntilWhatIsHeldChanges) {
  Commit({Summary("RJ1", "2026-03", 1, {{kImm, 10}}),
          Summary("R1H", "2026-03", 1, {{kImm, 3}})});
  SummaryStore::QuerySnapshot first = store_->SnapshotForQuery();
  ASSERT_NE(first.patterns, nullptr);
  v1::QueryRequest request;
  request.set_scope("region:Y56");
  request.set_period("2026-03");
  request.set_by("trust");
  request.set_measure_prefix(kImm);
  QueryOptions options;
  options.patterns = first.patterns;
  OHFED_ASSERT_OK(RunQuery(*first.view, request, options));
  EXPECT_EQ(first.patterns->size(), 1u);
  EXPECT_EQ(store_->SnapshotForQuery().patterns, first.patterns);

  // Stale: nothing held changed.
  Commit({Summary("RJ1", "2026-03", 1, {{kImm, 99}})});
  EXPECT_EQ(store_->SnapshotForQuery().patterns, first.patterns);

  Commit({Summary("RJ1", "2026-03", 2, {{kImm, 11}})});
  SummaryStore::QuerySnapshot second = store_->SnapshotForQuery();
  EXPECT_NE(second.patterns, first.patterns);
  EXPECT_EQ(second.patterns->size(), 0u);

  OHFED_ASSERT_OK(store_->Rebuild());
  EXPECT_NE(store_->SnapshotForQuery().patterns, second.patterns);
}

TEST_F(StoreTest, RollupsFollowTheRegistryInEffectForThePeriod) {
  // From 2026-02 RJ1 moves from ICS QKK to QMF; January stays where it was.
  auto history =
      std::make_shared<RegistryHistory>(London("v1", "2025-01", "QKK"));
  OHFED_ASSERT_OK(history->Add(London("v2", "2026-02", "QMF")));
  Reopen(history);
  Commit({Summary("RJ1", "2026-01", 1, {{kImm, 4}}),
          Summary("RJ1", "2026-02", 1, {{kImm, 6}})});
  EXPECT_EQ(Rollup("ics:QKK", "2026-01", kImm).sum, 4);
  EXPECT_EQ(Rollup("ics:QMF", "2026-01", kImm).n_units, 0u);
  EXPECT_EQ(Rollup("ics:QMF", "2026-02", kImm).sum, 6);
  EXPECT_EQ(Rollup("ics:QKK", "2026-02", kImm).n_units, 0u);
  ExpectSameRollupsForTest();
}

TEST_F(StoreTest, ChangedRegistryRebuildsStoredRollupsAtOpen) {
  Reopen(std::make_shared<RegistryHistory>(London("v1", "2025-01", "QKK")));
  Commit({Summary("RJ1", "2026-01", 1, {{kImm, 4}})});
  EXPECT_FALSE(store_->registry_changed_at_open());
  Reopen(std::make_shared<RegistryHistory>(London("v1", "2025-01", "QKK")));
  EXPECT_FALSE(store_->registry_changed_at_open());
  // The operator's corrected registry places RJ1 in QMF.
  Reopen(std::make_shared<RegistryHistory>(London("v1b", "2025-01", "QMF")));
  EXPECT_TRUE(store_->registry_changed_at_open());
  EXPECT_EQ(Rollup("ics:QMF", "2026-01", kImm).sum, 4);
  EXPECT_EQ(Rollup("ics:QKK", "2026-01", kImm).n_units, 0u);
  // A replacement now subtracts from where the unit actually is.
  Commit({Summary("RJ1", "2026-01", 2, {{kImm, 1}})});
  EXPECT_EQ(Rollup("ics:QMF", "2026-01", kImm).sum, 1);
  ExpectSameRollupsForTest();
}

// Issue 11: a version added to the history (here one earlier than the
// latest, which leaves the latest alone) changes the placement of held
// periods, so the stored rollups are rebuilt at open.
TEST_F(StoreTest, AddedEarlierVersionRebuildsRollupsAtOpen) {
  auto latest_only =
      std::make_shared<RegistryHistory>(London("v2", "2026-02", "QMF"));
  Reopen(latest_only);
  Commit({Summary("RJ1", "2026-01", 1, {{kImm, 4}})});
  EXPECT_EQ(Rollup("ics:QMF", "2026-01", kImm).sum, 4);
  auto history =
      std::make_shared<RegistryHistory>(London("v1", "2025-01", "QKK"));
  OHFED_ASSERT_OK(history->Add(London("v2", "2026-02", "QMF")));
  Reopen(history);
  EXPECT_TRUE(store_->registry_changed_at_open());
  EXPECT_EQ(Rollup("ics:QKK", "2026-01", kImm).sum, 4);
  EXPECT_EQ(Rollup("ics:QMF", "2026-01", kImm).n_units, 0u);
  Reopen(history);
  EXPECT_FALSE(store_->registry_changed_at_open());
}

// SIGHUP (issue 11): Reconfigure puts a new history in force while the store
// serves; held periods move to where it places them, durably, and snapshots
// taken before keep the old placement.
TEST_F(StoreTest, ReconfigureFollowsANewHistoryAndRebuildsRollups) {
  auto v1 = std::make_shared<RegistryHistory>(London("v1", "2025-01", "QKK"));
  Reopen(v1);
  Commit({Summary("RJ1", "2026-01", 1, {{kImm, 4}}),
          Summary("RJ1", "2026-03", 1, {{kImm, 6}})});
  std::shared_ptr<const View> before = store_->Snapshot();

  // RJ1 moves to QMF from 2026-02.
  auto v2 = std::make_shared<RegistryHistory>(London("v1", "2025-01", "QKK"));
  OHFED_ASSERT_OK(v2->Add(London("v2", "2026-02", "QMF")));
  ReferenceData next{std::make_shared<CatalogueVersions>(Catalogue::Default()),
                     v2, DisclosureOptions{}};
  next.disclosure.suppress_max = 3;
  auto rebuilt = store_->Reconfigure(next);
  OHFED_ASSERT_OK(rebuilt);
  EXPECT_TRUE(*rebuilt);
  EXPECT_EQ(Rollup("ics:QKK", "2026-01", kImm).sum, 4);
  EXPECT_EQ(Rollup("ics:QMF", "2026-03", kImm).sum, 6);
  EXPECT_EQ(Rollup("ics:QKK", "2026-03", kImm).n_units, 0u);
  EXPECT_EQ(store_->registry().Latest().version(), "v2");
  EXPECT_EQ(store_->disclosure().suppress_max, 3);
  EXPECT_EQ(before->Rollup("ics:QKK", "2026-03", kImm)->sum, 6);
  EXPECT_EQ(before->RegistryAt(Month::Of(2026, 3)).version(), "v1");
  // Commits after it follow the new placement.
  Commit({Summary("RJ1", "2026-03", 2, {{kImm, 1}})});
  EXPECT_EQ(Rollup("ics:QMF", "2026-03", kImm).sum, 1);
  ExpectSameRollupsForTest();
  // The same history again changes nothing; bad thresholds are refused.
  rebuilt = store_->Reconfigure(next);
  OHFED_ASSERT_OK(rebuilt);
  EXPECT_FALSE(*rebuilt);
  ReferenceData bad = next;
  bad.disclosure.rounding_base = 0;
  EXPECT_FALSE(store_->Reconfigure(bad).ok());
  EXPECT_EQ(store_->disclosure().rounding_base, 5);
  // What Reconfigure wrote is what a restart with that history finds.
  Reopen(v2);
  EXPECT_FALSE(store_->registry_changed_at_open());
  EXPECT_EQ(Rollup("ics:QMF", "2026-03", kImm).sum, 1);
}

void StoreTest::ExpectSameRollupsForTest() {
  ExpectSameRollups(store_->Rollups(), store_->RecomputedRollups());
}

TEST_F(StoreTest, IncrementalRollupsEqualRebuildAfterRandomReplacements) {
  const std::vector<std::string> trusts = {"RJ1", "R1H", "RAL", "RAX",
                                           "RRK", "RTH", "RX1", "RBS"};
  const std::vector<std::string> periods = {"2026-01", "2026-02", "2026-03"};
  const std::vector<std::string> measures = {
      kImm, "activity.count.tb_screening", "staffing.wte.admin",
      "staffing.wte.consultant_om"};
  std::mt19937 rng(42);
  std::map<std::string, uint64_t> revision;
  for (int round = 0; round < 60; ++round) {
    std::vector<v1::UnitSummary> batch;
    for (int i = 0; i < 5; ++i) {
      const std::string& t = trusts[rng() % trusts.size()];
      const std::string& p = periods[rng() % periods.size()];
      // Mostly newer revisions, sometimes a stale resend.
      uint64_t& rev = revision[t + p];
      uint64_t r = rng() % 5 == 0 ? std::max<uint64_t>(rev, 1) : ++rev;
      v1::UnitSummary s = Summary(t, p, r, {});
      for (const std::string& m : measures) {
        if (rng() % 3 == 0) continue;  // measures come and go
        v1::Cell* c = s.add_cells();
        c->set_measure(m);
        c->set_value(m.rfind("staffing", 0) == 0 ? (rng() % 100) / 10.0
                                                 : rng() % 50);
      }
      if (rng() % 2) {
        AddDistribution(&s, kWait,
                        {{double(rng() % 4), 1 + rng() % 3},
                         {double(4 + rng() % 4), 1 + rng() % 3}});
      }
      if (rng() % 8 == 0) {  // now and then the trust retracts the period
        s.clear_cells();
        s.set_retracted(true);
      }
      batch.push_back(s);
    }
    Commit(batch);
  }
  ExpectSameRollups(store_->Rollups(), store_->RecomputedRollups());
  RollupMap before = store_->Rollups();
  OHFED_ASSERT_OK(store_->Rebuild());
  ExpectSameRollups(store_->Rollups(), before);
  Reopen();  // the rebuilt rollups are what was persisted
  ExpectSameRollups(store_->Rollups(), store_->RecomputedRollups());
}

// A retraction is held as a revision (older ones stay stale) but the unit
// leaves the view and every rollup, also after a reopen.
TEST_F(StoreTest, RetractionForgetsTheUnitAndItsRollups) {
  v1::UnitSummary rj1 = Summary("RJ1", "2026-03", 1, {{kImm, 10}});
  AddDistribution(&rj1, kWait, {{3, 2}});
  Commit({rj1, Summary("R1H", "2026-03", 1, {{kImm, 5}})});
  v1::UnitSummary retraction = Summary("RJ1", "2026-03", 2, {{kImm, 1}});
  retraction.set_retracted(true);  // any cells sent with it are ignored
  EXPECT_EQ(Commit({retraction}),
            std::vector<v1::Outcome>{v1::OUTCOME_ACCEPTED});
  for (int reopen = 0; reopen < 2; ++reopen) {
    EXPECT_EQ(HeldRevision("RJ1", "2026-03"), 0u);  // not in the view
    EXPECT_EQ(store_->HeldRevisionOf("RJ1", "2026-03"), 2u);
    EXPECT_EQ(Rollup("national", "2026-03", kImm).sum, 5);
    EXPECT_EQ(Rollup("national", "2026-03", kImm).n_units, 1u);
    EXPECT_EQ(Rollup("ics:QKK", "2026-03", kImm).n_units, 0u);
    EXPECT_EQ(Rollup("region:Y56", "2026-03", kWait).n_units, 0u);
    EXPECT_EQ(store_->stats().units_held, 1u);
    ExpectSameRollupsForTest();
    Reopen();
  }
  EXPECT_EQ(Commit({Summary("RJ1", "2026-03", 2, {{kImm, 10}})}),
            std::vector<v1::Outcome>{v1::OUTCOME_STALE});
  EXPECT_EQ(Commit({Summary("RJ1", "2026-03", 3, {{kImm, 7}})}),
            std::vector<v1::Outcome>{v1::OUTCOME_ACCEPTED});
  EXPECT_EQ(Rollup("national", "2026-03", kImm).sum, 12);
  ExpectSameRollupsForTest();
}

TEST_F(StoreTest, ConcurrentCommitsAreGroupedAndEachAppliedOnce) {
  SummaryStoreOptions options;
  options.group_commit_delay = absl::Milliseconds(5);
  options.write_mostly = OHFED_STORE_WRITE_MOSTLY;
  store_.reset();
  auto s = SummaryStore::Open(dir_.path(), options);
  OHFED_ASSERT_OK(s);
  store_ = std::move(*s);
  const std::vector<std::string> trusts = {"RJ1", "R1H", "RAL", "RAX",
                                           "RRK", "RTH", "RX1", "RBS"};
  std::vector<std::thread> threads;
  for (const std::string& t : trusts) {
    threads.emplace_back([&, t] {
      for (int m = 1; m <= 12; ++m) {
        std::string period = absl::StrFormat("2025-%02d", m);
        auto out = store_->Commit({Summary(t, period, 1, {{kImm, 1}})});
        EXPECT_THAT(out, ::ohfed::testing::IsOk());
        if (out.ok()) {
          EXPECT_EQ((*out)[0], v1::OUTCOME_ACCEPTED);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  SummaryStoreStats stats = store_->stats();
  EXPECT_EQ(stats.summaries_accepted, 96u);
  EXPECT_LT(stats.commits, 96u);
  for (int m = 1; m <= 12; ++m) {
    EXPECT_EQ(Rollup("national", absl::StrFormat("2025-%02d", m), kImm).sum, 8);
  }
}

// Issue 8: a query held the index's reader lock for its whole run, so a long
// query delayed every commit (and so every acknowledgement). A query now
// reads a snapshot: a commit completes while one is paused inside the view,
// and the paused query keeps seeing what was held when it started.
TEST_F(StoreTest, CommitCompletesWhileAQueryIsPausedInsideTheView) {
  Commit({Summary("RJ1", "2026-03", 1, {{kImm, 4}})});
  absl::Notification inside, release, committed;
  std::thread query([&] {
    std::pair<uint64_t, double> seen = store_->Read([&](const View& v) {
      inside.Notify();
      release.WaitForNotification();
      return std::make_pair(v.Unit("RJ1", "2026-03")->revision,
                            v.Rollup("national", "2026-03", kImm)->sum);
    });
    EXPECT_EQ(seen, std::make_pair(uint64_t{1}, 4.0));
  });
  inside.WaitForNotification();
  std::thread writer([&] {
    Commit({Summary("RJ1", "2026-03", 2, {{kImm, 5}}),
            Summary("RJZ", "2026-03", 1, {{kImm, 6}})});
    committed.Notify();
  });
  // Not a timing assertion: without snapshots the commit waits for the
  // release below, however long this waits.
  EXPECT_TRUE(committed.WaitForNotificationWithTimeout(absl::Seconds(20)))
      << "the commit waited for the query";
  if (committed.HasBeenNotified()) {
    EXPECT_EQ(HeldRevision("RJ1", "2026-03"), 2u);
    EXPECT_EQ(Rollup("national", "2026-03", kImm).sum, 11);
  }
  release.Notify();
  query.join();
  writer.join();
  ExpectSameRollupsForTest();
}

// A snapshot held across many commits (each copying the shards it shares)
// stays exactly as it was, and the live index stays consistent.
TEST_F(StoreTest, SnapshotsAreUnchangedByLaterCommits) {
  Commit({Summary("RJ1", "2026-03", 1, {{kImm, 4}}),
          Summary("RJ1", "2026-04", 1, {{kImm, 8}})});
  std::shared_ptr<const View> before = store_->Snapshot();
  for (uint64_t rev = 2; rev < 6; ++rev) {
    Commit({Summary("RJ1", "2026-03", rev, {{kImm, 10.0 * rev}}),
            Summary("RJZ", "2026-05", rev, {{kImm, 1}})});
  }
  EXPECT_EQ(before->Unit("RJ1", "2026-03")->revision, 1u);
  EXPECT_EQ(before->Rollup("national", "2026-03", kImm)->sum, 4);
  EXPECT_EQ(before->Rollup("national", "2026-04", kImm)->sum, 8);
  EXPECT_EQ(before->Unit("RJZ", "2026-05"), nullptr);
  EXPECT_EQ(HeldRevision("RJ1", "2026-03"), 5u);
  EXPECT_EQ(Rollup("national", "2026-03", kImm).sum, 50);
  EXPECT_EQ(HeldRevision("RJZ", "2026-05"), 5u);
  EXPECT_EQ(store_->HeldRevisions().size(), 3u);
  ExpectSameRollupsForTest();
}

// Issue 14: every query copied the index's map of periods under the index
// lock. Readers now take the version the last change published: taking one
// costs a reference count, and two with no change between are one object.
TEST_F(StoreTest, SnapshotIsThePublishedVersionUntilAChange) {
  Commit({Summary("RJ1", "2026-03", 1, {{kImm, 4}})});
  std::shared_ptr<const View> a = store_->Snapshot();
  SummaryStore::QuerySnapshot b = store_->SnapshotForQuery();
  EXPECT_EQ(a.get(), b.view.get());
  EXPECT_EQ(a.get(), store_->Snapshot().get());
  Commit({Summary("RJ1", "2026-03", 1, {{kImm, 5}})});  // stale: no change
  EXPECT_EQ(a.get(), store_->Snapshot().get());
  Commit({Summary("RJ1", "2026-03", 2, {{kImm, 5}})});
  EXPECT_NE(a.get(), store_->Snapshot().get());
  EXPECT_EQ(a->Rollup("national", "2026-03", kImm)->sum, 4);
  EXPECT_EQ(Rollup("national", "2026-03", kImm).sum, 5);
}

// Readers looping over snapshots while commits proceed always see whole
// commits: every commit moves 1 from one trust to another, so the national
// total of every snapshot is the same, and equals the sum of its units.
TEST_F(StoreTest, ReadersSeeWholeCommitsWhileCommitsProceed) {
  Commit({Summary("RJ1", "2026-03", 1, {{kImm, 50}}),
          Summary("RJZ", "2026-03", 1, {{kImm, 50}})});
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!stop.load() || reads.load() < 10) {
      std::shared_ptr<const View> v = store_->Snapshot();
      const double a = v->Unit("RJ1", "2026-03")->cells.Find(kImm)->value();
      const double b = v->Unit("RJZ", "2026-03")->cells.Find(kImm)->value();
      ASSERT_EQ(a + b, 100);
      ASSERT_EQ(v->Rollup("national", "2026-03", kImm)->sum, 100);
      ASSERT_EQ(v->Rollup("region:Y56", "2026-03", kImm)->sum, a + b);
      reads.fetch_add(1);
    }
  });
  for (uint64_t rev = 2; rev < 40; ++rev) {
    const double a = static_cast<double>(rev);
    Commit({Summary("RJ1", "2026-03", rev, {{kImm, a}}),
            Summary("RJZ", "2026-03", rev, {{kImm, 100 - a}})});
  }
  stop.store(true);
  reader.join();
  EXPECT_GE(reads.load(), 10);
  ExpectSameRollupsForTest();
}

// Issue 14: each commit rewrote every rollup cell it touched (three nodes x
// every measure), several times the summary's own size. Rollups are now
// derived in memory only: a commit writes the unit record and nothing else,
// and no rollup record is on disk.
TEST_F(StoreTest, CommitWritesOnlyTheUnitRecords) {
  v1::UnitSummary s = Summary("RJ1", "2026-03", 1,
                              {{kImm, 4},
                               {"activity.count.tb_screening", 7},
                               {"staffing.wte.admin", 2.5},
                               {"staffing.wte.consultant_om", 1}});
  AddDistribution(&s, kWait, {{1, 2}, {5, 3}, {9, 1}});
  Commit({s});
  const uint64_t record_bytes = EncodeUnit({0, 0, s}).size();
  EXPECT_LT(store_->stats().bytes_written, record_bytes + 64);
  store_.reset();
  auto db = OpenDb(dir_.path(), DbFootprint::kServer);
  OHFED_ASSERT_OK(db);
  int rollup_records = 0;
  OHFED_ASSERT_OK(ScanPrefix(db->get(), kRollupPrefix,
                             [&](absl::string_view, absl::string_view) {
                               ++rollup_records;
                               return absl::OkStatus();
                             }));
  EXPECT_EQ(rollup_records, 0);
}

// A summary committed with the bytes it arrived in is stored as those bytes
// compressed (no re-serialization), and they decode to the record a
// re-serialization gives, even when their fields come in another order.
TEST_F(StoreTest, ReceivedBytesAreStoredAsTheyCameAndDecodeAsReserialized) {
  v1::UnitSummary s = Summary("RJ1", "2026-03", 4, {{kImm, 4}});
  AddDistribution(&s, kWait, {{1, 2}, {5, 3}});
  // Cells first, then the rest: parses to `s`, but is not its serialization.
  v1::UnitSummary cells_only, rest = s;
  *cells_only.mutable_cells() = s.cells();
  rest.clear_cells();
  const std::string received =
      cells_only.SerializeAsString() + rest.SerializeAsString();
  v1::UnitSummary parsed;
  ASSERT_TRUE(parsed.ParseFromString(received));
  ASSERT_EQ(parsed.SerializeAsString(), s.SerializeAsString());
  ASSERT_NE(received, s.SerializeAsString());
  SummaryStore::Incoming in{&parsed, /*forwarded=*/false, received};
  auto outcomes = store_->CommitReceived({&in, 1});
  OHFED_ASSERT_OK(outcomes);
  EXPECT_EQ(*outcomes, std::vector<v1::Outcome>{v1::OUTCOME_ACCEPTED});
  const int64_t now = absl::ToUnixMillis(clock_.Now());
  store_.reset();
  auto db = OpenDb(dir_.path(), DbFootprint::kServer);
  OHFED_ASSERT_OK(db);
  auto stored = GetValue(db->get(), "u/RJ1/2026-03");
  OHFED_ASSERT_OK(stored);
  const StoredUnitBody body = CompressUnitBody(received);
  EXPECT_EQ(*stored, EncodeUnitHeader(now, now, body) + body.bytes);
  auto bytes = ReadUnitBytes("u/RJ1/2026-03", *stored);
  OHFED_ASSERT_OK(bytes);
  EXPECT_EQ(bytes->summary, received);
  auto decoded = DecodeUnit("u/RJ1/2026-03", *stored);
  OHFED_ASSERT_OK(decoded);
  const std::string reserialized = EncodeUnit({now, now, s});
  EXPECT_EQ(EncodeUnit(*decoded), reserialized);
}

// A commit answers, per summary, the revision its unit holds once the whole
// group is made: the ingest service's acks carry it (held_revision) without
// asking the store again.
TEST_F(StoreTest, CommitAnswersTheRevisionHeldAfterTheGroup) {
  Commit({Summary("RJ1", "2026-03", 5, {{kImm, 1}})});
  const std::vector<v1::UnitSummary> batch = {
      Summary("RJ1", "2026-03", 3, {{kImm, 2}}),  // stale against 5...
      Summary("RJ1", "2026-03", 7, {{kImm, 3}}),  // ...then replaced by 7
      Summary("R1H", "2026-03", 2, {{kImm, 4}}),
      Summary("R1H", "2026-03", 1, {{kImm, 5}}),  // stale within the group
      Summary("RJ1", "2026-02", 1, {{kImm, 6}})};
  std::vector<SummaryStore::Incoming> in;
  for (const v1::UnitSummary& s : batch) in.push_back({&s, true, {}});
  auto committed = store_->CommitAndWait(in);
  OHFED_ASSERT_OK(committed);
  EXPECT_EQ(committed->outcomes,
            (std::vector<v1::Outcome>{v1::OUTCOME_STALE, v1::OUTCOME_ACCEPTED,
                                      v1::OUTCOME_ACCEPTED, v1::OUTCOME_STALE,
                                      v1::OUTCOME_ACCEPTED}));
  EXPECT_EQ(committed->held_revisions, (std::vector<uint64_t>{7, 7, 2, 2, 1}));
  EXPECT_EQ(Rollup("national", "2026-03", kImm).sum, 7);
}

// A batch arriving while no commit is under way is committed on its
// caller's thread: no hand-off to a committing thread (and its wake-up) on
// the path of a lone batch's acknowledgement.
TEST_F(StoreTest, ALoneCommitIsLedOnItsCallersThread) {
  const v1::UnitSummary s = Summary("RJ1", "2026-03", 1, {{kImm, 1}});
  const SummaryStore::Incoming in[] = {{&s, true, {}}};
  std::optional<std::thread::id> answered_on;
  store_->CommitAsync(in, [&](absl::StatusOr<SummaryStore::Committed> c) {
    OHFED_EXPECT_OK(c);
    answered_on = std::this_thread::get_id();
  });
  // Answered before CommitAsync returned, on this thread.
  ASSERT_TRUE(answered_on.has_value());
  EXPECT_EQ(*answered_on, std::this_thread::get_id());
  EXPECT_EQ(Rollup("national", "2026-03", kImm).sum, 1);
}

// Received bytes are not stored when the store drops part of the summary:
// a first_received_unix_ms from a sender that does not forward (ignored and
// not kept), and a retraction's cells.
TEST_F(StoreTest, ReceivedBytesAreReserializedWhenPartIsDropped) {
  const int64_t now = absl::ToUnixMillis(clock_.Now());
  v1::UnitSummary early = Summary("RJ1", "2026-03", 1, {{kImm, 4}});
  early.set_first_received_unix_ms(now - 3600 * 1000);
  v1::UnitSummary retraction = Summary("R1H", "2026-03", 1, {{kImm, 2}});
  retraction.set_retracted(true);
  v1::UnitSummary forwarded = Summary("RAJ", "2026-03", 1, {{kImm, 3}});
  forwarded.set_first_received_unix_ms(now - 60 * 1000);
  const std::string early_bytes = early.SerializeAsString();
  const std::string retraction_bytes = retraction.SerializeAsString();
  const SummaryStore::Incoming in[] = {
      {&early, /*forwarded=*/false, early_bytes},
      {&retraction, /*forwarded=*/false, retraction_bytes},
      {&forwarded, /*forwarded=*/true, {}}};
  OHFED_ASSERT_OK(store_->CommitReceived(in));
  store_->Read([&](const View& v) {
    EXPECT_EQ(v.Unit("RJ1", "2026-03")->first_received_unix_ms, now);
    EXPECT_EQ(v.Unit("RAJ", "2026-03")->first_received_unix_ms,
              now - 60 * 1000);
    return 0;
  });
  store_.reset();
  auto db = OpenDb(dir_.path(), DbFootprint::kServer);
  OHFED_ASSERT_OK(db);
  auto stored = GetValue(db->get(), "u/RJ1/2026-03");
  OHFED_ASSERT_OK(stored);
  v1::UnitSummary expected = early;
  expected.clear_first_received_unix_ms();
  EXPECT_EQ(*stored, EncodeUnit({now, now, expected}));
  stored = GetValue(db->get(), "u/R1H/2026-03");
  OHFED_ASSERT_OK(stored);
  auto tombstone = DecodeUnit("u/R1H/2026-03", *stored);
  OHFED_ASSERT_OK(tombstone);
  EXPECT_TRUE(tombstone->summary.retracted());
  EXPECT_EQ(tombstone->summary.cells_size(), 0);
}

// Rollups after a reopen are exactly a rebuild from the units held, and the
// same as before it; rollup records a store of an earlier version kept are
// ignored and deleted at open.
TEST_F(StoreTest, RollupsEqualRebuildAfterReopenAndIgnoreStoredRecords) {
  Commit({Summary("RJ1", "2026-03", 1, {{kImm, 4}}),
          Summary("RJZ", "2026-03", 1, {{kImm, 6}})});
  Commit({Summary("RJ1", "2026-03", 2, {{kImm, 7}})});
  const RollupMap before = store_->Rollups();
  store_.reset();
  {
    // A stale record as an earlier version might have left it.
    auto db = OpenDb(dir_.path(), DbFootprint::kServer);
    OHFED_ASSERT_OK(db);
    rocksdb::WriteBatch batch;
    batch.Put(
        absl::StrCat(kRollupPrefix, RollupId("national", "2026-03", kImm)),
        EncodeRollup(RollupCell{.sum = 99, .n_units = 9}));
    OHFED_ASSERT_OK(WriteSynced(db->get(), &batch));
  }
  Reopen();
  EXPECT_EQ(Rollup("national", "2026-03", kImm).sum, 13);
  EXPECT_EQ(Rollup("national", "2026-03", kImm).n_units, 2u);
  ExpectSameRollups(store_->Rollups(), before);
  ExpectSameRollupsForTest();
  Reopen();
  EXPECT_EQ(Rollup("national", "2026-03", kImm).sum, 13);
  store_.reset();
  auto db = OpenDb(dir_.path(), DbFootprint::kServer);
  OHFED_ASSERT_OK(db);
  EXPECT_TRUE(absl::IsNotFound(
      GetValue(db->get(), absl::StrCat(kRollupPrefix,
                                       RollupId("national", "2026-03", kImm)))
          .status()));
}

// A quiet store gives its memtables back (aggregator/heap_keeper.h): they
// are flushed to disk, and what was committed is still held and durable.
TEST_F(StoreTest, ReleaseIdleMemoryFlushesTheMemtablesAndKeepsTheData) {
  Commit({Summary("RJ1", "2026-03", 1, {{kImm, 4}}),
          Summary("RJ2", "2026-03", 1, {{kImm, 9}})});
  const std::string kEntries = "rocksdb.num-entries-active-mem-table";
  ASSERT_GT(store_->DbIntProperty(kEntries), 0u);
  const std::string kSst = "rocksdb.live-sst-files-size";
  const uint64_t sst = store_->DbIntProperty(kSst);

  OHFED_ASSERT_OK(store_->ReleaseIdleMemory(/*min_memtable_bytes=*/0));

  EXPECT_EQ(store_->DbIntProperty(kEntries), 0u);
  EXPECT_EQ(store_->DbIntProperty("rocksdb.num-entries-imm-mem-tables"), 0u);
  EXPECT_GT(store_->DbIntProperty(kSst), sst);
  EXPECT_EQ(Rollup("national", "2026-03", kImm).sum, 13);
  Commit({Summary("RJ1", "2026-03", 2, {{kImm, 5}})});  // still writable
  Reopen();
  EXPECT_EQ(HeldRevision("RJ1", "2026-03"), 2u);
  EXPECT_EQ(Rollup("national", "2026-03", kImm).sum, 14);
}

// A few small commits are not worth a file of their own: below the
// threshold the memtable stays.
TEST_F(StoreTest, ReleaseIdleMemoryLeavesASmallMemtable) {
  Commit({Summary("RJ1", "2026-03", 1, {{kImm, 4}})});
  const std::string kEntries = "rocksdb.num-entries-active-mem-table";
  const uint64_t entries = store_->DbIntProperty(kEntries);
  ASSERT_GT(entries, 0u);

  OHFED_ASSERT_OK(store_->ReleaseIdleMemory(/*min_memtable_bytes=*/1 << 30));

  EXPECT_EQ(store_->DbIntProperty(kEntries), entries);
}

// A held unit's compact cells answer as the summary's cells did: by
// measure, values and buckets as sent, the later of two cells for one
// measure kept.
TEST(UnitCellsTest, FindsEveryCellAsSentAndKeepsTheLaterDuplicate) {
  v1::UnitSummary s = Summary("RJ1", "2026-03", 1,
                              {{"staffing.wte.admin", 2.5},
                               {kImm, 4},
                               {"activity.count.tb_screening", 7},
                               {kImm, 9}});
  AddDistribution(&s, kWait, {{1, 2}, {5, 3}});
  UnitCells cells(s.cells());
  ASSERT_EQ(cells.size(), 4u);
  EXPECT_EQ(cells.Find(kImm)->value(), 9);
  EXPECT_EQ(cells.Find("staffing.wte.admin")->value(), 2.5);
  EXPECT_EQ(cells.Find("activity.count.tb_screening")->measure(),
            "activity.count.tb_screening");
  EXPECT_EQ(cells.Find("activity.count"), nullptr);
  EXPECT_EQ(cells.Find("zzz"), nullptr);
  const UnitCell* wait = cells.Find(kWait);
  ASSERT_NE(wait, nullptr);
  EXPECT_EQ(wait->value(), 5);
  ASSERT_EQ(wait->buckets().size(), 2u);
  EXPECT_EQ(wait->buckets()[1].value(), 5);
  EXPECT_EQ(wait->buckets()[1].count(), 3u);
  v1::Cell replacement;
  replacement.set_measure(kImm);
  replacement.set_value(1);
  cells.Set(replacement);
  EXPECT_EQ(cells.Find(kImm)->value(), 1);
  EXPECT_EQ(cells.size(), 4u);
}

// Index::RemoveUnit (for retractions) forgets the unit in the live index
// only; a snapshot taken before still holds it.
TEST(IndexTest, RemoveUnitLeavesSnapshotsAlone) {
  Index index(Catalogue::Default(),
              std::make_shared<RegistryHistory>(Registry::England()));
  HeldUnit unit;
  unit.trust = "RJ1";
  unit.period = "2026-03";
  unit.revision = 3;
  unit.last_received_unix_ms = 1000;
  index.PutUnit(unit);
  unit.period = "2026-04";
  index.PutUnit(unit);
  const Index snapshot = index;
  index.RemoveUnit("RJ1", "2026-03");
  index.RemoveUnit("RJ1", "2026-05");  // not held: nothing happens
  EXPECT_EQ(index.Unit("RJ1", "2026-03"), nullptr);
  EXPECT_NE(index.Unit("RJ1", "2026-04"), nullptr);
  EXPECT_EQ(index.unit_count(), 1u);
  EXPECT_EQ(index.LastReceived("RJ1"), 1000);
  ASSERT_NE(snapshot.Unit("RJ1", "2026-03"), nullptr);
  EXPECT_EQ(snapshot.Unit("RJ1", "2026-03")->revision, 3u);
  EXPECT_EQ(snapshot.unit_count(), 2u);
}

}  // namespace
}  // namespace ohfed::aggregator
