#include "common/csv.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace ohfed {
namespace {

constexpr absl::string_view kBom = "\xEF\xBB\xBF";

enum class Scan { kRecord, kIncomplete };

// Reads one record of `text` from `*pos` into `fields` (reusing its
// strings). On kRecord, `*pos` and `*line` move past it; on kIncomplete
// (only when !final: the text ends before the record does) nothing moves.
absl::StatusOr<Scan> ScanRecord(absl::string_view text, bool final,
                                absl::string_view source, size_t* pos,
                                int* line, std::vector<std::string>* fields) {
  size_t p = *pos;
  int ln = *line;
  size_t n = 0;
  auto next_field = [&]() -> std::string* {
    if (n == fields->size()) fields->emplace_back();
    std::string* f = &(*fields)[n++];
    f->clear();
    return f;
  };
  auto done = [&]() {
    fields->resize(n);
    *pos = p;
    *line = ln;
    return Scan::kRecord;
  };
  std::string* field = next_field();
  bool quoted = false, was_quoted = false;
  while (true) {
    if (p >= text.size()) {
      if (!final) return Scan::kIncomplete;
      if (quoted) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, " line ", *line,
                         ": unterminated quoted field (file truncated?)"));
      }
      return done();
    }
    if (quoted) {
      size_t q = text.find('"', p);
      if (q == absl::string_view::npos) {
        if (!final) return Scan::kIncomplete;
        return absl::InvalidArgumentError(
            absl::StrCat(source, " line ", *line,
                         ": unterminated quoted field (file truncated?)"));
      }
      absl::string_view part = text.substr(p, q - p);
      ln += static_cast<int>(std::count(part.begin(), part.end(), '\n'));
      field->append(part.data(), part.size());
      p = q + 1;
      if (p >= text.size()) {
        if (!final) return Scan::kIncomplete;  // "" may follow
        quoted = false;
      } else if (text[p] == '"') {
        field->push_back('"');
        ++p;
      } else {
        quoted = false;
      }
      continue;
    }
    const char c = text[p];
    if (c == ',') {
      ++p;
      field = next_field();
      was_quoted = false;
    } else if (c == '\n' || c == '\r') {
      ++p;
      if (c == '\r') {
        if (p >= text.size() && !final) return Scan::kIncomplete;  // CR|LF
        if (p < text.size() && text[p] == '\n') ++p;
      }
      ++ln;
      return done();
    } else if (c == '"') {
      if (!field->empty() || was_quoted) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, " line ", ln, ": stray quote inside a field"));
      }
      quoted = was_quoted = true;
      ++p;
    } else {
      if (was_quoted) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, " line ", ln, ": text after a closing quote"));
      }
      size_t end = text.find_first_of(",\r\n\"", p);
      if (end == absl::string_view::npos) end = text.size();
      field->append(text.data() + p, end - p);
      p = end;
    }
  }
}

bool IsBlank(const std::vector<absl::string_view>& f, size_t from = 0) {
  return std::all_of(f.begin() + from, f.end(),
                     [](absl::string_view v) { return TrimSpaces(v).empty(); });
}

// What a byte is to SplitPlain.
enum : uint8_t { kText = 0, kComma, kLf, kCr, kQuote };

constexpr std::array<uint8_t, 256> kByteClass = [] {
  std::array<uint8_t, 256> t{};
  t[','] = kComma;
  t['\n'] = kLf;
  t['\r'] = kCr;
  t['"'] = kQuote;
  return t;
}();

// Splits the record at the start of `text` into `fields` when it is plain:
// whole in `text` up to its LF, with no quote and no CR but one just before
// the LF. Returns its length with the line end, or 0 when it is not plain
// (ScanRecord reads it then, to the same fields: a plain record is one
// where its rules reduce to splitting at commas).
size_t SplitPlain(absl::string_view text,
                  std::vector<absl::string_view>* fields) {
  fields->clear();
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  const char* field = begin;
  for (const char* p = begin; p < end; ++p) {
    switch (kByteClass[static_cast<unsigned char>(*p)]) {
      case kText:
        break;
      case kComma:
        fields->emplace_back(field, static_cast<size_t>(p - field));
        field = p + 1;
        break;
      case kLf:
        fields->emplace_back(field, static_cast<size_t>(p - field));
        return static_cast<size_t>(p + 1 - begin);
      case kCr:
        if (p + 1 == end || p[1] != '\n') return 0;
        fields->emplace_back(field, static_cast<size_t>(p - field));
        return static_cast<size_t>(p + 2 - begin);
      default:  // a quote
        return 0;
    }
  }
  return 0;  // no line end yet, or the last record of the text
}

