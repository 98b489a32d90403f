// The CSV importers' validation: every bad row is reported with its line,
// column and reason; valid rows are grouped by period.
#include "agent/importer.h"

#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/sample_data.h"
#include "common/csv.h"
#include "common/transport.h"
#include "tests/testing/testing.h"

namespace ohfed::agent {
namespace {

using ::testing::HasSubstr;

ImportContext Context() {
  return {Catalogue::Default().get(), "RJ1", Month::Of(2026, 6)};
}

ParsedImport Parse(v1::ImportKind kind, const std::string& csv) {
  absl::StatusOr<ParsedImport> p = ParseImport(kind, csv, Context());
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : ParsedImport();
}

// The single problem of a one-bad-row file.
void ExpectOneError(const ParsedImport& p, int line, const std::string& column,
                    const std::string& reason) {
  ASSERT_EQ(p.errors.size(), 1u)
      << (p.errors.empty() ? "" : p.errors[0].reason());
  EXPECT_EQ(p.errors[0].line(), static_cast<uint32_t>(line));
  EXPECT_EQ(p.errors[0].column(), column);
  EXPECT_THAT(p.errors[0].reason(), HasSubstr(reason));
}

const std::string kStaffHeader = "period,staff_group,wte,basis,post_id\n";

TEST(StaffingImport, ValidRowsGroupedByMonth) {
  ParsedImport p = Parse(v1::IMPORT_KIND_STAFFING,
                         kStaffHeader +
                             "2026-01,admin,1.0,,A1\n"
                             "2026-01,admin,0.5,vacant,A2\n"
                             "2026-02,consultant_om,12.5,locum,\n");
  EXPECT_TRUE(p.errors.empty());
  EXPECT_EQ(p.rows_read, 3u);
  ASSERT_EQ(p.staffing.size(), 2u);
  EXPECT_EQ(p.staffing["2026-01"].size(), 2u);
  EXPECT_EQ(p.staffing["2026-01"][0].basis, "employed");  // the default
  EXPECT_EQ(p.staffing["2026-02"][0].wte, 12.5);
}

TEST(StaffingImport, ColumnsInAnyOrderAndOptionalOnesMissing) {
  ParsedImport p = Parse(v1::IMPORT_KIND_STAFFING,
                         "wte,staff_group,period\n2.0,nurse_general,2026-03\n");
  EXPECT_TRUE(p.errors.empty());
  ASSERT_EQ(p.staffing["2026-03"].size(), 1u);
  EXPECT_EQ(p.staffing["2026-03"][0].group, "nurse_general");
}

TEST(StaffingImport, BadNumber) {
  ExpectOneError(
      Parse(v1::IMPORT_KIND_STAFFING, kStaffHeader + "2026-01,admin,1.0,,A1\n"
                                                     "2026-01,admin,one,,A2\n"),
      3, "wte", "expected a plain decimal number such as 2.5, got 'one'");
}

TEST(StaffingImport, PostWteOutOfRange) {
  ExpectOneError(
      Parse(v1::IMPORT_KIND_STAFFING, kStaffHeader + "2026-01,admin,1.5,,A1\n"),
      2, "wte", "a post's wte must be more than 0 and at most 1.0");
  ExpectOneError(
      Parse(v1::IMPORT_KIND_STAFFING, kStaffHeader + "2026-01,admin,0,,A1\n"),
      2, "wte", "more than 0");
}

TEST(StaffingImport, GroupTotalOutOfRange) {
  ExpectOneError(Parse(v1::IMPORT_KIND_STAFFING,
                       kStaffHeader + "2026-01,admin,1000.5,,\n"),
                 2, "wte", "a group total's wte must be 0 to 1000");
  ExpectOneError(
      Parse(v1::IMPORT_KIND_STAFFING, kStaffHeader + "2026-01,admin,-1,,\n"), 2,
      "wte", "0 to 1000");
}

TEST(StaffingImport, UnknownStaffGroupAndBasis) {
  ExpectOneError(
      Parse(v1::IMPORT_KIND_STAFFING, kStaffHeader + "2026-01,surgeon,1,,A1\n"),
      2, "staff_group", "unknown staff group 'surgeon'");
  ExpectOneError(Parse(v1::IMPORT_KIND_STAFFING,
                       kStaffHeader + "2026-01,admin,1,agency,A1\n"),
                 2, "basis", "unknown basis 'agency'");
}

TEST(StaffingImport, MalformedAndFuturePeriod) {
  ExpectOneError(
      Parse(v1::IMPORT_KIND_STAFFING, kStaffHeader + "2026-13,admin,1,,A1\n"),
      2, "period", "malformed month '2026-13'");
  ExpectOneError(
      Parse(v1::IMPORT_KIND_STAFFING, kStaffHeader + "2026-07,admin,1,,A1\n"),
      2, "period", "2026-07 is in the future");
}

TEST(StaffingImport, DuplicatePostInAMonth) {
  ExpectOneError(
      Parse(v1::IMPORT_KIND_STAFFING, kStaffHeader + "2026-01,admin,1,,A1\n"
                                                     "2026-01,manager,1,,A1\n"
                                                     "2026-02,admin,1,,A1\n"),
      3, "post_id", "post 'A1' appears twice in 2026-01");
}

TEST(StaffingImport, TwoGroupTotalsForOneGroupAndMonthNameBothLines) {
  ExpectOneError(
      Parse(v1::IMPORT_KIND_STAFFING, kStaffHeader + "2026-01,admin,2,,\n"
                                                     "2026-02,admin,2,,\n"
                                                     "2026-01,admin,2,,\n"),
      4, "staff_group",
      "a second employed group total for admin in 2026-01 (the "
      "first is on line 2): give one figure per group and month");
  // Totals for different bases are different figures (WTE by basis, vacancy).
  EXPECT_TRUE(Parse(v1::IMPORT_KIND_STAFFING,
                    kStaffHeader + "2026-01,admin,2,,\n2026-01,admin,1,locum,\n"
                                   "2026-01,admin,0.5,vacant,\n")
                  .errors.empty());
}

TEST(StaffingImport, PostsAndAGroupTotalForOneGroupAndMonthNameBothLines) {
  ExpectOneError(Parse(v1::IMPORT_KIND_STAFFING,
                       kStaffHeader + "2026-01,consultant_om,1.0,,C1\n"
                                      "2026-01,consultant_om,3,,\n"),
                 3, "staff_group",
                 "consultant_om in 2026-01 has both posts and a group total: "
                 "give one row per post or one group total per basis, not "
                 "both (first post on line 2)");
  ExpectOneError(Parse(v1::IMPORT_KIND_STAFFING,
                       kStaffHeader + "2026-01,consultant_om,3,,\n"
                                      "2026-02,consultant_om,1.0,,C1\n"
                                      "2026-01,consultant_om,1.0,,C1\n"),
                 4, "staff_group", "(group total on line 2)");
}

TEST(StaffingImport, NumbersArePlainDecimals) {
  for (const char* wte :
       {"0x10", "1e3", "inf", "nan", "+1", "\"1,0\"", "1.0.0", "-", ".",
        "\xC2\xA0"
        "1.0",
        "1 0"}) {
    ExpectOneError(
        Parse(v1::IMPORT_KIND_STAFFING,
              kStaffHeader + absl::StrCat("2026-01,admin,", wte, ",,\n")),
        2, "wte", "expected a plain decimal number such as 2.5");
  }
  ParsedImport nbsp =
      Parse(v1::IMPORT_KIND_STAFFING, kStaffHeader +
                                          "2026-01,admin,\xC2\xA0"
                                          "1.0,,\n");
  ASSERT_EQ(nbsp.errors.size(), 1u);
  EXPECT_THAT(nbsp.errors[0].reason(), HasSubstr("non-breaking space"));
  // Spaces and tabs around any field are trimmed, numbers included.
  ParsedImport p =
      Parse(v1::IMPORT_KIND_STAFFING, kStaffHeader +
                                          "2026-01 , admin ,\t1.0 ,,\n"
                                          "2026-02,admin,.5,,\n");
  EXPECT_TRUE(p.errors.empty()) << p.errors[0].reason();
  EXPECT_EQ(p.staffing["2026-01"][0].wte, 1.0);
  EXPECT_EQ(p.staffing["2026-02"][0].wte, 0.5);
}

TEST(StaffingImport, CodesIgnoreCase) {
  ParsedImport p = Parse(v1::IMPORT_KIND_STAFFING,
                         kStaffHeader + "2026-01,Nurse_General,1.0,Locum,N1\n");
  EXPECT_TRUE(p.errors.empty()) << p.errors[0].reason();
  ASSERT_EQ(p.staffing["2026-01"].size(), 1u);
  EXPECT_EQ(p.staffing["2026-01"][0].group, "nurse_general");
  EXPECT_EQ(p.staffing["2026-01"][0].basis, "locum");
}

// A file saved by Excel as Windows-1252: "£" is byte A3, "é" byte E9.
TEST(Import, Windows1252FieldsAreNamedByLineAndColumn) {
  ParsedImport p =
      Parse(v1::IMPORT_KIND_STAFFING, kStaffHeader +
                                          "2026-01,admin,1.0,,P\xA3"
                                          "1\n"
                                          "2026-01,m\xE9"
                                          "decin,1.0,,P2\n"
                                          "2026-01,admin,1.0,,P3\n");
  ASSERT_EQ(p.errors.size(), 2u);
  const std::string kReason =
      "not UTF-8 (is the file saved as Windows-1252? save it as CSV UTF-8)";
  EXPECT_EQ(p.errors[0].line(), 2u);
  EXPECT_EQ(p.errors[0].column(), "post_id");
  EXPECT_EQ(p.errors[0].reason(), kReason);
  EXPECT_EQ(p.errors[1].line(), 3u);
  EXPECT_EQ(p.errors[1].column(), "staff_group");
  EXPECT_EQ(p.errors[1].reason(), kReason);
  EXPECT_EQ(p.staffing["2026-01"].size(), 1u);  // line 4, for --skip-invalid
  // Every string bound for a protobuf field is UTF-8.
  for (const auto& e : p.errors) {
    EXPECT_EQ(FindInvalidUtf8(e.reason()), absl::string_view::npos);
  }
}

bool IsUtf8(absl::string_view s) {
  return FindInvalidUtf8(s) == absl::string_view::npos;
}

// Every string the parse hands on, to protobuf or to the store.
bool AllUtf8(const ParsedImport& p) {
  bool ok = true;
  for (const auto* list : {&p.errors, &p.warnings}) {
    for (const auto& e : *list) ok &= IsUtf8(e.column()) && IsUtf8(e.reason());
  }
  for (const auto& [period, rows] : p.staffing) {
    for (const auto& r : rows) ok &= IsUtf8(r.group + r.basis + r.post_id);
  }
  for (const auto& [period, rows] : p.activity) {
    for (const auto& r : rows) {
      ok &= IsUtf8(r.date + r.activity + r.client_org + r.subject_ref);
    }
  }
  for (const auto& [year, answers] : p.profile) {
    for (const auto& [code, answer] : answers) ok &= IsUtf8(code + answer);
  }
  return ok;
}

TEST(Import, NoMalformedUtf8ReachesAnyString) {
  const std::vector<std::pair<v1::ImportKind, std::vector<std::string>>> files =
      {{v1::IMPORT_KIND_STAFFING,
        {"period", "staff_group", "wte", "basis", "post_id"}},
       {v1::IMPORT_KIND_ACTIVITY,
        {"date", "activity", "client_org", "subject_ref", "wait_days"}},
       {v1::IMPORT_KIND_PROFILE, {"year", "question", "answer"}}};
  const std::vector<std::string> values = {
      "2026-01",      "admin", "1.0", "locum",      "P1",   "2026-01-05",
      "immunisation", "RXY",   "S1",  "14",         "2026", "host_type",
      "acute",        "yes",   "",    "caf\xC3\xA9"};
  const std::string bytes = "\xA3\xE9\xC3\x80\xFF\xED\xF0";
  std::mt19937 rng(8);
  auto pick = [&](size_t n) {
    return std::uniform_int_distribution<size_t>(0, n - 1)(rng);
  };
  for (const auto& [kind, columns] : files) {
    std::string csv = absl::StrJoin(columns, ",") + ",notes\n";
    for (int row = 0; row < 300; ++row) {
      for (size_t c = 0; c <= columns.size(); ++c) {
        std::string field = values[pick(values.size())];
        if (pick(3) == 0)
          field.insert(pick(field.size() + 1), 1, bytes[pick(bytes.size())]);
        absl::StrAppend(&csv, c ? "," : "", field);
      }
      csv += "\n";
    }
    absl::StatusOr<ParsedImport> p = ParseImport(kind, csv, Context());
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_GT(p->errors_total, 0u);
    EXPECT_TRUE(AllUtf8(*p)) << kind;
  }
}

TEST(Import, Windows1252HeaderIsFatal) {
  ParsedImport p =
      Parse(v1::IMPORT_KIND_PROFILE,
            "year,question,answer,r\xE9sum\xE9\n2026,physio_access,yes,x\n");
  EXPECT_TRUE(p.fatal);
  ExpectOneError(p, 1, "", "header column 4: not UTF-8");
  EXPECT_TRUE(p.warnings.empty());
}

TEST(Import, ExcelBlankRowsAndTrailingEmptyColumnsAreIgnored) {
  ParsedImport p = Parse(v1::IMPORT_KIND_STAFFING,
                         "period,staff_group,wte,basis,post_id,,,\r\n"
                         "2026-01,admin,1.0,,A1,,,\r\n"
                         ",,,,,,,\r\n"
                         "2026-01,admin,0.5,,A2,,,\r\n"
                         ",,,,,,,\r\n");
  EXPECT_TRUE(p.errors.empty()) << p.errors[0].reason();
  EXPECT_TRUE(p.warnings.empty());
  EXPECT_EQ(p.rows_read, 2u);
  EXPECT_EQ(p.staffing["2026-01"].size(), 2u);
}

TEST(Import, SemicolonSeparatedFileGetsAHint) {
  ParsedImport p = Parse(v1::IMPORT_KIND_STAFFING,
                         "period;staff_group;wte\n2026-01;admin;1,0\n");
  EXPECT_TRUE(p.fatal);
  ExpectOneError(p, 1, "",
                 "looks ';'-separated; the file must be comma-separated");
}

TEST(Import, QuotedSemicolonSeparatedFileGetsTheHintToo) {
  EXPECT_THAT(ParseImport(v1::IMPORT_KIND_STAFFING,
                          "\"period\";\"staff_group\";\"wte\"\n", Context()),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                "looks ';'-separated"));
}

TEST(Import, Utf16FileIsToldToBeSavedAsUtf8) {
  EXPECT_THAT(ParseImport(v1::IMPORT_KIND_STAFFING,
                          std::string("\xFF\xFEp\0e\0", 6), Context()),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                "UTF-16 (Unicode text); save it as CSV UTF-8"));
}

