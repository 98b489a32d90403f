// What a query computes in an older snapshot's PatternCache is passed on to
// the newest cache while its measure is unchanged (issue 14 figure 4: a
// heavy query that outlasts many commits left its patterns in a cache no
// later query read, so under steady ingest every heavy query started cold).
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "aggregator/disclosure_pattern.h"
#include "aggregator/index.h"
#include "aggregator/query_engine.h"
#include "aggregator/query_service.h"
#include "aggregator/summary_store.h"
#include "common/clock.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::Summary;
using ::ohfed::testing::TempDir;

const char kImm[] = "activity.count.immunisation";
const char kTb[] = "activity.count.tb_screening";

// Computes an empty pattern, counting its calls.
struct Counting {
  int calls = 0;
  std::function<SuppressionPattern()> fn = [this] {
    ++calls;
    return SuppressionPattern();
  };
};

TEST(PatternCacheTest, PatternComputedInAnOlderCacheReachesTheNewest) {
  auto first = std::make_shared<PatternCache>();
  std::shared_ptr<PatternCache> second = PatternCache::CarryOver(*first, {kTb});
  std::shared_ptr<PatternCache> third = PatternCache::CarryOver(*second, {});
  Counting count;
  std::shared_ptr<const SuppressionPattern> imm = first->Get(kImm, count.fn);
  EXPECT_EQ(third->Find(kImm), imm);
  // kTb changed after `first`: its pattern there is not the newest's.
  first->Get(kTb, count.fn);
  EXPECT_EQ(third->Find(kTb), nullptr);
  // Computed in `second`, after the change: passed on.
  second->Get(kTb, count.fn);
  EXPECT_NE(third->Find(kTb), nullptr);
  third->Get(kImm, count.fn);
  third->Get(kTb, count.fn);
  EXPECT_EQ(count.calls, 3);
}

TEST(PatternCacheTest, SumsComputedInAnOlderCacheReachTheNewest) {
  auto first = std::make_shared<PatternCache>();
  std::shared_ptr<PatternCache> second = PatternCache::CarryOver(*first, {kTb});
  int calls = 0;
  auto compute = [&] {
    ++calls;
    PatternCache::YearSums sums;
    sums.sum[0] = 7;
    sums.held[0] = true;
    return sums;
  };
  first->Sums(kImm, "national", 2025, compute);
  first->Sums(kTb, "national", 2025, compute);
  EXPECT_EQ(second->Sums(kImm, "national", 2025, compute).sum[0], 7);
  EXPECT_EQ(calls, 2);
  second->Sums(kTb, "national", 2025, compute);
  EXPECT_EQ(calls, 3);
}

// A cache carried over from one that is no longer the newest starts a
// lineage of its own: nothing is passed between the two branches.
TEST(PatternCacheTest, CarryOverFromAnOlderCacheStartsAFreshLineage) {
  auto first = std::make_shared<PatternCache>();
  std::shared_ptr<PatternCache> second = PatternCache::CarryOver(*first, {});
  std::shared_ptr<PatternCache> branch = PatternCache::CarryOver(*first, {});
  Counting count;
  first->Get(kImm, count.fn);
  EXPECT_NE(second->Find(kImm), nullptr);
  EXPECT_EQ(branch->Find(kImm), nullptr);
}

