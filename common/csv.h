// An RFC 4180 CSV reader shared by the catalogue, the registry and the
// agent's importers.
//
// Accepts CRLF or LF line ends, quoted fields with embedded commas, quotes
// ("") and line breaks, and a UTF-8 byte-order mark. Leading lines that start
// with '#' (before the header) are metadata: "# key: value" lines are kept in
// `metadata`, other comment lines are ignored.
//
// What spreadsheets add is tolerated: rows whose fields are all empty
// (",,,,", Excel's blank rows) are skipped, empty column names at the end of
// the header are dropped, and empty fields beyond the header's last column
// are dropped from each record.
//
// Bytes are not interpreted: the reader does not check the encoding. Callers
// that put fields into protobuf strings check them with FindInvalidUtf8.
#ifndef OHFED_COMMON_CSV_H_
#define OHFED_COMMON_CSV_H_

#include <map>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ohfed {

struct CsvRecord {
  int line = 0;  // 1-based physical line where the record starts
  std::vector<std::string> fields;
};

// A record whose fields are views, valid only during the callback that gets
// it: into the text fed when the record is plain (no quote, no CR but the
// one of a CRLF), into the reader's own buffers otherwise.
struct CsvRow {
  int line = 0;  // 1-based physical line where the record starts
  const std::vector<absl::string_view>& fields;
};

struct CsvTable {
  std::map<std::string, std::string> metadata;
  std::vector<std::string> header;  // trimmed, lower-cased names
  int header_line = 0;
  std::vector<CsvRecord> records;

  // Index of the named column, or -1 if the header lacks it.
  int Column(absl::string_view name) const;
  // The record's field for column `col` without surrounding spaces and tabs
  // (the only characters trimmed, in every field alike; a line break or a
  // non-breaking space stays part of the value); empty if col < 0 or the
  // record is short.
  static std::string Field(const CsvRecord& r, int col);
  // The same for a row of views, without a copy.
  static absl::string_view FieldView(const CsvRow& r, int col);
};

// Reads CSV given in pieces of any size, cut anywhere (inside a field, a
// quoted line break, a CRLF or the byte-order mark): what ParseCsv does, in
// memory bounded by the longest record rather than the file. Records are
// handed to a callback as they complete, with their physical line numbers;
// the metadata and header are in table() (whose records stay empty) once
// the header is read.
//
// A plain record (no quote, no CR but a CRLF's, whole in the text at hand)
// is split where it lies, its fields handed over as views (FeedRows); any
// other goes through the full RFC 4180 scan. Both give the same fields.
class CsvReader {
 public:
  // Called for each record after the header; an error stops the reading
  // and is returned by Feed or Finish.
  using RecordFn = absl::FunctionRef<absl::Status(const CsvRecord&)>;
  // The same with the fields as views (no copy of a plain record).
  using RowFn = absl::FunctionRef<absl::Status(const CsvRow&)>;

  // A record that is still incomplete after `max_record_bytes` (an
  // unterminated quote, most likely) is an error.
  // `split_plain` false reads every record with the full scan (for tests
  // that compare the two).
  explicit CsvReader(absl::string_view source,
                     size_t max_record_bytes = size_t{4} << 20,
                     bool split_plain = true);

  // The next piece of the text. Errors as ParseCsv's, plus an over-long
  // record; after an error the reader takes nothing more.
  absl::Status Feed(absl::string_view piece, RecordFn fn);
  // The end of the text: the last record may lack its line break. Fails as
  // ParseCsv does on an empty input or a missing header.
  absl::Status Finish(RecordFn fn);
  // Feed and Finish handing records over as views.
  absl::Status FeedRows(absl::string_view piece, RowFn fn);
  absl::Status FinishRows(RowFn fn);

  bool has_header() const { return state_ == State::kRecords; }
  const CsvTable& table() const { return table_; }

 private:
  enum class State { kStart, kPreamble, kHeader, kRecords, kFailed };
  // Consumes what complete units `text` holds; returns how many bytes.
  absl::StatusOr<size_t> Consume(absl::string_view text, bool final, RowFn fn);
  // Hands over the record in views_ (line `line`), or takes it as the
  // header.
  absl::Status OnFields(int line, RowFn fn);
  absl::Status Fail(absl::Status s);
  // `row` as Feed and Finish hand it over, in copied_.
  const CsvRecord& Copy(const CsvRow& row);

  std::string source_;
  size_t max_record_bytes_;
  bool split_plain_;
  State state_ = State::kStart;
  std::string pending_;  // the start of an incomplete unit
  int line_ = 1;
  CsvTable table_;
  CsvRecord record_;  // reused: its strings keep their capacity
  CsvRecord copied_;  // what Feed and Finish hand over, reused
  std::vector<absl::string_view> views_;  // the current record's fields
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

// `s` without the spaces and tabs around it: the trimming CsvTable::Field
// does, for values that arrive by other ways (`ohfed set`).
absl::string_view TrimSpaces(absl::string_view s);

// The offset of the first byte of `text` that is not part of well-formed
// UTF-8 (no overlong forms, surrogates or code points above U+10FFFF, as
// protobuf requires of string fields), or npos if it is all well-formed.
size_t FindInvalidUtf8(absl::string_view text);

// At most `max_bytes` of `text` for quoting in a message, cut at a UTF-8
// character boundary, with "..." appended when cut.
std::string Excerpt(absl::string_view text, size_t max_bytes = 40);

// Reads a whole file; kNotFound / kUnavailable name the path.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace ohfed

#endif  // OHFED_COMMON_CSV_H_