TEST(Import, ErrorListIsCappedAndCounted) {
  std::string csv = kStaffHeader;
  for (int i = 0; i < 1500; ++i) csv += "2026-01,wizard,x,,\n";
  ParsedImport p = Parse(v1::IMPORT_KIND_STAFFING, csv);
  EXPECT_EQ(p.errors.size(), kMaxReportedProblems);
  EXPECT_EQ(p.errors_total, 3000u);  // staff_group and wte on every row
  EXPECT_EQ(p.rows_invalid, 1500u);
  EXPECT_EQ(p.errors.back().line(), 501u);
}

TEST(Import, OversizeFileIsToldHowToSplit) {
  EXPECT_TRUE(CheckImportSize("a.csv", kMaxImportBytes).ok());
  EXPECT_THAT(CheckImportSize("a.csv", kMaxImportBytes + 1),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                "one import can take: split it by month"));
}

TEST(Import, NameLinesPointsWarningsAtTheFirstRowOfTheirMeasure) {
  ParsedImport p =
      Parse(v1::IMPORT_KIND_STAFFING, kStaffHeader +
                                          "2026-01,admin,1.0,,A1\n"
                                          "2026-02,manager,1.0,,M1\n"
                                          "2026-02,admin,1.0,vacant,A1\n"
                                          "2026-02,admin,1.0,,A2\n");
  std::vector<v1::RowProblem> warnings(3);
  warnings[0].set_period("2026-02");
  warnings[0].set_column("staffing.wte.admin");
  warnings[1].set_period("2026-02");
  warnings[1].set_column("staffing.wte_basis.employed");
  warnings[2].set_period("2026-03");
  warnings[2].set_column("staffing.wte.admin");
  NameLines(p, &warnings);
  EXPECT_EQ(warnings[0].line(), 4u);  // the vacant post counts towards it too
  EXPECT_EQ(warnings[1].line(), 3u);
  EXPECT_EQ(warnings[2].line(), 0u);  // not in this file
}

