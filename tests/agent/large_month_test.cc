// A month larger than every memory bound of the import (agent/import_stage.h,
// agent/sorted_runs.h, agent/activity_tally.h, agent/activity_chunks.h):
// sorted in runs, counted with spilled distinct subjects, stored in chunks,
// and still summarised exactly as the rows held in memory give, readable,
// unchanged on an identical re-import, and readable from a format 1 store.
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <random>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/activity_chunks.h"
#include "agent/activity_tally.h"
#include "agent/import_stage.h"
#include "agent/raw_records.h"
#include "agent/sorted_runs.h"
#include "agent/summary.h"
#include "common/rocksdb_util.h"
#include "common/status.h"
#include "tests/agent/local_store_fixture.h"

namespace ohfed::agent {
namespace {

constexpr const char* kActivities[] = {"immunisation", "management_referral",
                                       "self_referral", "tb_screening"};

// `n` events of May 2026 in a scrambled order: many distinct subjects,
// repeated ones, rows without subject or wait, and exact duplicates.
std::vector<ActivityRow> Events(int n, uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::vector<ActivityRow> rows;
  for (int i = 0; i < n; ++i) {
    ActivityRow r;
    r.date = absl::StrCat("2026-05-", 10 + rng() % 19);
    r.activity = kActivities[rng() % 4];
    r.client_org = rng() % 5 == 0 ? "RXY" : "RJ1";
    if (rng() % 10 != 0) r.subject_ref = absl::StrCat("S", rng() % (n / 2));
    if (absl::EndsWith(r.activity, "referral")) r.wait_days = rng() % 60;
    rows.push_back(r);
    if (i % 100 == 0) rows.push_back(r);  // a duplicate
  }
  return rows;
}

std::map<std::string, v1::Cell> InMemoryCells(
    const std::vector<ActivityRow>& rows) {
  PeriodRecords records;
  records.activity = rows;
  auto cells = ComputeCells(*Catalogue::Default(), records);
  EXPECT_TRUE(cells.ok()) << cells.status();
  std::map<std::string, v1::Cell> out;
  for (const v1::Cell& c : *cells) out[c.measure()] = c;
  return out;
}

MATCHER_P(CellsEq, expected, "") {
  if (arg.size() != expected.size()) return false;
  for (const auto& [code, cell] : expected) {
    auto it = arg.find(code);
    if (it == arg.end() ||
        it->second.SerializeAsString() != cell.SerializeAsString()) {
      *result_listener << "differs at " << code;
      return false;
    }
  }
  return true;
}

TEST(SortedRunsTest, MoreRunsThanTheFanInMergeInOrder) {
  testing::TempDir dir;
  SortedRuns runs(dir.path(), "t");
  std::vector<std::string> all;
  std::mt19937 rng(3);
  const size_t n_runs = SortedRuns::kFanIn * 2 + 5;
  for (size_t r = 0; r < n_runs; ++r) {
    std::vector<std::string> run;
    for (int i = 0; i < 50; ++i) run.push_back(absl::StrCat(rng() % 100000));
    std::sort(run.begin(), run.end());
    all.insert(all.end(), run.begin(), run.end());
    OHFED_ASSERT_OK(
        runs.AddRun(std::vector<absl::string_view>(run.begin(), run.end())));
  }
  std::sort(all.begin(), all.end());
  std::vector<std::string> merged;
  OHFED_ASSERT_OK(runs.Merge(
      [](absl::string_view a, absl::string_view b) { return a < b; }, 4096,
      [&](absl::string_view r) {
        merged.emplace_back(r);
        return absl::OkStatus();
      }));
  EXPECT_EQ(merged, all);
}

TEST(DistinctCounterTest, SpilledCountIsExact) {
  testing::TempDir dir;
  DistinctCounter small({dir.path(), 16 << 10});
  DistinctCounter large({dir.path(), 64 << 20});
  // Sized for the rows expected, as far as half the budget allows.
  DistinctCounter small_sized({dir.path(), 16 << 10, 50000});
  DistinctCounter large_sized({dir.path(), 64 << 20, 50000});
  std::mt19937 rng(5);
  std::set<std::string> truth;
  for (int i = 0; i < 50000; ++i) {
    const std::string s = absl::StrCat("subject-", rng() % 20000);
    truth.insert(s);
    for (DistinctCounter* c : {&small, &large, &small_sized, &large_sized}) {
      OHFED_ASSERT_OK(c->Add(s));
    }
  }
  EXPECT_GT(small.spilled_runs(), 1u);
  EXPECT_GT(small_sized.spilled_runs(), 1u);
  EXPECT_EQ(large.spilled_runs(), 0u);
  EXPECT_EQ(large_sized.spilled_runs(), 0u);
  for (DistinctCounter* c : {&small, &large, &small_sized, &large_sized}) {
    EXPECT_EQ(*c->Finish(), truth.size());
  }
}

TEST(ImportStageTest, AMonthOverTheSortBudgetComesBackInCanonicalOrder) {
  testing::TempDir dir;
  ActivityStage stage(dir.path(), 8 << 10, 16 << 10);
  std::vector<ActivityRow> rows = Events(20000);
  for (const ActivityRow& r : rows) {
    OHFED_ASSERT_OK(stage.Add(Month::Of(2026, 5), r));
  }
  std::vector<ActivityRow> sorted;
  OHFED_ASSERT_OK(
      stage.ForEachSorted(Month::Of(2026, 5), [&](const ActivityView& r) {
        sorted.push_back(r.ToRow());
        return absl::OkStatus();
      }));
  EXPECT_GT(stage.last_sort_runs(), SortedRuns::kFanIn);  // merged twice
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(sorted, rows);
}

class LargeMonthTest : public LocalStoreTest {
 protected:
  // Bounds far below the month: every bounded path is taken.
  void OpenSmall() {
    store_.reset();
    auto s = LocalStore::Open({.dir = dir_.path(),
                               .trust = "RJ1",
                               .clock = &clock_,
                               .distinct_budget = 8 << 10});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  absl::StatusOr<ImportOutcome> ImportStreamed(
      const std::vector<ActivityRow>& rows) {
    ActivityStage stage(store_->staging_dir(), 16 << 10, 64 << 10);
    for (const ActivityRow& r : rows) {
      OHFED_RETURN_IF_ERROR(
          stage.Add(Month::Parse(r.date.substr(0, 7)).value(), r));
    }
    return store_->ApplyActivityImport(stage, /*accept_outliers=*/true);
  }
  // The month's activity keys as stored.
  std::vector<std::string> Keys(const std::string& month) {
    store_.reset();
    auto db = OpenDb(dir_.path(), DbFootprint::kSmall);
    EXPECT_TRUE(db.ok()) << db.status();
    std::vector<std::string> keys;
    if (db.ok()) keys = *StoredActivityKeys(db->get(), month);
    db->reset();
    OpenSmall();
    return keys;
  }
};

TEST_F(LargeMonthTest, StoredInChunksSummarisedAsInMemoryAndReadable) {
  OpenSmall();
  std::vector<ActivityRow> rows = Events(40000);
  auto o = ImportStreamed(rows);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->rows_imported, rows.size());
  EXPECT_THAT(o->periods_changed, ::testing::ElementsAre("2026-05"));
  EXPECT_THAT(Cells("2026-05"), CellsEq(InMemoryCells(rows)));
  auto back = store_->Records("2026-05");
  ASSERT_TRUE(back.ok()) << back.status();
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(back->activity, rows);
  const std::vector<std::string> keys = Keys("2026-05");
  ASSERT_GT(keys.size(), 5u);  // chunks, no single value
  for (const std::string& k : keys) EXPECT_TRUE(IsActivityChunkKey(k)) << k;

