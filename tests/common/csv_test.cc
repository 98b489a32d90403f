#include "common/csv.h"

#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::StatusIs;
using ::testing::ElementsAre;

TEST(CsvTest, ParsesQuotedFieldsCrlfBomAndMetadata) {
  std::string text =
      "\xEF\xBB\xBF# version: 7\r\n# a comment\r\n"
      "Name, Note\r\nalpha,\"a, \"\"quoted\"\"\nnote\"\r\n\r\nbeta,plain\r\n";
  auto t = ParseCsv(text, "x.csv");
  OHFED_ASSERT_OK(t);
  EXPECT_EQ(t->metadata.at("version"), "7");
  EXPECT_THAT(t->header, ElementsAre("name", "note"));
  EXPECT_EQ(t->header_line, 3);
  ASSERT_EQ(t->records.size(), 2u);
  EXPECT_EQ(t->records[0].line, 4);
  EXPECT_EQ(t->records[0].fields[1], "a, \"quoted\"\nnote");
  EXPECT_EQ(t->records[1].line, 7);
  EXPECT_EQ(CsvTable::Field(t->records[1], t->Column("note")), "plain");
  EXPECT_EQ(CsvTable::Field(t->records[1], t->Column("absent")), "");
}

TEST(CsvTest, ShortRowsAreReturnedForTheCallerToReport) {
  auto t = ParseCsv("a,b,c\n1,2\n", "x.csv");
  OHFED_ASSERT_OK(t);
  EXPECT_EQ(t->records[0].fields.size(), 2u);
}

TEST(CsvTest, RejectsStructuralDamageNamingSourceAndLine) {
  EXPECT_THAT(ParseCsv("", "empty.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "empty.csv: empty file"));
  EXPECT_THAT(ParseCsv("# version: 1\n", "meta.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument, "empty file"));
  EXPECT_THAT(ParseCsv("a,b\n1,\"unterminated\n", "t.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "t.csv line 2: unterminated quoted field"));
  EXPECT_THAT(ParseCsv("a,b\n1,x\"y\n", "s.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "s.csv line 2: stray quote"));
  EXPECT_THAT(ParseCsv("a,a\n", "d.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "column 'a' appears twice"));
}

TEST(CsvTest, RequireColumnsListsWhatIsMissing) {
  auto t = ParseCsv("period,wte\n", "staff.csv");
  OHFED_ASSERT_OK(t);
  EXPECT_THAT(RequireColumns(*t, {"period", "staff_group", "wte", "basis"},
                             "staff.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "lacks required column(s) staff_group, basis"));
}

TEST(CsvTest, ReadFileNamesAMissingPath) {
  EXPECT_THAT(ReadFile("/nonexistent/ohfed.csv"),
              StatusIs(absl::StatusCode::kNotFound, "/nonexistent/ohfed.csv"));
}

}  // namespace
}  // namespace ohfed