TEST(StaffingImport, MissingRequiredColumnIsFatal) {
  ParsedImport p = Parse(v1::IMPORT_KIND_STAFFING,
                         "period,staff_group,basis\n2026-01,admin,employed\n");
  EXPECT_TRUE(p.fatal);
  ExpectOneError(p, 1, "wte", "missing required column");
  EXPECT_TRUE(p.staffing.empty());
}

TEST(StaffingImport, WrongFieldCount) {
  ExpectOneError(
      Parse(v1::IMPORT_KIND_STAFFING, kStaffHeader + "2026-01,admin,1\n"), 2,
      "", "expected 5 fields, found 3");
}

TEST(StaffingImport, EveryBadRowIsReported) {
  ParsedImport p =
      Parse(v1::IMPORT_KIND_STAFFING, kStaffHeader +
                                          "2026-01,admin,x,,A1\n"
                                          "2026-01,admin,1,,A2\n"
                                          "2026-99,nobody,1,,A3\n");
  ASSERT_EQ(p.errors.size(), 3u);  // line 2 wte; line 4 period and group
  EXPECT_EQ(p.errors[0].line(), 2u);
  EXPECT_EQ(p.errors[1].line(), 4u);
  EXPECT_EQ(p.errors[1].column(), "period");
  EXPECT_EQ(p.errors[2].column(), "staff_group");
  EXPECT_EQ(p.staffing["2026-01"].size(), 1u);  // the valid row, for skipping
}