  // The same rows in another order: nothing changes.
  std::reverse(rows.begin(), rows.end());
  const uint64_t revision = Revision("2026-05");
  o = ImportStreamed(rows);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->rows_unchanged, rows.size());
  EXPECT_TRUE(o->periods_changed.empty());
  EXPECT_EQ(Revision("2026-05"), revision);

  // Fewer rows: fewer chunks, the rest deleted; a hand-entered value
  // recomputes the month from its chunks, counted as they stream.
  rows.resize(rows.size() / 3);
  o = ImportStreamed(rows);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->rows_imported, rows.size());
  EXPECT_LT(Keys("2026-05").size(), keys.size());
  OHFED_ASSERT_OK(
      store_->SetValue("2026-05", "activity.count.covid_test", "3"));
  std::map<std::string, v1::Cell> expected = InMemoryCells(rows);
  expected["activity.count.covid_test"].set_measure(
      "activity.count.covid_test");
  expected["activity.count.covid_test"].set_value(3);
  EXPECT_THAT(Cells("2026-05"), CellsEq(expected));
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(store_->Records("2026-05")->activity, rows);

  // A retraction deletes every chunk.
  OHFED_ASSERT_OK(store_->Retract("2026-05").status());
  EXPECT_TRUE(Keys("2026-05").empty());
  EXPECT_TRUE(store_->Records("2026-05")->activity.empty());
}

// Format 1 kept a month's activity as one value: still read, summarised
// and compared, and replaced by chunks when the month is next written.
TEST_F(LargeMonthTest, AFormatOneValueIsReadThenReplacedByChunks) {
  std::vector<ActivityRow> rows = Events(20000);
  store_.reset();
  {
    auto db = OpenDb(dir_.path(), DbFootprint::kSmall);
    ASSERT_TRUE(db.ok());
    rocksdb::WriteBatch batch;
    batch.Put("meta/format", "1");
    batch.Put(RawRecords::Key("2026-05", Source::kActivity),
              RawRecords::EncodeActivity(rows));
    OHFED_ASSERT_OK(WriteSynced(db->get(), &batch));
  }
  OpenSmall();
  std::vector<ActivityRow> sorted = rows;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(store_->Records("2026-05")->activity, sorted);
  // Summarised from the single value, streamed.
  OHFED_ASSERT_OK(
      store_->SetValue("2026-05", "activity.count.covid_test", "3"));
  EXPECT_EQ(Cells("2026-05").at("activity.staff_seen").value(),
            InMemoryCells(rows).at("activity.staff_seen").value());
  // An identical import compares equal with it.
  auto o = ImportStreamed(rows);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->rows_unchanged, rows.size());
  EXPECT_EQ(store_->Records("2026-05")->activity, sorted);
  // A changed one replaces it.
  rows.pop_back();
  o = ImportStreamed(rows);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->rows_imported, rows.size());
  for (const std::string& k : Keys("2026-05")) {
    EXPECT_TRUE(IsActivityChunkKey(k)) << k;
  }
  sorted = rows;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(store_->Records("2026-05")->activity, sorted);
}

}  // namespace
}  // namespace ohfed::agent
