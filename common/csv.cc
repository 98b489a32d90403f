#include "common/csv.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace ohfed {
namespace {

// Splits the text into records; tracks physical line numbers.
class Tokenizer {
 public:
  Tokenizer(absl::string_view text, absl::string_view source)
      : text_(text), source_(source) {}

  bool Done() const { return pos_ >= text_.size(); }
  int line() const { return line_; }

  // Reads the rest of the current physical line (for comment lines).
  absl::string_view RestOfLine() {
    size_t end = text_.find('\n', pos_);
    if (end == absl::string_view::npos) end = text_.size();
    absl::string_view out = text_.substr(pos_, end - pos_);
    pos_ = end < text_.size() ? end + 1 : end;
    ++line_;
    return absl::StripSuffix(out, "\r");
  }

  char Peek() const { return text_[pos_]; }

  absl::StatusOr<std::vector<std::string>> Record() {
    std::vector<std::string> fields;
    std::string field;
    bool quoted = false, was_quoted = false;
    const int start_line = line_;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (quoted) {
        if (c == '"') {
          if (pos_ < text_.size() && text_[pos_] == '"') {
            field += '"';
            ++pos_;
          } else {
            quoted = false;
          }
        } else {
          if (c == '\n') ++line_;
          field += c;
        }
        continue;
      }
      if (c == ',') {
        fields.push_back(std::move(field));
        field.clear();
        was_quoted = false;
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
        ++line_;
        fields.push_back(std::move(field));
        return fields;
      } else if (c == '"') {
        if (!field.empty() || was_quoted) {
          return absl::InvalidArgumentError(absl::StrCat(
              source_, " line ", line_, ": stray quote inside a field"));
        }
        quoted = was_quoted = true;
      } else {
        if (was_quoted) {
          return absl::InvalidArgumentError(absl::StrCat(
              source_, " line ", line_, ": text after a closing quote"));
        }
        field += c;
      }
    }
    if (quoted) {
      return absl::InvalidArgumentError(
          absl::StrCat(source_, " line ", start_line,
                       ": unterminated quoted field (file truncated?)"));
    }
    fields.push_back(std::move(field));
    return fields;
  }

 private:
  absl::string_view text_;
  absl::string_view source_;
  size_t pos_ = 0;
  int line_ = 1;
};

bool AllBlank(std::vector<std::string>::const_iterator begin,
              std::vector<std::string>::const_iterator end) {
  return std::all_of(
      begin, end, [](const std::string& f) { return TrimSpaces(f).empty(); });
}

bool IsBlank(const std::vector<std::string>& f) {
  return AllBlank(f.begin(), f.end());
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

absl::StatusOr<CsvTable> ParseCsv(absl::string_view text,
                                  absl::string_view source) {
  text = absl::StripPrefix(text, "\xEF\xBB\xBF");
  Tokenizer tok(text, source);
  CsvTable table;
  while (!tok.Done() &&
         (tok.Peek() == '#' || tok.Peek() == '\n' || tok.Peek() == '\r')) {
    absl::string_view line = tok.RestOfLine();
    line = absl::StripPrefix(line, "#");
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    std::string key(absl::StripAsciiWhitespace(line.substr(0, colon)));
    if (key.empty() || key.find(' ') != std::string::npos) continue;
    table.metadata[key] =
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  if (tok.Done()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": empty file, expected a header row"));
  }
  // Blank rows above the header (",,,," included) are skipped like those
  // below it.
  std::vector<std::string> header;
  do {
    table.header_line = tok.line();
    absl::StatusOr<std::vector<std::string>> fields = tok.Record();
    if (!fields.ok()) return fields.status();
    header = std::move(*fields);
  } while (IsBlank(header) && !tok.Done());
  if (IsBlank(header)) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": empty file, expected a header row"));
  }
  absl::StatusOr<std::vector<std::string>> names =
      HeaderNames(std::move(header), source, table.header_line);
  if (!names.ok()) return names.status();
  table.header = std::move(*names);
  while (!tok.Done()) {
    CsvRecord rec;
    rec.line = tok.line();
    auto fields = tok.Record();
    if (!fields.ok()) return fields.status();
    if (IsBlank(*fields)) continue;
    // Excel writes an empty field for every column it once saw used.
    if (fields->size() > table.header.size() &&
        AllBlank(fields->begin() + table.header.size(), fields->end())) {
      fields->resize(table.header.size());
    }
    rec.fields = std::move(*fields);
    table.records.push_back(std::move(rec));
  }
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
