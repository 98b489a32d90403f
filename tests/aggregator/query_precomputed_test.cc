// What the query engine keeps or builds to answer faster (issue 14 figure
// 3) equals the straightforward computation: the secondary-suppression
// patterns a commit carries over (PatternCache::CarryOver) equal freshly
// computed ones after commits, retractions and registry changes, and the
// per-query unit grid (aggregator/query_grid.h), with the node sums it
// caches and a commit carries over (PatternCache::Sums), answers what
// aggregator/query_values.h answers, and so do the node totals over
// standard periods it keeps (PatternCache::Total).
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "aggregator/disclosure_pattern.h"
#include "aggregator/query_engine.h"
#include "aggregator/query_grid.h"
#include "aggregator/query_values.h"
#include "aggregator/summary_store.h"
#include "tests/aggregator/rollup_check.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::AddDistribution;
using ::ohfed::aggregator::testing::Summary;
using ::ohfed::testing::TempDir;

const char kImm[] = "activity.count.immunisation";
const char kTb[] = "activity.count.tb_screening";
const char kWait[] = "activity.wait_days.immunisation";
const char kAdmin[] = "staffing.wte.admin";

// Trusts of two ICSs in two regions (the default England registry).
const std::vector<std::string> kTrusts = {"RJ1", "R1H", "RAL", "RAX",
                                          "RRK", "RTH", "RX1", "RBS"};

class PrecomputedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SummaryStore::Open(dir_.path(), SummaryStoreOptions{});
    OHFED_ASSERT_OK(s);
    store_ = std::move(*s);
  }

  void Commit(std::vector<v1::UnitSummary> summaries) {
    OHFED_ASSERT_OK(store_->Commit(summaries));
  }

  // Asks for `measure` by trust nationally for `period` with the store's
  // shared patterns, as the query service does: its pattern is then cached.
  void Ask(const std::string& measure, const std::string& period) {
    SummaryStore::QuerySnapshot snap = store_->SnapshotForQuery();
    QueryOptions options;
    options.patterns = snap.patterns;
    options.disclosure = store_->disclosure();
    v1::QueryRequest request;
    request.set_scope("national");
    request.set_period(period);
    request.set_by("trust");
    request.set_measure_prefix(measure);
    OHFED_ASSERT_OK(RunQuery(*snap.view, request, options));
  }

  // Every pattern in the current cache equals one computed afresh from the
  // current snapshot; returns how many were checked.
  size_t ExpectCachedPatternsFresh() {
    SummaryStore::QuerySnapshot snap = store_->SnapshotForQuery();
    size_t checked = 0;
    for (const char* code : {kImm, kTb, kWait}) {
      const Measure* m = store_->catalogue().Find(code);
      std::shared_ptr<const SuppressionPattern> cached =
          snap.patterns->Find(code);
      if (cached == nullptr) continue;  // not cached: nothing carried over
      ++checked;
      EXPECT_TRUE(*cached == SuppressionPattern::Compute(*snap.view, *m,
                                                         store_->disclosure()))
          << code;
    }
    return checked;
  }

  // A node's sums over months read through the snapshot's cache (filled,
  // or carried over from earlier snapshots) equal RollupTotal's from the
  // View; then the cache holds them for the next commit to carry over.
  void ExpectSumsFresh() {
    SummaryStore::QuerySnapshot snap = store_->SnapshotForQuery();
    auto period = Period::Parse("2025-12:2026-03");
    ASSERT_TRUE(period.ok());
    UnitGrid grid(*snap.view, *period, snap.patterns.get());
    std::vector<int> rows = grid.Rows(kTrusts);
    for (const char* code : {kImm, kTb}) {
      const Measure& m = *store_->catalogue().Find(code);
      for (const char* node : {"national", "region:Y56", "ics:QMF"}) {
        NodeTotal want = RollupTotal(*snap.view, node, kTrusts, m, *period);
        NodeTotal got = grid.RollupTotal(node, rows, m);
        EXPECT_DOUBLE_EQ(got.sum, want.sum) << node << " " << code;
        EXPECT_EQ(got.n_units, want.n_units) << node << " " << code;
      }
    }
  }

  // A node's totals over standard periods of several months, as the engine
  // asks for them (the node's own trusts), read through the snapshot's
  // cache (filled, or carried over: PatternCache::Total) equal
  // RollupTotal's from the View.
  void ExpectTotalsFresh() {
    SummaryStore::QuerySnapshot snap = store_->SnapshotForQuery();
    for (const char* text : {"2026-Q1", "2025-Q4", "2026", "2025"}) {
      auto period = Period::Parse(text);
      ASSERT_TRUE(period.ok());
      UnitGrid grid(*snap.view, *period, snap.patterns.get());
      const Registry& registry = snap.view->RegistryAt(period->last());
      for (const char* code : {kImm, kTb}) {
        const Measure& m = *store_->catalogue().Find(code);
        for (const char* node : {"national", "region:Y56", "ics:QMF"}) {
          auto scope = Scope::Parse(node);
          ASSERT_TRUE(scope.ok());
          std::vector<std::string> trusts = registry.TrustsIn(*scope);
          NodeTotal want = RollupTotal(*snap.view, node, trusts, m, *period);
          NodeTotal got = grid.RollupTotal(node, grid.Rows(trusts), m);
          EXPECT_EQ(got.sum, want.sum) << node << " " << code << " " << text;
          EXPECT_EQ(got.n_units, want.n_units)
              << node << " " << code << " " << text;
        }
      }
    }
  }

  TempDir dir_;
  std::unique_ptr<SummaryStore> store_;
};