// Through the store, as the query service uses it: a query still reading
// the snapshot of before a commit leaves the patterns of the measures the
// commit did not change to the queries that follow it.
TEST(PatternCacheTest, QueryOnAnOldSnapshotWarmsTheNewestForUnchanged) {
  TempDir dir;
  auto store = SummaryStore::Open(dir.path(), SummaryStoreOptions{});
  OHFED_ASSERT_OK(store);
  OHFED_ASSERT_OK(
      (*store)->Commit({Summary("RJ1", "2026-03", 1, {{kImm, 10}, {kTb, 2}}),
                        Summary("R1H", "2026-03", 1, {{kImm, 3}, {kTb, 40}})}));
  SummaryStore::QuerySnapshot old = (*store)->SnapshotForQuery();
  // kTb changes; kImm does not.
  OHFED_ASSERT_OK(
      (*store)->Commit({Summary("RJ1", "2026-03", 2, {{kImm, 10}, {kTb, 5}})}));
  for (const char* measure : {kImm, kTb}) {
    QueryOptions options;
    options.patterns = old.patterns;
    options.disclosure = (*store)->disclosure();
    v1::QueryRequest request;
    request.set_scope("national");
    request.set_period("2026-03");
    request.set_by("trust");
    request.set_measure_prefix(measure);
    OHFED_ASSERT_OK(RunQuery(*old.view, request, options));
  }
  SummaryStore::QuerySnapshot now = (*store)->SnapshotForQuery();
  std::shared_ptr<const SuppressionPattern> imm = now.patterns->Find(kImm);
  ASSERT_NE(imm, nullptr);
  EXPECT_TRUE(*imm == SuppressionPattern::Compute(
                          *now.view, *(*store)->catalogue().Find(kImm),
                          (*store)->disclosure()));
  EXPECT_EQ(now.patterns->Find(kTb), nullptr);
}

// The patterns' warm-up (issue 14: the first heavy query after a start
// computed every measure's pattern itself, 4.5-5 s with 207 trusts x 60
// months held). Counted, not timed: what the first query computes on
// demand against what the service computed in advance.
class PatternWarmUpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SummaryStore::Open(dir_.path(), SummaryStoreOptions{});
    OHFED_ASSERT_OK(store);
    store_ = std::move(*store);
    OHFED_ASSERT_OK(
        store_->Commit({Summary("RJ1", "2026-03", 1, {{kImm, 10}, {kTb, 2}}),
                        Summary("R1H", "2026-03", 1, {{kImm, 3}, {kTb, 40}})}));
  }
  // The heavy query's shape: national by trust, every measure.
  PatternCache::Counts FirstQueryByTrust() {
    SummaryStore::QuerySnapshot snapshot = store_->SnapshotForQuery();
    QueryOptions options;
    options.patterns = snapshot.patterns;
    options.disclosure = store_->disclosure();
    v1::QueryRequest request;
    request.set_scope("national");
    request.set_period("2026-03");
    request.set_by("trust");
    EXPECT_TRUE(RunQuery(*snapshot.view, request, options).ok());
    return snapshot.patterns->counts();
  }
  int Disclosive() const {
    int n = 0;
    for (const Measure* m : store_->catalogue().WithPrefix("")) {
      n += m->disclosive ? 1 : 0;
    }
    return n;
  }

  TempDir dir_;
  std::unique_ptr<SummaryStore> store_;
};

TEST_F(PatternWarmUpTest, FirstHeavyQueryAfterAStartFindsPatternsReady) {
  QueryService service(store_.get(), Clock::Real(), /*authz=*/nullptr);
  service.WaitForWarmUp();
  PatternCache::Counts counts = FirstQueryByTrust();
  EXPECT_EQ(counts.on_demand, 0);
  EXPECT_EQ(counts.in_advance, Disclosive());
}

TEST_F(PatternWarmUpTest, WithoutTheWarmUpTheFirstQueryComputesThem) {
  QueryLaneOptions lanes;
  lanes.warm_patterns = false;
  QueryService service(store_.get(), Clock::Real(), /*authz=*/nullptr, lanes);
  service.WaitForWarmUp();
  PatternCache::Counts counts = FirstQueryByTrust();
  EXPECT_GT(counts.on_demand, 0);
  EXPECT_EQ(counts.in_advance, 0);
}