// The header's names, lower-cased, without the empty names a spreadsheet
// leaves at its end. Fails on an empty name before the last real one, or a
// name given twice.
absl::StatusOr<std::vector<std::string>> HeaderNames(
    std::vector<std::string> fields, absl::string_view source, int line) {
  while (!fields.empty() && TrimSpaces(fields.back()).empty())
    fields.pop_back();
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const std::string& f : fields) {
    std::string name = absl::AsciiStrToLower(TrimSpaces(f));
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, " line ", line, ": empty column name in header"));
    }
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, " line ", line, ": column '", Excerpt(name),
                       "' appears twice in the header"));
    }
    names.push_back(std::move(name));
  }
  return names;
}

// Length of the UTF-8 sequence starting at `text[i]`, or 0 if it is not
// well-formed (RFC 3629: no overlong forms, surrogates or values past
// U+10FFFF).
size_t Utf8SequenceLength(absl::string_view text, size_t i) {
  const auto byte = [&](size_t k) {
    return static_cast<unsigned char>(text[k]);
  };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

// "# key: value" before the header; other comment lines are ignored.
void AddMetadata(absl::string_view line, CsvTable* table) {
  line = absl::StripPrefix(line, "#");
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return;
  std::string key(absl::StripAsciiWhitespace(line.substr(0, colon)));
  if (key.empty() || key.find(' ') != std::string::npos) return;
  table->metadata[key] =
      std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
}

}  // namespace

int CsvTable::Column(absl::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

std::string CsvTable::Field(const CsvRecord& r, int col) {
  if (col < 0 || static_cast<size_t>(col) >= r.fields.size()) return "";
  return std::string(TrimSpaces(r.fields[col]));
}

absl::string_view CsvTable::FieldView(const CsvRow& r, int col) {
  if (col < 0 || static_cast<size_t>(col) >= r.fields.size()) return "";
  return TrimSpaces(r.fields[col]);
}

absl::string_view TrimSpaces(absl::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

size_t FindInvalidUtf8(absl::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t n = Utf8SequenceLength(text, i);
    if (n == 0) return i;
    i += n;
  }
  return absl::string_view::npos;
}

std::string Excerpt(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  // Back up over continuation bytes so no character is cut in two.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
    --end;
  return absl::StrCat(text.substr(0, end), "...");
}

CsvReader::CsvReader(absl::string_view source, size_t max_record_bytes,
                     bool split_plain)
    : source_(source),
      max_record_bytes_(max_record_bytes),
      split_plain_(split_plain) {}

absl::Status CsvReader::Fail(absl::Status s) {
  state_ = State::kFailed;
  pending_.clear();
  return s;
}

absl::StatusOr<size_t> CsvReader::Consume(absl::string_view text, bool final,
                                          RowFn fn) {
  size_t pos = 0;
  while (true) {
    const absl::string_view rest = text.substr(pos);
    if (state_ == State::kStart) {
      // Wait for three bytes that might be a byte-order mark.
      if (rest.size() < kBom.size() && !final && absl::StartsWith(kBom, rest)) {
        return pos;
      }
      if (absl::StartsWith(rest, kBom)) pos += kBom.size();
      state_ = State::kPreamble;
      continue;
    }
    if (rest.empty()) return pos;
    if (state_ == State::kPreamble) {
      // Leading comment and empty lines, before the header.
      if (rest[0] != '#' && rest[0] != '\n' && rest[0] != '\r') {
        state_ = State::kHeader;
        continue;
      }
      size_t end = rest.find('\n');
      if (end == absl::string_view::npos) {
        if (!final) return pos;
        end = rest.size();
      }
      AddMetadata(absl::StripSuffix(rest.substr(0, end), "\r"), &table_);
      pos += end < rest.size() ? end + 1 : end;
      ++line_;
      continue;
    }
    const int start_line = line_;
    const size_t plain = split_plain_ ? SplitPlain(rest, &views_) : 0;
    if (plain > 0) {
      pos += plain;
      ++line_;
    } else {
      absl::StatusOr<Scan> scan =
          ScanRecord(text, final, source_, &pos, &line_, &record_.fields);
      if (!scan.ok()) return scan.status();
      if (*scan == Scan::kIncomplete) return pos;
      views_.assign(record_.fields.begin(), record_.fields.end());
    }
    absl::Status s = OnFields(start_line, fn);
    if (!s.ok()) return s;
  }
}

absl::Status CsvReader::OnFields(int line, RowFn fn) {
  // Blank rows (",,,," included) are skipped above the header as below.
  if (IsBlank(views_)) return absl::OkStatus();
  if (state_ == State::kHeader) {
    table_.header_line = line;
    absl::StatusOr<std::vector<std::string>> names = HeaderNames(
        std::vector<std::string>(views_.begin(), views_.end()), source_, line);
    if (!names.ok()) return names.status();
    table_.header = std::move(*names);
    state_ = State::kRecords;
    return absl::OkStatus();
  }
  // Excel writes an empty field for every column it once saw used.
  const size_t columns = table_.header.size();
  if (views_.size() > columns && IsBlank(views_, columns)) {
    views_.resize(columns);
  }
  return fn(CsvRow{line, views_});
}

const CsvRecord& CsvReader::Copy(const CsvRow& row) {
  copied_.line = row.line;
  copied_.fields.resize(row.fields.size());
  for (size_t i = 0; i < row.fields.size(); ++i) {
    copied_.fields[i].assign(row.fields[i].data(), row.fields[i].size());
  }
  return copied_;
}

absl::Status CsvReader::Feed(absl::string_view piece, RecordFn fn) {
  return FeedRows(piece, [&](const CsvRow& row) { return fn(Copy(row)); });
}

absl::Status CsvReader::Finish(RecordFn fn) {
  return FinishRows([&](const CsvRow& row) { return fn(Copy(row)); });
}

absl::Status CsvReader::FeedRows(absl::string_view piece, RowFn fn) {
  if (state_ == State::kFailed) {
    return absl::FailedPreconditionError(
        absl::StrCat(source_, ": read after an error"));
  }
  absl::StatusOr<size_t> used = size_t{0};
  if (!pending_.empty()) {
    // Complete the pending record with the piece's first line only: when
    // that completes it (the usual case), the rest of the piece is read
    // where it lies rather than copied after it.
    const size_t lf = piece.find('\n');
    const size_t head = lf == absl::string_view::npos ? piece.size() : lf + 1;
    pending_.append(piece.data(), head);
    piece.remove_prefix(head);
    used = Consume(pending_, false, fn);
    if (used.ok()) pending_.erase(0, *used);
    if (used.ok() && !pending_.empty() && !piece.empty()) {
      pending_.append(piece.data(), piece.size());
      piece = {};
      used = Consume(pending_, false, fn);
      if (used.ok()) pending_.erase(0, *used);
    }
  }
  if (used.ok() && pending_.empty() && !piece.empty()) {
    used = Consume(piece, false, fn);
    if (used.ok()) pending_.assign(piece.data() + *used, piece.size() - *used);
  }
  if (!used.ok()) return Fail(used.status());
  if (pending_.size() > max_record_bytes_) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        source_, " line ", line_, ": a record longer than ",
        max_record_bytes_ >> 10,
        " KiB (not a CSV file, or an unterminated quoted field?)")));
  }
  return absl::OkStatus();
}

