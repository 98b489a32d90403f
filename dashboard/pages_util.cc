// Query and cell helpers for the page builder: dashboard/pages_internal.h.
#include <cctype>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "dashboard/pages_internal.h"

namespace ohfed::dashboard::internal {

Answers::Answers(const v1::QueryResponse& response) {
  for (const v1::Row& row : response.rows()) {
    rows_[{row.unit(), row.measure(), row.stat()}] = row;
  }
}

const v1::Row* Answers::Find(const std::string& unit,
                             const std::string& measure,
                             const std::string& stat) const {
  auto it = rows_.find({unit, measure, stat});
  return it == rows_.end() ? nullptr : &it->second;
}

absl::StatusOr<v1::QueryResponse> AskRows(
    const PageContext& ctx, const Scope& scope, const Period& period,
    Scope::Level by, const std::string& prefix,
    const std::vector<std::string>& stats) {
  // An operator's catalogue may lack a measure the page shows: no figures,
  // rather than the engine's kNotFound for the whole page.
  if (ctx.source.catalogue().WithPrefix(prefix).empty()) {
    return v1::QueryResponse();
  }
  v1::QueryRequest request;
  request.set_scope(scope.ToString());
  request.set_period(period.ToString());
  request.set_by(by == scope.level ? "self" : std::string(LevelName(by)));
  request.set_measure_prefix(prefix);
  for (const std::string& s : stats) request.add_stats(s);
  return ctx.source.Query(request);
}

absl::StatusOr<Answers> Ask(const PageContext& ctx, const Scope& scope,
                            const Period& period, Scope::Level by,
                            const std::string& prefix,
                            const std::vector<std::string>& stats) {
  absl::StatusOr<v1::QueryResponse> response =
      AskRows(ctx, scope, period, by, prefix, stats);
  if (!response.ok()) return response.status();
  return Answers(*response);
}

std::string UnitKey(const Scope& scope) {
  return scope.level == Scope::Level::kNational ? "national" : scope.code;
}

std::vector<Scope::Level> ChildLevels(Scope::Level level) {
  switch (level) {
    case Scope::Level::kNational:
      return {Scope::Level::kRegion, Scope::Level::kIcs};
    case Scope::Level::kRegion:
      return {Scope::Level::kIcs};
    case Scope::Level::kIcs:
      return {Scope::Level::kTrust};
    case Scope::Level::kTrust:
      return {};
  }
  return {};
}

std::string LevelNoun(Scope::Level level) {
  switch (level) {
    case Scope::Level::kNational:
      return "England";
    case Scope::Level::kRegion:
      return "region";
    case Scope::Level::kIcs:
      return "ICS";
    case Scope::Level::kTrust:
      return "trust";
  }
  return "";
}

std::string FormatNumber(double value, int decimals) {
  std::string text = absl::StrFormat("%.*f", decimals, value);
  // A tiny negative rounds to "-0.0": show it as zero.
  if (text[0] == '-' && text.find_first_not_of("-0.") == std::string::npos) {
    text.erase(0, 1);
  }
  return text;
}

Cell FigureCell(const v1::Row* row, int decimals) {
  if (row == nullptr) return Cell();
  // A suppressed figure: "*" and no value, so no chart can draw it.
  if (row->suppressed()) return SuppressedCell();
  Cell cell;
  cell.text = FormatNumber(row->value(), decimals);
  cell.value = row->value();
  return cell;
}

Cell SuppressedCell() {
  Cell cell;
  cell.text = std::string(1, '*');
  cell.suppressed = true;
  return cell;
}

Cell UnitsCell(const v1::Row* row) {
  Cell cell;
  if (row == nullptr) return cell;
  cell.text = absl::StrCat(row->n_units());
  cell.value = row->n_units();
  return cell;
}

Cell TextCell(std::string text) {
  Cell cell;
  cell.text = std::move(text);
  return cell;
}

Cell LinkCell(const Registry& registry, const Scope& unit,
              const Period& period) {
  Cell cell;
  cell.text = registry.NameOf(unit);
  cell.href = PagePath(unit, period);
  return cell;
}

std::string ShortLabel(const Catalogue& catalogue, const std::string& code) {
  const Measure* m = catalogue.Find(code);
  std::string label = m == nullptr ? code : m->label;
  size_t colon = label.find(": ");
  if (colon != std::string::npos) label = label.substr(colon + 2);
  if (!label.empty()) {
    label[0] =
        static_cast<char>(std::toupper(static_cast<unsigned char>(label[0])));
  }
  return label;
}

std::vector<Month> TrendMonths(const Period& period) {
  if (period.months() > 1) return period.Months();
  return Period::Between(period.last() - 11, period.last()).Months();
}

}  // namespace ohfed::dashboard::internal
