// RenderTableCsv and CsvField (dashboard/render.h).
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "dashboard/render.h"

namespace ohfed::dashboard {
namespace {

// "-2.5", "+3", "1,234", "12%": a spreadsheet reads these as numbers, never
// as formulas, so they keep their sign.
bool IsPlainNumber(absl::string_view text) {
  size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  if (i == text.size() || !absl::ascii_isdigit(text[i])) return false;
  bool point = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (absl::ascii_isdigit(c) || (c == ',' && !point)) continue;
    if (c == '.' && !point) {
      point = true;
      continue;
    }
    return c == '%' && i + 1 == text.size();
  }
  return true;
}

bool LooksLikeFormula(absl::string_view text) {
  if (text.empty()) return false;
  switch (text.front()) {
    case '=':
    case '+':
    case '-':
    case '@':
    case '\t':
    case '\r':
      return !IsPlainNumber(text);
    default:
      return false;
  }
}

}  // namespace

std::string CsvField(absl::string_view text) {
  const std::string field =
      LooksLikeFormula(text) ? absl::StrCat("'", text) : std::string(text);
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  return absl::StrCat("\"", absl::StrReplaceAll(field, {{"\"", "\"\""}}), "\"");
}

std::string RenderTableCsv(const Table& table) {
  std::string out;
  const char* sep = "";
  for (const Column& c : table.columns) {
    absl::StrAppend(&out, sep, CsvField(c.header));
    sep = ",";
  }
  out += "\r\n";
  for (const std::vector<Cell>& row : table.rows) {
    sep = "";
    for (const Cell& cell : row) {
      absl::StrAppend(&out, sep, CsvField(cell.suppressed ? "*" : cell.text));
      sep = ",";
    }
    out += "\r\n";
  }
  return out;
}

}  // namespace ohfed::dashboard