absl::Status CsvReader::FinishRows(RowFn fn) {
  if (state_ == State::kFailed) {
    return absl::FailedPreconditionError(
        absl::StrCat(source_, ": read after an error"));
  }
  absl::StatusOr<size_t> used = Consume(pending_, true, fn);
  if (!used.ok()) return Fail(used.status());
  pending_.clear();
  if (state_ != State::kRecords) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat(source_, ": empty file, expected a header row")));
  }
  return absl::OkStatus();
}

absl::StatusOr<CsvTable> ParseCsv(absl::string_view text,
                                  absl::string_view source) {
  CsvReader reader(source, std::numeric_limits<size_t>::max());
  std::vector<CsvRecord> records;
  auto keep = [&](const CsvRecord& r) {
    records.push_back(r);
    return absl::OkStatus();
  };
  absl::Status s = reader.Feed(text, keep);
  if (s.ok()) s = reader.Finish(keep);
  if (!s.ok()) return s;
  CsvTable table = reader.table();
  table.records = std::move(records);
  return table;
}

absl::Status RequireColumns(const CsvTable& t,
                            const std::vector<std::string>& required,
                            absl::string_view source) {
  std::vector<std::string> missing;
  for (const auto& name : required) {
    if (t.Column(name) < 0) missing.push_back(name);
  }
  if (missing.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      source, " line ", t.header_line, ": header lacks required column(s) ",
      absl::StrJoin(missing, ", "), "; found ", absl::StrJoin(t.header, ",")));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    std::string msg = absl::StrCat("cannot open ", path, ": ", strerror(err));
    if (err == ENOENT) return absl::NotFoundError(msg);
    return absl::UnavailableError(msg);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ohfed
