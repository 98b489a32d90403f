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
// A missing required column is a fatal problem: no row can be imported (a
// header that looks ';'-separated says so instead).
//
// Every field read is checked to be UTF-8 first, so nothing that reaches a
// protobuf string or the store is malformed. Spaces and tabs around fields
// are trimmed (CsvTable::Field); codes (staff groups, activities, basis,
// questions, answers) are matched ignoring case (CanonicalCode); numbers are
// plain decimals (ParseNumber). Staffing gives one figure per group and
// month: posts, or one group total per basis, never both; a later row that
// breaks the rule is the bad one, naming the line it conflicts with (so
// --skip-invalid keeps the first). A UTF-16 file, or a ';'-separated one,
// is told how to save it.
#ifndef OHFED_AGENT_IMPORTER_H_
#define OHFED_AGENT_IMPORTER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "agent/activity_rows.h"
#include "agent/records.h"
#include "common/catalogue.h"
#include "common/csv.h"
#include "common/period.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::agent {

// Problems listed in one answer; the rest are only counted (errors_total),
// so that a file full of errors still gets a report that fits a message.
inline constexpr size_t kMaxReportedProblems = 1000;

struct ImportContext {
  const Catalogue* catalogue = nullptr;
  std::string trust;                      // default client_org
  Month current_month;                    // anything later is a future date
  std::string file_name = "import file";  // names the file in CSV errors
  // Activity dates after it are in the future; unset: the last day of
  // current_month.
  std::optional<absl::CivilDay> today;
};

// Which measures of a period came from which line: measure -> the first line
// that counts towards it.
using SourceLines = std::map<std::string, uint32_t>;

struct ParsedImport {
  v1::ImportKind kind = v1::IMPORT_KIND_UNSPECIFIED;
  uint32_t rows_read = 0;
  uint32_t rows_invalid = 0;  // rows with at least one error
  bool fatal = false;  // the file as a whole is unusable (missing column)
  // The first kMaxReportedProblems errors, in line order; errors_total
  // counts them all.
  std::vector<v1::RowProblem> errors;
  uint32_t errors_total = 0;
  std::vector<v1::RowProblem> warnings;
  // Valid rows by period: "YYYY-MM" for staffing and activity, "YYYY" for
  // profile answers (keyed by question code, e.g. "profile.host_type").
  std::map<std::string, std::vector<StaffingRow>> staffing;
  std::map<std::string, std::vector<ActivityRow>> activity;
  std::map<std::string, Answers> profile;
  // For the months above: where their measures came from (see NameLines).
  std::map<std::string, SourceLines> lines;
};

// Fails (kInvalidArgument) only when the text is not CSV at all (see
// ParseCsv) or the kind is unspecified; row problems are in the result.
absl::StatusOr<ParsedImport> ParseImport(v1::ImportKind kind,
                                         absl::string_view content,
                                         const ImportContext& context);

// Takes the valid activity rows of a streamed import in place of
// ParsedImport::activity, so that they need not be held in memory
// (agent/import_stage.h). A failure fails the import.
class ActivitySink {
 public:
  virtual ~ActivitySink() = default;
  // The row's strings live only during the call.
  virtual absl::Status AddView(Month month, const ActivityView& row) = 0;
};

namespace importer_internal {
class RowReader;
struct StaffingSeen;
}  // namespace importer_internal

// ParseImport for a file that arrives in pieces cut anywhere (a streamed
// import): the same problems, line numbers and result. Its memory is
// bounded by the longest record, the problems listed and what a file gives
// per period (SourceLines; staffing and profile rows), not by the activity
// rows when they go to a sink.
class ImportParser {
 public:
  // `activity` (optional) must outlive the parser.
  ImportParser(v1::ImportKind kind, ImportContext context,
               ActivitySink* activity = nullptr);
  ~ImportParser();

  // Errors as ParseImport's, or the sink's; the first one sticks.
  absl::Status Feed(absl::string_view piece);
  absl::StatusOr<ParsedImport> Finish();

 private:
  // The catalogue names of an activity as typed, and the line keys noted.
  struct ActivityCode {
    std::string name;  // empty: unknown
    int id = 0;
    const Measure* wait = nullptr;
  };
  absl::Status FeedReader(absl::string_view text);
  // The header's columns of an activity file (-1: absent).
  struct ActivityColumns {
    int date = -1, activity = -1, client_org = -1, subject_ref = -1,
        wait_days = -1;
  };
  absl::Status OnRecord(const CsvRow& record);
  absl::Status ReadActivityRow(importer_internal::RowReader& row);
  // The usual row, read without a copy: true if it passes every check
  // (then `view` is the row to keep, valid until the next row); false
  // sends it to the full checks, which name its problems.
  bool QuickActivityRow(const importer_internal::RowReader& row,
                        ActivityView* view, Month* month,
                        const ActivityCode** code);
  // A well-formed "YYYY-MM-DD" that CheckDate accepts.
  bool QuickDate(absl::string_view date, Month* month) const;
  absl::Status KeepActivity(int line, Month month, const ActivityCode& code,
                            const ActivityView& row);
  const ActivityCode& Activity(absl::string_view typed);
  absl::Status CsvError(absl::Status s) const;

  const v1::ImportKind kind_;
  const ImportContext ctx_;
  ActivitySink* const sink_;
  absl::Status status_;
  CsvReader reader_;
  std::string head_;  // the first bytes, for the encoding and ';' checks
  bool encoding_checked_ = false;
  bool header_checked_ = false;
  ParsedImport out_;
  std::map<std::pair<std::string, std::string>, int> answered_;
  std::unique_ptr<importer_internal::StaffingSeen> staffing_;
  absl::flat_hash_map<std::string, ActivityCode> activities_;
  absl::flat_hash_set<uint64_t> lines_noted_;  // (month, activity, measures)
  std::vector<bool> known_columns_;  // by header column: read by the import
  ActivityColumns activity_columns_;
  int today_ = 0;      // the last day not in the future, as YYYYMMDD
  std::string upper_;  // a client_org upper-cased
};

// kInvalidArgument for a file of more than kMaxImportBytes, saying how to
// split it; OK otherwise.
absl::Status CheckImportSize(absl::string_view file_name, size_t bytes);

// Sets the line of each warning about a period and measure of `parsed`
// (outlier warnings: period set, column = measure, line 0) to the first line
// of the file that counts towards that measure.
void NameLines(const ParsedImport& parsed,
               std::vector<v1::RowProblem>* warnings);

// The valid rows of `parsed`, as the store takes them.
ImportedRecords RecordsOf(const ParsedImport& parsed);

// Copies what the parse found into an answer: rows read, the listed errors,
// errors_total and the warnings.
void ReportParse(const ParsedImport& parsed, v1::ImportResponse* response);

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_IMPORTER_H_
