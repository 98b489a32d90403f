#include "agent/summary.h"

#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "agent/activity_tally.h"
#include "agent/values.h"

namespace ohfed::agent {
namespace {

using CellMap = std::map<std::string, v1::Cell>;

void Add(CellMap& cells, const std::string& measure, double amount) {
  v1::Cell& c = cells[measure];
  c.set_measure(measure);
  c.set_value(c.value() + amount);
}

// What one staffing row adds to which cell; MeasuresOf lists the same cells.
std::vector<std::pair<std::string, double>> StaffingAmounts(
    const StaffingRow& r) {
  const bool vacant = r.basis == "vacant";
  std::vector<std::pair<std::string, double>> out = {
      {"staffing.wte." + r.group, vacant ? 0 : r.wte},
      {"staffing.vacant_wte." + r.group, vacant ? r.wte : 0}};
  if (!vacant) out.emplace_back("staffing.wte_basis." + r.basis, r.wte);
  return out;
}

void AddStaffing(const std::vector<StaffingRow>& rows, CellMap& cells) {
  for (const StaffingRow& r : rows) {
    for (const auto& [measure, amount] : StaffingAmounts(r)) {
      Add(cells, measure, amount);
    }
  }
  // Sums of one-decimal WTEs pick up binary noise (0.1 + 0.2); round to
  // 1e-6 so equal inputs in any order give equal values.
  for (auto& [code, c] : cells) {
    c.set_value(std::round(c.value() * 1e6) / 1e6);
  }
}

// Makes the activity cells from the month's counts (agent/activity_tally.h).
void AddActivity(const ActivityCounts& counts, CellMap& cells) {
  for (const auto& [activity, n] : counts.events) {
    Add(cells, absl::StrCat("activity.count.", activity),
        static_cast<double>(n));
  }
  // Staff seen is known only from subject references: without any, the
  // count is unknown rather than zero, so the cell is left out.
  if (counts.any_subject) {
    Add(cells, "activity.staff_seen", static_cast<double>(counts.staff_seen));
  }
  for (const auto& [activity, buckets] : counts.waits) {
    const std::string measure = absl::StrCat("activity.wait_days.", activity);
    v1::Cell& c = cells[measure];
    c.set_measure(measure);
    uint64_t events = 0;
    for (const auto& [days, count] : buckets) {
      v1::Bucket* b = c.add_buckets();
      b->set_value(days);
      b->set_count(count);
      events += count;
    }
    c.set_value(static_cast<double>(events));
  }
}

// Answers and hand-entered values set the cells they define.
absl::Status SetAnswers(const Catalogue& catalogue, const Answers& answers,
                        CellMap& cells) {
  for (const auto& [code, text] : answers) {
    absl::StatusOr<Target> target = ResolveTarget(catalogue, code);
    if (!target.ok()) return target.status();
    absl::StatusOr<std::vector<v1::Cell>> set =
        CellsForValue(catalogue, *target, text);
    if (!set.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(code, ": ", set.status().message()));
    }
    for (v1::Cell& c : *set) cells[c.measure()] = std::move(c);
  }
  return absl::OkStatus();
}

absl::Status CheckRanges(const Catalogue& catalogue, const CellMap& cells) {
  for (const auto& [code, c] : cells) {
    const Measure* m = catalogue.Find(code);
    if (m == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown measure ", code));
    }
    if (m->type == ValueType::kDistribution) continue;
    absl::Status s = Catalogue::CheckValue(*m, c.value());
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> MeasuresOf(const StaffingRow& row) {
  std::vector<std::string> out;
  for (auto& amount : StaffingAmounts(row))
    out.push_back(std::move(amount.first));
  return out;
}

// Kept in step with AddActivity.
std::vector<std::string> MeasuresOf(const ActivityRow& row) {
  std::vector<std::string> out = {"activity.count." + row.activity};
  if (!row.subject_ref.empty()) out.push_back("activity.staff_seen");
  if (row.wait_days >= 0) out.push_back("activity.wait_days." + row.activity);
  return out;
}

absl::StatusOr<std::vector<v1::Cell>> ComputeCells(const Catalogue& catalogue,
                                                   const PeriodRecords& raw) {
  CellMap cells;
  AddStaffing(raw.staffing, cells);
  AddActivity(raw.activity_counts.has_value() ? *raw.activity_counts
                                              : CountActivity(raw.activity),
              cells);
  absl::Status s = SetAnswers(catalogue, raw.profile, cells);
  if (s.ok()) s = SetAnswers(catalogue, raw.manual, cells);
  if (s.ok()) s = CheckRanges(catalogue, cells);
  if (!s.ok()) return s;
  std::vector<v1::Cell> out;
  out.reserve(cells.size());
  for (auto& [code, c] : cells) out.push_back(std::move(c));
  return out;
}

}  // namespace ohfed::agent
