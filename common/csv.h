// An RFC 4180 CSV reader shared by the catalogue, the registry and the
// agent's importers.
//
// Accepts CRLF or LF line ends, quoted fields with embedded commas, quotes
// ("") and line breaks, and a UTF-8 byte-order mark. Leading lines that start
// with '#' (before the header) are metadata: "# key: value" lines are kept in
// `metadata`, other comment lines are ignored. Blank lines are skipped.
#ifndef OHFED_COMMON_CSV_H_
#define OHFED_COMMON_CSV_H_

#include <map>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

namespace ohfed {

struct CsvRecord {
  int line = 0;  // 1-based physical line where the record starts
  std::vector<std::string> fields;
};

struct CsvTable {
  std::map<std::string, std::string> metadata;
  std::vector<std::string> header;  // trimmed, lower-cased names
  int header_line = 0;
  std::vector<CsvRecord> records;

  // Index of the named column, or -1 if the header lacks it.
  int Column(absl::string_view name) const;
  // The record's field for column `col`, trimmed; empty if col < 0 or the
  // record is short.
  static std::string Field(const CsvRecord& r, int col);
};

// Parses `text`. `source` names the input in errors ("catalogue.csv").
// Fails with kInvalidArgument naming the source and line for an empty input,
// a missing header, a duplicated header column, an unterminated quote or a
// stray quote inside an unquoted field. Records whose field count differs
// from the header's are returned as they are: callers report them per row.
absl::StatusOr<CsvTable> ParseCsv(absl::string_view text,
                                  absl::string_view source);

// Requires every name in `required` in the header; the error lists the
// missing ones and the source.
absl::Status RequireColumns(const CsvTable& t,
                            const std::vector<std::string>& required,
                            absl::string_view source);

// Reads a whole file; kNotFound / kUnavailable name the path.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace ohfed

#endif  // OHFED_COMMON_CSV_H_
