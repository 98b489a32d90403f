#include "agent/overrides.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/summary.h"
#include "agent/values.h"

namespace ohfed::agent {
namespace {

constexpr absl::string_view kCountPrefix = "activity.count.";

}  // namespace

absl::Status CheckOverrides(const std::string& period,
                            const PeriodRecords& records,
                            const std::vector<v1::Cell>& cells) {
  std::map<std::string, double> values;
  for (const v1::Cell& c : cells) values[c.measure()] = c.value();
  for (const auto& [code, text] : records.manual) {
    if (!absl::StartsWith(code, kCountPrefix)) continue;
    const std::string activity = code.substr(kCountPrefix.size());
    auto waits = values.find("activity.wait_days." + activity);
    auto count = values.find(code);
    if (waits == values.end() || count == values.end() ||
        count->second >= waits->second) {
      continue;
    }
    return absl::InvalidArgumentError(absl::StrCat(
        period, ": ", code, " = ", count->second,
        " (entered by hand) is below the ", waits->second, " ", activity,
        " events with a wait time in the activity records, which "
        "activity.wait_days.",
        activity,
        " is built from; correct the activity file instead, or clear the "
        "hand-entered count with `ohfed unset ",
        period, " ", code, "`"));
  }
  return absl::OkStatus();
}

std::vector<v1::RowProblem> HiddenImports(const Catalogue& catalogue,
                                          const std::string& period,
                                          const PeriodRecords& records) {
  std::vector<v1::RowProblem> out;
  if (records.manual.empty()) return out;
  PeriodRecords imported = records;
  imported.manual.clear();
  absl::StatusOr<std::vector<v1::Cell>> cells =
      ComputeCells(catalogue, imported);
  if (!cells.ok()) return out;
  std::map<std::string, double> figures;
  for (const v1::Cell& c : *cells) figures[c.measure()] = c.value();
  for (const auto& [code, text] : records.manual) {
    absl::StatusOr<Target> target = ResolveTarget(catalogue, code);
    if (!target.ok()) continue;
    absl::StatusOr<std::vector<v1::Cell>> set =
        CellsForValue(catalogue, *target, text);
    if (!set.ok()) continue;
    bool differs = false;
    std::string imported = "the imported figure";
    for (const v1::Cell& c : *set) {
      auto it = figures.find(c.measure());
      if (it == figures.end() || it->second == c.value()) continue;
      differs = true;
      if (set->size() == 1) {
        imported = absl::StrCat("the imported ", it->second);
      }
    }
    if (!differs) continue;
    v1::RowProblem p;
    p.set_column(code);
    p.set_reason(absl::StrCat(period, " ", code,
                              " keeps the value entered by hand (", text,
                              ") over ", imported, "; run `ohfed unset ",
                              period, " ", code, "` to use the import"));
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace ohfed::agent