const std::string kActHeader =
    "date,activity,client_org,subject_ref,wait_days\n";

TEST(ActivityImport, ValidRowsAndDefaults) {
  ParsedImport p = Parse(v1::IMPORT_KIND_ACTIVITY,
                         kActHeader +
                             "2026-02-28,immunisation,,S1,\n"
                             "2026-03-01,management_referral,rxy,S2,14\n");
  EXPECT_TRUE(p.errors.empty());
  ASSERT_EQ(p.activity["2026-02"].size(), 1u);
  EXPECT_EQ(p.activity["2026-02"][0].client_org, "RJ1");
  EXPECT_EQ(p.activity["2026-02"][0].wait_days, -1);
  EXPECT_EQ(p.activity["2026-03"][0].client_org, "RXY");
  EXPECT_EQ(p.activity["2026-03"][0].wait_days, 14);
}

TEST(ActivityImport, MalformedDates) {
  for (const char* date :
       {"2026-02-30", "2026-2-01", "01/02/2026", "2026-02-1x", ""}) {
    ExpectOneError(Parse(v1::IMPORT_KIND_ACTIVITY,
                         kActHeader + absl::StrCat(date, ",immunisation,,,\n")),
                   2, "date", "malformed date");
  }
}

TEST(ActivityImport, FutureDate) {
  EXPECT_TRUE(Parse(v1::IMPORT_KIND_ACTIVITY,
                    kActHeader + "2026-06-30,immunisation,,,\n")
                  .errors.empty());
  ExpectOneError(Parse(v1::IMPORT_KIND_ACTIVITY,
                       kActHeader + "2026-07-01,immunisation,,,\n"),
                 2, "date",
                 "2026-07-01 is in the future (today is 2026-06-30)");
}

