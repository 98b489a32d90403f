#include "agent/values.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/csv.h"

namespace ohfed::agent {
namespace {

v1::Cell MakeCell(const std::string& measure, double value) {
  v1::Cell c;
  c.set_measure(measure);
  c.set_value(value);
  return c;
}

absl::StatusOr<double> ParseYesNo(absl::string_view text) {
  std::string t = absl::AsciiStrToLower(text);
  if (t == "yes" || t == "y" || t == "true" || t == "1") return 1.0;
  if (t == "no" || t == "n" || t == "false" || t == "0") return 0.0;
  return absl::InvalidArgumentError(
      absl::StrCat("expected yes or no, got '", Excerpt(text), "'"));
}

// Last dotted segment: the option name of "profile.host_type.acute".
absl::string_view OptionName(absl::string_view code) {
  size_t dot = code.rfind('.');
  return dot == absl::string_view::npos ? code : code.substr(dot + 1);
}

absl::StatusOr<std::vector<v1::Cell>> EnumCells(const Catalogue& catalogue,
                                                const Target& target,
                                                absl::string_view text) {
  std::string chosen = absl::AsciiStrToLower(text);
  std::vector<v1::Cell> cells;
  std::vector<std::string> names;
  bool found = false;
  for (const Measure* option : catalogue.OptionsOf(target.code)) {
    bool is_chosen = OptionName(option->code) == chosen;
    found |= is_chosen;
    names.emplace_back(OptionName(option->code));
    cells.push_back(MakeCell(option->code, is_chosen ? 1 : 0));
  }
  if (!found) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown option '", Excerpt(text), "' for ", target.code,
                     " (expected one of ", absl::StrJoin(names, ", "), ")"));
  }
  return cells;
}

// Digits with at most one '.', at least one digit, after an optional '-'.
bool IsPlainDecimal(absl::string_view text, bool allow_point) {
  if (absl::ConsumePrefix(&text, "-") && text.empty()) return false;
  bool digit = false, point = false;
  for (char c : text) {
    if (absl::ascii_isdigit(c)) {
      digit = true;
    } else if (c == '.' && allow_point && !point) {
      point = true;
    } else {
      return false;
    }
  }
  return digit;
}

}  // namespace

std::string CanonicalCode(const Catalogue& catalogue, absl::string_view code) {
  if (catalogue.Find(code) != nullptr || !catalogue.OptionsOf(code).empty()) {
    return std::string(code);
  }
  return absl::AsciiStrToLower(code);
}

bool ParseNumber(absl::string_view text, double* out) {
  // The length bound keeps every accepted value finite.
  return text.size() <= 64 && IsPlainDecimal(text, /*allow_point=*/true) &&
         absl::SimpleAtod(text, out) && std::isfinite(*out);
}

bool ParseWholeNumber(absl::string_view text, int* out) {
  return absl::StripPrefix(text, "-").size() <= 9 &&
         IsPlainDecimal(text, /*allow_point=*/false) &&
         absl::SimpleAtoi(text, out);
}

std::string NotANumber(absl::string_view text) {
  std::string reason = absl::StrCat(
      "expected a plain decimal number such as 2.5, got '", Excerpt(text), "'");
  bool unseen = std::any_of(text.begin(), text.end(),
                            [](char c) { return !absl::ascii_isgraph(c); });
  if (unseen) {
    absl::StrAppend(&reason,
                    " (it contains a character that is not a digit "
                    "or '.', e.g. a non-breaking space)");
  }
  return reason;
}

absl::StatusOr<Target> ResolveTarget(const Catalogue& catalogue,
                                     absl::string_view typed) {
  Target t;
  t.code = CanonicalCode(catalogue, typed);
  const absl::string_view code = t.code;
  std::vector<const Measure*> options = catalogue.OptionsOf(code);
  if (!options.empty()) {
    t.is_enum = true;
    t.frequency = options.front()->frequency;
    return t;
  }
  const Measure* m = catalogue.Find(code);
  if (m == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("unknown measure '", Excerpt(typed), "'"));
  }
  if (m->type == ValueType::kOption) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", code, "' is one option of ", m->question, "; set ",
                     m->question, " to the option name instead"));
  }
  if (m->type == ValueType::kDistribution || m->type == ValueType::kDerived) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", code, "' is computed from records and cannot be entered by hand"));
  }
  t.measure = m;
  t.frequency = m->frequency;
  return t;
}

absl::StatusOr<std::vector<v1::Cell>> CellsForValue(const Catalogue& catalogue,
                                                    const Target& target,
                                                    absl::string_view text) {
  text = TrimSpaces(text);
  if (target.is_enum) return EnumCells(catalogue, target, text);
  const Measure& m = *target.measure;
  double value = 0;
  if (m.is_yes_no()) {
    absl::StatusOr<double> yes = ParseYesNo(text);
    if (!yes.ok()) return yes.status();
    value = *yes;
  } else if (!ParseNumber(text, &value)) {
    return absl::InvalidArgumentError(NotANumber(text));
  }
  absl::Status range = Catalogue::CheckValue(m, value);
  if (!range.ok()) return absl::InvalidArgumentError(range.message());
  return std::vector<v1::Cell>{MakeCell(m.code, value)};
}

}  // namespace ohfed::agent
