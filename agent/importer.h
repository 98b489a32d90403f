// Parses and validates one CSV import (SPEC §4) offline, without touching the
// store: every bad row becomes a RowProblem (line, column, reason) and the
// valid rows are grouped by the period they belong to.
//
//   staffing  period,staff_group,wte,basis,post_id   (basis, post_id optional)
//   activity  date,activity,client_org,subject_ref,wait_days
//                                 (client_org, subject_ref, wait_days optional)
//   profile   year,question,answer
//
// Columns may come in any order; unknown columns are ignored with a warning.
// A missing required column is a fatal problem: no row can be imported.
#ifndef OHFED_AGENT_IMPORTER_H_
#define OHFED_AGENT_IMPORTER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/records.h"
#include "common/catalogue.h"
#include "common/period.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::agent {

struct ImportContext {
  const Catalogue* catalogue = nullptr;
  std::string trust;    // default client_org
  Month current_month;  // anything later is a future date
  std::string file_name = "import file";  // names the file in CSV errors
};

struct ParsedImport {
  v1::ImportKind kind = v1::IMPORT_KIND_UNSPECIFIED;
  uint32_t rows_read = 0;
  bool fatal = false;  // the file as a whole is unusable (missing column)
  std::vector<v1::RowProblem> errors;    // one per bad row (or column)
  std::vector<v1::RowProblem> warnings;
  // Valid rows by period: "YYYY-MM" for staffing and activity, "YYYY" for
  // profile answers (keyed by question code, e.g. "profile.host_type").
  std::map<std::string, std::vector<StaffingRow>> staffing;
  std::map<std::string, std::vector<ActivityRow>> activity;
  std::map<std::string, Answers> profile;
};

// Fails (kInvalidArgument) only when the text is not CSV at all (see
// ParseCsv) or the kind is unspecified; row problems are in the result.
absl::StatusOr<ParsedImport> ParseImport(v1::ImportKind kind,
                                         absl::string_view content,
                                         const ImportContext& context);

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_IMPORTER_H_
