// What `ohfed import` prints and whether it fails, from the agent's answer.
#include "cli/import_report.h"

#include "tests/testing/testing.h"

namespace ohfed::agent {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

v1::RowProblem Problem(int line, const std::string& column,
                       const std::string& reason) {
  v1::RowProblem p;
  p.set_line(line);
  p.set_column(column);
  p.set_reason(reason);
  return p;
}

TEST(ImportReportTest, SkipInvalidWithEveryRowSkippedFails) {
  v1::ImportResponse r;
  r.set_rows_read(2);
  r.set_rows_skipped(2);
  *r.add_errors() = Problem(2, "wte", "expected a plain decimal number");
  *r.add_errors() = Problem(3, "wte", "expected a plain decimal number");
  r.set_errors_total(2);
  ImportReport report = ReportImport(r, "s.csv", /*skip_invalid=*/true);
  EXPECT_THAT(report.out, HasSubstr("skipped: line 2, column wte: expected"));
  EXPECT_THAT(
      report.out,
      HasSubstr("s.csv: 2 rows read, 0 imported, 0 unchanged, 2 skipped"));
  EXPECT_EQ(report.failure,
            "nothing imported from s.csv: all 2 rows were skipped");
}

TEST(ImportReportTest, SkipInvalidWithSomeRowsImportedSucceeds) {
  v1::ImportResponse r;
  r.set_rows_read(2);
  r.set_rows_imported(1);
  r.set_rows_skipped(1);
  *r.add_errors() = Problem(3, "wte", "bad");
  r.set_errors_total(1);
  r.add_periods_changed("2026-01");
  ImportReport report = ReportImport(r, "s.csv", true);
  EXPECT_THAT(report.failure, IsEmpty());
  EXPECT_THAT(report.out, HasSubstr("periods changed: 2026-01"));
  // A re-import that changes nothing still imported its rows.
  r.set_rows_imported(0);
  r.set_rows_unchanged(1);
  EXPECT_THAT(ReportImport(r, "s.csv", true).failure, IsEmpty());
}

TEST(ImportReportTest, CappedErrorListSaysHowManyMore) {
  v1::ImportResponse r;
  r.set_rows_read(5000);
  for (int i = 0; i < 1000; ++i) *r.add_errors() = Problem(i + 2, "wte", "bad");
  r.set_errors_total(5000);
  ImportReport report = ReportImport(r, "s.csv", false);
  EXPECT_THAT(report.out, HasSubstr("error: line 1001, column wte: bad\n"
                                    "... and 4000 more\n"));
  EXPECT_EQ(report.failure,
            "rejected s.csv: 5000 problem(s), nothing imported; first: line 2, "
            "column wte: bad");
}

TEST(ImportReportTest, WarningsNameTheirLineAndHeldPeriodsAreListed) {
  v1::ImportResponse r;
  r.set_rows_read(5);
  r.set_rows_imported(5);
  v1::RowProblem w =
      Problem(6, "staffing.wte.admin", "2026-04 ... please check");
  w.set_period("2026-04");
  *r.add_warnings() = w;
  r.add_periods_held("2026-04");
  ImportReport report = ReportImport(r, "s.csv", false);
  EXPECT_THAT(report.out,
              HasSubstr("warning: line 6, column staffing.wte.admin: 2026-04"));
  EXPECT_THAT(report.out, HasSubstr("held for review"));
  EXPECT_THAT(report.failure, IsEmpty());
}

TEST(ImportReportTest, FileNamesBecomeUtf8) {
  EXPECT_EQ(Utf8FileName("caf\xC3\xA9.csv"), "caf\xC3\xA9.csv");
  EXPECT_EQ(Utf8FileName("caf\xE9.csv"), "caf?.csv");
}

}  // namespace
}  // namespace ohfed::agent