// Stopped (a heavy query waits, or newer data), the warm-up resumes where
// it stopped, on whatever cache it is given: each measure once.
TEST_F(PatternWarmUpTest, StoppedWarmUpResumesAtTheNextMeasure) {
  SummaryStore::QuerySnapshot first = store_->SnapshotForQuery();
  size_t next = 0;
  int allowed = 2;
  const int before_stop = WarmPatterns(
      *first.view, store_->disclosure(), Scope::National(), *first.patterns,
      [&] { return allowed-- == 0; }, &next);
  EXPECT_EQ(before_stop, 2);
  OHFED_ASSERT_OK(
      store_->Commit({Summary("RJ1", "2026-03", 2, {{kImm, 10}, {kTb, 5}})}));
  SummaryStore::QuerySnapshot second = store_->SnapshotForQuery();
  const int after = WarmPatterns(
      *second.view, store_->disclosure(), Scope::National(), *second.patterns,
      [] { return false; }, &next);
  EXPECT_EQ(before_stop + after, Disclosive());
  EXPECT_EQ(next, store_->catalogue().WithPrefix("").size());
  EXPECT_EQ(second.patterns->counts().in_advance, Disclosive());
}

// What a commit tells the cache changed (ChangedMeasures, reported by the
// index's changes): measures added, dropped or valued differently in any
// unit replaced or retracted; not a measure whose buckets alone changed,
// nor one of a unit resent as it was, nor changes not reported.
TEST(PatternCacheTest, ChangedMeasuresAreThoseAddedDroppedOrRevalued) {
  auto registry = std::make_shared<RegistryHistory>(Registry::England());
  Index index(Catalogue::Default(), registry);
  auto unit = [](const std::string& trust, const std::string& period,
                 std::vector<std::tuple<std::string, double, int>> cells) {
    HeldUnit u;
    u.trust = trust;
    u.period = period;
    u.revision = 1;
    for (const auto& [measure, value, day] : cells) {
      v1::Cell c;
      c.set_measure(measure);
      c.set_value(value);
      if (day > 0) {  // one bucket of one event on that day
        v1::Bucket* b = c.add_buckets();
        b->set_value(day);
        b->set_count(1);
      }
      u.cells.Set(c);
    }
    return u;
  };
  index.ReplaceUnit(
      unit("RJ1", "2026-03", {{"a", 1, 0}, {"b", 2, 0}, {"c", 3, 0}}));
  index.ReplaceUnit(unit("RJ2", "2026-03", {{"d.wait", 1, 3}, {"e", 5, 0}}));
  index.ReplaceUnit(unit("RJ7", "2026-03", {{"f", 1, 0}}));
  index.ReplaceUnit(unit("RJ8", "2026-03", {{"h", 1, 0}}));
  index.ReplaceUnit(unit("RJ9", "2026-03", {{"k", 1, 0}}));
  ChangedMeasures changed;
  // b revalued, c dropped, a0 and z added; d.wait's buckets alone differ.
  index.ReplaceUnit(unit("RJ1", "2026-03",
                         {{"a", 1, 0}, {"a0", 1, 0}, {"b", 7, 0}, {"z", 0, 0}}),
                    &changed);
  index.ReplaceUnit(unit("RJ2", "2026-03", {{"d.wait", 1, 4}, {"e", 5, 0}}),
                    &changed);
  index.ReplaceUnit(unit("RJ3", "2026-04", {{"g", 1, 0}}), &changed);  // new
  index.RetractUnit("RJ7", "2026-03", &changed);
  index.RetractUnit("RJ5", "2026-03", &changed);  // not held
  index.ReplaceUnit(unit("RJ9", "2026-03", {{"k", 1, 0}}), &changed);  // same
  index.ReplaceUnit(unit("RJ8", "2026-03", {{"h", 2, 0}}));  // not reported
  EXPECT_EQ(changed.Codes(),
            (absl::flat_hash_set<std::string>{"a0", "b", "c", "z", "g", "f"}));
  EXPECT_TRUE(ChangedMeasures().Codes().empty());
}

}  // namespace
}  // namespace ohfed::aggregator
