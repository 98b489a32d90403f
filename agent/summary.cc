#include "agent/summary.h"

#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "agent/values.h"

namespace ohfed::agent {
namespace {

using CellMap = std::map<std::string, v1::Cell>;

void Add(CellMap& cells, const std::string& measure, double amount) {
  v1::Cell& c = cells[measure];
  c.set_measure(measure);
  c.set_value(c.value() + amount);
}

void AddStaffing(const std::vector<StaffingRow>& rows, CellMap& cells) {
  for (const StaffingRow& r : rows) {
    const bool vacant = r.basis == "vacant";
    Add(cells, "staffing.wte." + r.group, vacant ? 0 : r.wte);
    Add(cells, "staffing.vacant_wte." + r.group, vacant ? r.wte : 0);
    if (!vacant) Add(cells, "staffing.wte_basis." + r.basis, r.wte);
  }
  // Sums of one-decimal WTEs pick up binary noise (0.1 + 0.2); round to
  // 1e-6 so equal inputs in any order give equal values.
  for (auto& [code, c] : cells) {
    c.set_value(std::round(c.value() * 1e6) / 1e6);
  }
}

void AddActivity(const std::vector<ActivityRow>& rows, CellMap& cells) {
  if (rows.empty()) return;
  std::set<std::string> seen;
  std::map<std::string, std::map<int, uint64_t>> waits;
  for (const ActivityRow& r : rows) {
    Add(cells, "activity.count." + r.activity, 1);
    if (!r.subject_ref.empty()) seen.insert(r.subject_ref);
    if (r.wait_days >= 0) ++waits[r.activity][r.wait_days];
  }
  Add(cells, "activity.staff_seen", static_cast<double>(seen.size()));
  for (const auto& [activity, buckets] : waits) {
    v1::Cell& c = cells["activity.wait_days." + activity];
    c.set_measure("activity.wait_days." + activity);
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

absl::StatusOr<std::vector<v1::Cell>> ComputeCells(const Catalogue& catalogue,
                                                   const PeriodRecords& raw) {
  CellMap cells;
  AddStaffing(raw.staffing, cells);
  AddActivity(raw.activity, cells);
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