// A node's total over a quarter, once computed, is read from the cache by
// later queries, and carried over by a commit that changed another
// measure only; a commit that changes the measure drops it.
TEST_F(PrecomputedTest, NodeTotalsAreKeptWhileTheMeasureIsUnchanged) {
  Commit({Summary("RJ1", "2026-01", 1, {{kImm, 10}, {kTb, 2}}),
          Summary("R1H", "2026-03", 1, {{kImm, 3}, {kTb, 40}})});
  auto q1 = Period::Parse("2026-Q1");
  ASSERT_TRUE(q1.ok());
  auto region = Scope::Parse("region:Y56");
  ASSERT_TRUE(region.ok());
  const std::vector<std::string> trusts =
      store_->registry().Latest().TrustsIn(*region);
  {
    SummaryStore::QuerySnapshot snap = store_->SnapshotForQuery();
    UnitGrid grid(*snap.view, *q1, snap.patterns.get());
    NodeTotal t = grid.RollupTotal("region:Y56", grid.Rows(trusts),
                                   *store_->catalogue().Find(kImm));
    EXPECT_EQ(t.sum, 13);
    EXPECT_EQ(t.n_units, 2u);
  }
  Commit({Summary("RJ1", "2026-01", 2, {{kImm, 10}, {kTb, 5}})});
  std::shared_ptr<PatternCache> cache = store_->SnapshotForQuery().patterns;
  bool computed = false;
  auto compute = [&] {
    computed = true;
    return PatternCache::PeriodTotal{};
  };
  PatternCache::PeriodTotal kept =
      cache->Total(kImm, "region:Y56", *q1, compute);
  EXPECT_FALSE(computed);
  EXPECT_EQ(kept.sum, 13);
  EXPECT_EQ(kept.n_units, 2u);
  Commit({Summary("R1H", "2026-03", 2, {{kImm, 4}, {kTb, 40}})});
  cache = store_->SnapshotForQuery().patterns;
  cache->Total(kImm, "region:Y56", *q1, compute);
  EXPECT_TRUE(computed);
}

TEST_F(PrecomputedTest, CommitCarriesOverThePatternsOfUnchangedMeasures) {
  Commit({Summary("RJ1", "2026-03", 1, {{kImm, 10}, {kTb, 2}}),
          Summary("R1H", "2026-03", 1, {{kImm, 3}, {kTb, 40}})});
  Ask(kImm, "2026-03");
  Ask(kTb, "2026-03");
  std::shared_ptr<PatternCache> first = store_->SnapshotForQuery().patterns;
  ASSERT_EQ(first->size(), 2u);

  // The same figures at a newer revision: every pattern carried over.
  Commit({Summary("RJ1", "2026-03", 2, {{kImm, 10}, {kTb, 2}})});
  std::shared_ptr<PatternCache> second = store_->SnapshotForQuery().patterns;
  EXPECT_NE(second, first);
  EXPECT_EQ(second->size(), 2u);
  EXPECT_EQ(ExpectCachedPatternsFresh(), 2u);

  // One measure corrected: only its pattern is dropped.
  Commit({Summary("RJ1", "2026-03", 3, {{kImm, 11}, {kTb, 2}})});
  EXPECT_EQ(store_->SnapshotForQuery().patterns->size(), 1u);
  EXPECT_EQ(ExpectCachedPatternsFresh(), 1u);

  // A cell that appears with value 0 changes the measure (its data years).
  Ask(kImm, "2026-03");
  Commit({Summary("RAL", "2025-01", 1, {{kTb, 0}})});
  EXPECT_EQ(store_->SnapshotForQuery().patterns->size(), 1u);
  EXPECT_EQ(ExpectCachedPatternsFresh(), 1u);

  // A retraction changes every measure the unit held.
  Ask(kTb, "2026-03");
  v1::UnitSummary retract = Summary("R1H", "2026-03", 2, {});
  retract.set_retracted(true);
  Commit({retract});
  EXPECT_EQ(store_->SnapshotForQuery().patterns->size(), 0u);
}

TEST_F(PrecomputedTest, RegistryChangeStartsAFreshPatternCache) {
  Commit({Summary("RJ1", "2026-03", 1, {{kImm, 10}})});
  Ask(kImm, "2026-03");
  ASSERT_EQ(store_->SnapshotForQuery().patterns->size(), 1u);
  ReferenceData next{std::make_shared<CatalogueVersions>(Catalogue::Default()),
                     std::make_shared<RegistryHistory>(store_->registry()),
                     DisclosureOptions{}};
  next.disclosure.suppress_max = 3;
  OHFED_ASSERT_OK(store_->Reconfigure(next));
  EXPECT_EQ(store_->SnapshotForQuery().patterns->size(), 0u);
}