TEST(ActivityImport, DatesAfterTodayAreInTheFuture) {
  ImportContext ctx = Context();
  ctx.today = absl::CivilDay(2026, 6, 15);
  absl::StatusOr<ParsedImport> p = ParseImport(
      v1::IMPORT_KIND_ACTIVITY,
      kActHeader + "2026-06-15,immunisation,,,\n2026-06-16,immunisation,,,\n",
      ctx);
  ASSERT_TRUE(p.ok()) << p.status();
  ExpectOneError(*p, 3, "date",
                 "2026-06-16 is in the future (today is 2026-06-15)");
  EXPECT_EQ(p->activity["2026-06"].size(), 1u);
}

TEST(ActivityImport, UnknownActivityAndBadWait) {
  ExpectOneError(
      Parse(v1::IMPORT_KIND_ACTIVITY, kActHeader + "2026-01-05,massage,,,\n"),
      2, "activity", "unknown activity 'massage'");
  ExpectOneError(Parse(v1::IMPORT_KIND_ACTIVITY,
                       kActHeader + "2026-01-05,self_referral,,,2.5\n"),
                 2, "wait_days", "whole number of days");
  ExpectOneError(Parse(v1::IMPORT_KIND_ACTIVITY,
                       kActHeader + "2026-01-05,self_referral,,,0x10\n"),
                 2, "wait_days", "whole number of days, got '0x10'");
  ExpectOneError(Parse(v1::IMPORT_KIND_ACTIVITY,
                       kActHeader + "2026-01-05,self_referral,,,400\n"),
                 2, "wait_days", "0 to 365");
}

