#include "cli/import_report.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/csv.h"

namespace ohfed::agent {

std::string FormatProblem(const v1::RowProblem& p) {
  std::string where = p.line() ? absl::StrCat("line ", p.line()) : "";
  if (!p.column().empty()) {
    absl::StrAppend(&where, where.empty() ? "" : ", ", "column ", p.column());
  }
  return where.empty() ? p.reason() : absl::StrCat(where, ": ", p.reason());
}

std::string Utf8FileName(absl::string_view path) {
  std::string out;
  while (!path.empty()) {
    size_t bad = FindInvalidUtf8(path);
    if (bad == absl::string_view::npos) bad = path.size();
    absl::StrAppend(&out, path.substr(0, bad));
    if (bad == path.size()) break;
    out += '?';
    path.remove_prefix(bad + 1);
  }
  return out;
}

ImportReport ReportImport(const v1::ImportResponse& r, absl::string_view file,
                          bool skip_invalid) {
  ImportReport report;
  std::string& out = report.out;
  for (const auto& w : r.warnings()) {
    absl::StrAppend(&out, "warning: ", FormatProblem(w), "\n");
  }
  const char* kind = skip_invalid ? "skipped: " : "error: ";
  for (const auto& e : r.errors()) {
    absl::StrAppend(&out, kind, FormatProblem(e), "\n");
  }
  // An agent from before errors_total lists every error.
  const uint32_t total = std::max<uint32_t>(
      r.errors_total(), static_cast<uint32_t>(r.errors_size()));
  if (total > static_cast<uint32_t>(r.errors_size())) {
    absl::StrAppend(&out, "... and ", total - r.errors_size(), " more\n");
  }
  if (total > 0 && r.rows_skipped() == 0) {
    report.failure = absl::StrCat(
        "rejected ", file, ": ", total, " problem(s), nothing imported",
        r.errors_size() > 0 ? "; first: " + FormatProblem(r.errors(0)) : "");
    return report;
  }
  absl::StrAppend(
      &out, absl::StrFormat(
                "%s: %u rows read, %u imported, %u unchanged, %u skipped\n",
                file, r.rows_read(), r.rows_imported(), r.rows_unchanged(),
                r.rows_skipped()));
  absl::StrAppend(&out, "periods changed: ",
                  r.periods_changed().empty()
                      ? "none"
                      : absl::StrJoin(r.periods_changed(), " "),
                  "\n");
  if (!r.periods_held().empty()) {
    absl::StrAppend(&out, "held for review (outlier warnings above): ",
                    absl::StrJoin(r.periods_held(), " "),
                    "\n  not sent until you check the figures and run `ohfed "
                    "confirm PERIOD`, or re-import with --accept-outliers\n");
  }
  if (r.rows_imported() + r.rows_unchanged() == 0 && r.rows_skipped() > 0) {
    report.failure = absl::StrCat("nothing imported from ", file, ": all ",
                                  r.rows_skipped(), " rows were skipped");
  }
  return report;
}

}  // namespace ohfed::agent