// Random commits, corrections and retractions, each followed by queries
// that fill the cache: whatever the cache then holds was carried over or
// computed, and equals a fresh computation on the data it describes.
TEST_F(PrecomputedTest, CarriedOverPatternsEqualFreshAfterRandomCommits) {
  const std::vector<std::string> periods = {"2025-12", "2026-01", "2026-02",
                                            "2026-03"};
  std::mt19937 rng(14);
  std::map<std::string, v1::UnitSummary> held;  // by trust + period
  size_t checked = 0;
  for (int round = 0; round < 20; ++round) {
    const std::string& t = kTrusts[rng() % kTrusts.size()];
    const std::string& p = periods[rng() % periods.size()];
    v1::UnitSummary& s = held[t + p];
    const uint64_t revision = s.revision() + 1;
    if (s.revision() == 0 || s.retracted()) {  // new: every measure
      s = Summary(t, p, revision,
                  {{kImm, double(rng() % 12)}, {kTb, double(rng() % 12)}});
      AddDistribution(&s, kWait, {{double(rng() % 4), 1 + rng() % 9}});
    } else if (rng() % 6 == 0) {  // now and then the trust retracts it
      s = Summary(t, p, revision, {});
      s.set_retracted(true);
    } else {  // the same figures, or one of them corrected or dropped
      s.set_revision(revision);
      const int pick = static_cast<int>(rng() % 4);
      if (pick < s.cells_size()) {
        if (rng() % 4 == 0) {
          s.mutable_cells()->DeleteSubrange(pick, 1);
        } else {
          s.mutable_cells(pick)->set_value(rng() % 12);  // often small
        }
      }
    }
    Commit({s});
    checked += ExpectCachedPatternsFresh();
    ExpectSumsFresh();
    ExpectTotalsFresh();
    for (const char* m : {kImm, kTb, kWait}) {
      Ask(m, periods[rng() % periods.size()]);
    }
  }
  EXPECT_GT(checked, 5u);  // carried-over patterns were compared
}

// The grid's answers equal query_values.h's for every trust, measure and
// period shape (a month, a quarter, a range crossing a year), including
// units missing and retracted, whether or not the grid was told the
// measures to expect.
TEST_F(PrecomputedTest, UnitGridAnswersWhatQueryValuesAnswers) {
  std::mt19937 rng(3);
  for (const std::string& t : kTrusts) {
    for (Month mo = Month::Of(2025, 10); mo <= Month::Of(2026, 3);
         mo = mo + 1) {
      if (rng() % 5 == 0) continue;
      v1::UnitSummary s = Summary(t, mo.ToString(), 1, {});
      for (const char* m : {kImm, kAdmin}) {
        if (rng() % 3 == 0) continue;
        v1::Cell* c = s.add_cells();
        c->set_measure(m);
        c->set_value((rng() % 80) / 4.0);
      }
      if (rng() % 2)
        AddDistribution(&s, kWait, {{double(rng() % 5), 1 + rng() % 4}});
      Commit({s});
    }
  }
  v1::UnitSummary retract = Summary("RJ1", "2026-02", 2, {});
  retract.set_retracted(true);
  Commit({retract});
  std::shared_ptr<const View> view = store_->Snapshot();
  const Catalogue& catalogue = store_->catalogue();
  for (const char* text : {"2026-02", "2026-Q1", "2025-11:2026-03"}) {
    // Without and with the measures expected (UnitGrid::Expect; kWait is
    // then found by code).
    for (bool expect : {false, true}) {
      auto period = Period::Parse(text);
      OHFED_ASSERT_OK(period);
      PatternCache sums;  // node sums cached: the same answers
      UnitGrid grid(*view, *period, &sums);
      if (expect) {
        grid.Expect({catalogue.Find(kAdmin), catalogue.Find(kImm),
                     catalogue.Find(kTb)});
      }
      std::vector<int> rows = grid.Rows(kTrusts);
      for (const char* code : {kImm, kAdmin, kWait}) {
        const Measure& m = *catalogue.Find(code);
        for (size_t i = 0; i < kTrusts.size(); ++i) {
          EXPECT_EQ(grid.Scalar(rows[i], m),
                    TrustScalar(*view, kTrusts[i], m, *period))
              << kTrusts[i] << " " << code << " " << text;
          EXPECT_EQ(grid.Pool(rows[i], m),
                    TrustPool(*view, kTrusts[i], m, *period))
              << kTrusts[i] << " " << code << " " << text;
        }
        for (const char* node : {"national", "region:Y56", "ics:QMF"}) {
          NodeTotal want = RollupTotal(*view, node, kTrusts, m, *period);
          NodeTotal got = grid.RollupTotal(node, rows, m);
          EXPECT_EQ(got.sum, want.sum) << node << " " << code << " " << text;
          EXPECT_EQ(got.n_units, want.n_units) << node << " " << code;
          EXPECT_EQ(got.buckets, want.buckets) << node << " " << code;
        }
      }
    }
  }
}

}  // namespace
}  // namespace ohfed::aggregator