// Rows the quick reading takes (trimmed fields, codes in any case, leading
// zeros, a leap day) and rows it sends to the full checks, which name the
// problem as before.
TEST(ActivityImport, QuickAndFullChecksAgree) {
  ParsedImport p = Parse(v1::IMPORT_KIND_ACTIVITY,
                         kActHeader +
                             "2024-02-29,immunisation,rxy,S1,007\n"      // 2 ok
                             " 2026-01-05 ,Immunisation, rj1 ,S2, 5 \n"  // 3 ok
                             "2025-02-29,immunisation,,S3,\n"            // 4
                             "2026-01-05,immunisation,,S4,1234567890\n"  // 5
                             "2026-01-05,immunisation,,S5,-1\n"          // 6
                             "2026-01-05,immunisation," +
                             std::string(65, 'X') +  // 7
                             ",S6,\n"
                             "1899-12-31,immunisation,,S7,\n"        // 8
                             "2026-01-05,immunisation,,\"S,8\",3\n"  // 9 ok
                             "2026-01-05,immunisation,,S9,366\n");   // 10
  ASSERT_EQ(p.errors.size(), 6u);
  const std::vector<std::tuple<int, std::string, std::string>> expected = {
      {4, "date", "malformed date '2025-02-29'"},
      {5, "wait_days", "expected a whole number of days, got '1234567890'"},
      {6, "wait_days", "wait_days must be 0 to"},
      {7, "client_org", "longer than 64 characters"},
      {8, "date", "malformed date '1899-12-31'"},
      {10, "wait_days", "wait_days must be 0 to"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(p.errors[i].line(), std::get<0>(expected[i]));
    EXPECT_EQ(p.errors[i].column(), std::get<1>(expected[i]));
    EXPECT_THAT(p.errors[i].reason(), HasSubstr(std::get<2>(expected[i])));
  }
  ASSERT_EQ(p.activity["2024-02"].size(), 1u);
  EXPECT_EQ(p.activity["2024-02"][0].client_org, "RXY");
  EXPECT_EQ(p.activity["2024-02"][0].wait_days, 7);
  ASSERT_EQ(p.activity["2026-01"].size(), 2u);
  EXPECT_EQ(p.activity["2026-01"][0].activity, "immunisation");
  EXPECT_EQ(p.activity["2026-01"][0].client_org, "RJ1");
  EXPECT_EQ(p.activity["2026-01"][0].wait_days, 5);
  EXPECT_EQ(p.activity["2026-01"][1].subject_ref, "S,8");
}

// A file streamed in pieces cut anywhere gives what it gives whole: the
// same rows, problems and line numbers.
TEST(ActivityImport, PiecesCutAnywhereReadAsTheWholeFile) {
  const std::string csv = "\xEF\xBB\xBF" + kActHeader +
                          "2026-01-05,immunisation,,S1,3\r\n"
                          "2026-01-06,\"self_referral\",rxy,\"S\r\n2\",\r\n"
                          "2026-01-07,massage,,S3,\n"
                          "2026-01-08,immunisation,,S4,4\r"
                          "2026-13-01,immunisation,,S5,\n"
                          "2026-01-09,immunisation,,S6,9";
  auto render = [](const ParsedImport& p) {
    std::string out = absl::StrCat(p.rows_read, " read\n");
    for (const auto& e : p.errors) {
      absl::StrAppend(&out, e.line(), " ", e.column(), " ", e.reason(), "\n");
    }
    for (const auto& [month, rows] : p.activity) {
      for (const auto& r : rows) {
        absl::StrAppend(&out, month, " ", r.date, " ", r.activity, " ",
                        r.client_org, " ", absl::CEscape(r.subject_ref), " ",
                        r.wait_days, "\n");
      }
    }
    return out;
  };
  absl::StatusOr<ParsedImport> whole =
      ParseImport(v1::IMPORT_KIND_ACTIVITY, csv, Context());
  ASSERT_TRUE(whole.ok()) << whole.status();
  const std::string expected = render(*whole);
  EXPECT_EQ(expected,
            "6 read\n"
            "5 activity unknown activity 'massage'\n"
            "7 date malformed date '2026-13-01': expected YYYY-MM-DD, e.g. "
            "2026-03-14\n"
            "2026-01 2026-01-05 immunisation RJ1 S1 3\n"
            "2026-01 2026-01-06 self_referral RXY S\\r\\n2 -1\n"
            "2026-01 2026-01-08 immunisation RJ1 S4 4\n"
            "2026-01 2026-01-09 immunisation RJ1 S6 9\n");
  for (size_t piece = 1; piece < csv.size(); ++piece) {
    ImportParser parser(v1::IMPORT_KIND_ACTIVITY, Context());
    for (size_t i = 0; i < csv.size(); i += piece) {
      OHFED_ASSERT_OK(parser.Feed(absl::string_view(csv).substr(i, piece)));
    }
    absl::StatusOr<ParsedImport> p = parser.Finish();
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(render(*p), expected) << "pieces of " << piece;
  }
}

TEST(ActivityImport, MissingRequiredColumn) {
  ParsedImport p =
      Parse(v1::IMPORT_KIND_ACTIVITY, "date,subject_ref\n2026-01-01,S1\n");
  EXPECT_TRUE(p.fatal);
  ExpectOneError(p, 1, "activity", "missing required column");
}

const std::string kProfileHeader = "year,question,answer\n";

TEST(ProfileImport, TypedAnswers) {
  ParsedImport p = Parse(v1::IMPORT_KIND_PROFILE,
                         kProfileHeader +
                             "2026,host_type,acute\n"
                             "2026,seqohs_accredited,yes\n"
                             "2026,staff_served,9000\n"
                             "2025,covid.track_trace.strategic.host,no\n");
  EXPECT_TRUE(p.errors.empty());
  EXPECT_EQ(p.profile["2026"]["profile.host_type"], "acute");
  EXPECT_EQ(p.profile["2025"].size(), 1u);
}

TEST(ProfileImport, QuestionsAndAnswersIgnoreCase) {
  ParsedImport p =
      Parse(v1::IMPORT_KIND_PROFILE, kProfileHeader +
                                         "2026,Host_Type,Acute\n"
                                         "2026,SEQOHS_Accredited,Yes\n");
  EXPECT_TRUE(p.errors.empty()) << p.errors[0].reason();
  EXPECT_EQ(p.profile["2026"].count("profile.host_type"), 1u);
  EXPECT_EQ(p.profile["2026"].count("profile.seqohs_accredited"), 1u);
}

TEST(ActivityImport, ActivitiesIgnoreCase) {
  ParsedImport p = Parse(v1::IMPORT_KIND_ACTIVITY,
                         kActHeader + "2026-02-28,Immunisation,,S1,\n");
  EXPECT_TRUE(p.errors.empty()) << p.errors[0].reason();
  ASSERT_EQ(p.activity["2026-02"].size(), 1u);
  EXPECT_EQ(p.activity["2026-02"][0].activity, "immunisation");
}

TEST(ProfileImport, UnknownQuestionAndOption) {
  ExpectOneError(Parse(v1::IMPORT_KIND_PROFILE,
                       kProfileHeader + "2026,favourite_colour,blue\n"),
                 2, "question", "unknown question 'favourite_colour'");
  ExpectOneError(Parse(v1::IMPORT_KIND_PROFILE,
                       kProfileHeader + "2026,host_type,castle\n"),
                 2, "answer", "unknown option 'castle' for profile.host_type");
  ExpectOneError(Parse(v1::IMPORT_KIND_PROFILE,
                       kProfileHeader + "2026,seqohs_accredited,maybe\n"),
                 2, "answer", "expected yes or no, got 'maybe'");
  // Only spaces and tabs are trimmed, here as in every field.
  ExpectOneError(Parse(v1::IMPORT_KIND_PROFILE,
                       kProfileHeader + "2026,seqohs_accredited,\"yes\n\"\n"),
                 2, "answer", "expected yes or no");
  ExpectOneError(Parse(v1::IMPORT_KIND_PROFILE,
                       kProfileHeader + "2026,staff_served,lots\n"),
                 2, "answer", "expected a plain decimal number");
  // A single option is not a question: the enum is answered by name.
  ExpectOneError(Parse(v1::IMPORT_KIND_PROFILE,
                       kProfileHeader + "2026,host_type.acute,yes\n"),
                 2, "question", "unknown question");
}

TEST(ProfileImport, BadAndFutureYearAndDuplicates) {
  ExpectOneError(
      Parse(v1::IMPORT_KIND_PROFILE, kProfileHeader + "26,physio_access,yes\n"),
      2, "year", "malformed year '26'");
  ExpectOneError(Parse(v1::IMPORT_KIND_PROFILE,
                       kProfileHeader + "2027,physio_access,yes\n"),
                 2, "year", "2027 is in the future");
  ExpectOneError(Parse(v1::IMPORT_KIND_PROFILE, kProfileHeader +
                                                    "2026,physio_access,yes\n"
                                                    "2026,physio_access,no\n"),
                 3, "question", "answered twice for 2026 (first on line 2)");
}

TEST(Import, NotCsvAtAllFails) {
  EXPECT_THAT(ParseImport(v1::IMPORT_KIND_PROFILE, "", Context()),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, ""));
  EXPECT_THAT(ParseImport(v1::IMPORT_KIND_PROFILE,
                          "year,question,answer\n2026,\"x,yes\n", Context()),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, ""));
}

TEST(Import, SampleDataImportsCleanly) {
  agent::SampleFiles f =
      agent::MakeSampleData("RJ1", Month::Of(2025, 7), Month::Of(2026, 6));
  ImportContext ctx = Context();
  for (auto [kind, text] : {std::pair{v1::IMPORT_KIND_STAFFING, &f.staffing},
                            {v1::IMPORT_KIND_ACTIVITY, &f.activity},
                            {v1::IMPORT_KIND_PROFILE, &f.profile}}) {
    absl::StatusOr<ParsedImport> p = ParseImport(kind, *text, ctx);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_TRUE(p->errors.empty()) << kind << ": line " << p->errors[0].line()
                                   << " " << p->errors[0].reason();
    EXPECT_TRUE(p->warnings.empty());
  }
}

}  // namespace
}  // namespace ohfed::agent
