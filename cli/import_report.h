// What `ohfed import` prints for the agent's answer to an import, and
// whether the command fails: kept apart from the command-line wiring so the
// wording and the exit rule are tested without a process.
#ifndef OHFED_CLI_IMPORT_REPORT_H_
#define OHFED_CLI_IMPORT_REPORT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::agent {

struct ImportReport {
  std::string out;      // for stdout: problems, counts, periods
  std::string failure;  // empty on success; else the one-line reason (exit 1)
};

// The import failed when nothing was imported: the file was rejected (any
// error without --skip-invalid, or a fatal one), or with --skip-invalid every
// row was skipped. At most the errors the agent listed are printed, then
// "... and N more" when errors_total says there were more.
ImportReport ReportImport(const v1::ImportResponse& response,
                          absl::string_view file, bool skip_invalid);

// "line 3, column wte: reason" (without line or column when unset).
std::string FormatProblem(const v1::RowProblem& p);

// `path` as it can travel in a protobuf string: bytes that are not UTF-8
// become '?'.
std::string Utf8FileName(absl::string_view path);

}  // namespace ohfed::agent

#endif  // OHFED_CLI_IMPORT_REPORT_H_
