#include "common/csv.h"

#include <cerrno>
#include <cstring>
#include <fstream>
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

bool IsBlank(const std::vector<std::string>& f) {
  return f.size() == 1 && absl::StripAsciiWhitespace(f[0]).empty();
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
  return std::string(absl::StripAsciiWhitespace(r.fields[col]));
}

absl::StatusOr<CsvTable> ParseCsv(absl::string_view text,
                                  absl::string_view source) {
  text = absl::StripPrefix(text, "\xEF\xBB\xBF");
  Tokenizer tok(text, source);
  CsvTable table;
  while (!tok.Done() && (tok.Peek() == '#' || tok.Peek() == '\n' ||
                         tok.Peek() == '\r')) {
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
  table.header_line = tok.line();
  auto header = tok.Record();
  if (!header.ok()) return header.status();
  for (auto& h : *header) {
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(h));
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, " line ", table.header_line, ": empty column name in header"));
    }
    if (table.Column(name) >= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, " line ", table.header_line, ": column '", name,
          "' appears twice in the header"));
    }
    table.header.push_back(std::move(name));
  }
  while (!tok.Done()) {
    CsvRecord rec;
    rec.line = tok.line();
    auto fields = tok.Record();
    if (!fields.ok()) return fields.status();
    if (IsBlank(*fields)) continue;
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
  return absl::InvalidArgumentError(
      absl::StrCat(source, " line ", t.header_line,
                   ": header lacks required column(s) ",
                   absl::StrJoin(missing, ", "), "; found ",
                   absl::StrJoin(t.header, ",")));
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
