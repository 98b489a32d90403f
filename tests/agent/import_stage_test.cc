// The activity stage (agent/import_stage.h): rows come back by month, in
// the order added, whether they stayed in memory or went to the file.
#include "agent/import_stage.h"

#include <filesystem>

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

}  // namespace
}  // namespace ohfed::agent
