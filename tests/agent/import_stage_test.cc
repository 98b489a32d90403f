// The activity stage (agent/import_stage.h): rows come back by month, in
// the order added, whether they stayed in memory or went to the file.
#include "agent/import_stage.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/testing/testing.h"

namespace ohfed::agent {
namespace {

ActivityRow Row(int month, int i) {
  return {absl::StrCat("2026-0", month, "-01"), "immunisation", "RJ1",
          absl::StrCat("S", i), i % 40};
}

TEST(ImportStageTest, TakeGivesEachMonthsRowsInOrder) {
  testing::TempDir dir;
  // A budget of 1 KiB: most rows go to the file.
  ActivityStage stage(dir.path(), 1024);
  for (int i = 0; i < 3000; ++i) {
    const int month = i % 3 == 0 ? 1 : 2;  // 1000 rows of January
    OHFED_ASSERT_OK(stage.Add(Month::Of(2026, month), Row(month, i)));
  }
  EXPECT_EQ(stage.rows(), 3000u);
  EXPECT_FALSE(std::filesystem::is_empty(dir.path()));  // spilled
  ASSERT_EQ(stage.Months().size(), 2u);
  auto rows = stage.Take(Month::Of(2026, 2));
  OHFED_ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 2000u);
  EXPECT_EQ(rows->front(), Row(2, 1));
  EXPECT_EQ(rows->back(), Row(2, 2999));
  rows = stage.Take(Month::Of(2026, 1));
  OHFED_ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 1000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ((*rows)[i], Row(1, 3 * i)) << i;
  // Taken months are gone.
  rows = stage.Take(Month::Of(2026, 1));
  OHFED_ASSERT_OK(rows);
  EXPECT_TRUE(rows->empty());
  EXPECT_TRUE(stage.Months().empty());
}

TEST(ImportStageTest, MonthKeptInMemoryComesBackWhole) {
  testing::TempDir dir;
  ActivityStage stage(dir.path());
  for (int i = 0; i < 10; ++i) {
    OHFED_ASSERT_OK(stage.Add(Month::Of(2026, 3), Row(3, i)));
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));  // nothing spilled
  auto rows = stage.Take(Month::Of(2026, 3));
  OHFED_ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 10u);
  EXPECT_EQ((*rows)[9], Row(3, 9));
}

// Rows of months 1 to `months` of 2026, in an order that is not canonical
// (subjects descending), `per_month` each.
ActivityStage& Filled(ActivityStage& stage, int months, int per_month) {
  for (int i = per_month - 1; i >= 0; --i) {
    for (int month = 1; month <= months; ++month) {
      EXPECT_TRUE(stage.Add(Month::Of(2026, month), Row(month, i)).ok());
    }
  }
  return stage;
}

// The rows ForEachSorted gives for `month`.
std::vector<ActivityRow> Sorted(ActivityStage& stage, int month) {
  std::vector<ActivityRow> rows;
  EXPECT_TRUE(stage
                  .ForEachSorted(Month::Of(2026, month),
                                 [&](const ActivityView& r) {
                                   rows.push_back(r.ToRow());
                                   return absl::OkStatus();
                                 })
                  .ok());
  return rows;
}

std::vector<ActivityRow> Canonical(int month, int per_month) {
  std::vector<ActivityRow> rows;
  for (int i = 0; i < per_month; ++i) rows.push_back(Row(month, i));
  std::sort(rows.begin(), rows.end());
  return rows;
}

// Months taken in order: each after the first was sorted while the one
// before it was consumed, and every row comes back, in canonical order.
TEST(ImportStageTest, EachNextMonthIsSortedAhead) {
  testing::TempDir dir;
  ActivityStage stage(dir.path(), 4096);  // spilled, as a large file is
  Filled(stage, 5, 500);
  for (int month = 1; month <= 5; ++month) {
    ASSERT_EQ(Sorted(stage, month), Canonical(month, 500)) << month;
  }
  EXPECT_EQ(stage.months_sorted_ahead(), 4u);
  EXPECT_TRUE(stage.Months().empty());
}

// A month sorted ahead but not asked for next stays on the stage, whatever
// is asked for instead.
TEST(ImportStageTest, AMonthSortedAheadButNotTakenStaysOnTheStage) {
  testing::TempDir dir;
  ActivityStage stage(dir.path(), 4096);
  Filled(stage, 4, 300);
  ASSERT_EQ(Sorted(stage, 1), Canonical(1, 300));  // month 2 sorted ahead
  EXPECT_EQ(stage.Months(),
            (std::vector<Month>{Month::Of(2026, 2), Month::Of(2026, 3),
                                Month::Of(2026, 4)}));
  ASSERT_EQ(Sorted(stage, 3), Canonical(3, 300));  // month 4 sorted ahead
  auto rows = stage.Take(Month::Of(2026, 2));
  OHFED_ASSERT_OK(rows);
  EXPECT_EQ(rows->size(), 300u);
  OHFED_ASSERT_OK(stage.Add(Month::Of(2026, 4), Row(4, 300)));
  EXPECT_EQ(Sorted(stage, 4), Canonical(4, 301));
  EXPECT_EQ(stage.months_sorted_ahead(), 0u);
  EXPECT_TRUE(stage.Months().empty());
}

// Sorting ahead holds two months' rows and keys: not when they would take
// more than three sort budgets, nor for a month sorted in runs.
TEST(ImportStageTest, MonthsTooLargeToHoldTogetherAreNotSortedAhead) {
  testing::TempDir dir;
  // 105 rows a month: 3,775 bytes staged and 2,520 of sort keys.
  ActivityStage fits(dir.path(), 1024, 4096);
  Filled(fits, 3, 105);
  for (int month = 1; month <= 3; ++month) {
    ASSERT_EQ(Sorted(fits, month), Canonical(month, 105)) << month;
    EXPECT_EQ(fits.last_sort_runs(), 0u);
  }
  EXPECT_EQ(fits.months_sorted_ahead(), 0u);
  // 60 rows a month: two take 7,140 bytes, and are sorted ahead.
  ActivityStage small(dir.path(), 1024, 4096);
  Filled(small, 3, 60);
  for (int month = 1; month <= 3; ++month) {
    ASSERT_EQ(Sorted(small, month), Canonical(month, 60)) << month;
  }
  EXPECT_EQ(small.months_sorted_ahead(), 2u);
  // 300 rows a month: each sorted in runs, none ahead.
  ActivityStage runs(dir.path(), 1024, 4096);
  Filled(runs, 3, 300);
  for (int month = 1; month <= 3; ++month) {
    ASSERT_EQ(Sorted(runs, month), Canonical(month, 300)) << month;
    EXPECT_GT(runs.last_sort_runs(), 0u);
  }
  EXPECT_EQ(runs.months_sorted_ahead(), 0u);
}

// A stage destroyed while a month is being sorted ahead waits for it.
TEST(ImportStageTest, DestroyedWhileSortingAhead) {
  testing::TempDir dir;
  auto stage = std::make_unique<ActivityStage>(dir.path(), 4096);
  Filled(*stage, 2, 2000);
  ASSERT_EQ(Sorted(*stage, 1).size(), 2000u);
  stage.reset();
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

}  // namespace
}  // namespace ohfed::agent
