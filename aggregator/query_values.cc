#include "aggregator/query_values.h"

#include "absl/strings/str_cat.h"

namespace ohfed::aggregator {
namespace {

// The cell of `code` the trust holds for period key `key`, or nullptr.
const UnitCell* CellOf(const View& view, const std::string& trust,
                       const std::string& key, const std::string& code) {
  const HeldUnit* unit = view.Unit(trust, key);
  return unit == nullptr ? nullptr : unit->cells.Find(code);
}

void AddBuckets(const UnitCell& cell, Buckets& into) {
  for (const UnitCell::Bucket& b : cell.buckets()) into[b.value()] += b.count();
}

}  // namespace

std::string YearKey(int year) { return absl::StrCat(year); }

std::optional<double> TrustScalar(const View& view, const std::string& trust,
                                  const Measure& m, const Period& period) {
  if (m.frequency == Frequency::kYear) {
    std::vector<int> years = period.Years();
    for (auto y = years.rbegin(); y != years.rend(); ++y) {
      if (const UnitCell* c = CellOf(view, trust, YearKey(*y), m.code)) {
        return c->value();
      }
    }
    return std::nullopt;
  }
  if (m.across_time == TimeAggregation::kLatest) {
    for (Month mo = period.last(); mo >= period.first(); mo = mo - 1) {
      if (const UnitCell* c = CellOf(view, trust, mo.ToString(), m.code)) {
        return c->value();
      }
    }
    return std::nullopt;
  }
  std::optional<double> total;
  for (Month mo : period.Months()) {
    if (const UnitCell* c = CellOf(view, trust, mo.ToString(), m.code)) {
      total = total.value_or(0) + c->value();
    }
  }
  return total;
}

std::optional<Buckets> TrustPool(const View& view, const std::string& trust,
                                 const Measure& m, const Period& period) {
  std::optional<Buckets> pooled;
  for (Month mo : period.Months()) {
    if (const UnitCell* c = CellOf(view, trust, mo.ToString(), m.code)) {
      if (!pooled) pooled.emplace();
      AddBuckets(*c, *pooled);
    }
  }
  return pooled;
}

std::optional<double> TrustAnnualUpTo(const View& view,
                                      const std::string& trust,
                                      const std::string& code, int end_year) {
  for (int y = end_year; y >= end_year - kProfileLookbackYears; --y) {
    if (const UnitCell* c = CellOf(view, trust, YearKey(y), code)) {
      return c->value();
    }
  }
  return std::nullopt;
}

NodeTotal RollupTotal(const View& view, const std::string& node,
                      const std::vector<std::string>& trusts, const Measure& m,
                      const Period& period) {
  NodeTotal total;
  for (Month mo : period.Months()) {
    const RollupCell* r = view.Rollup(node, mo.ToString(), m.code);
    if (r == nullptr) continue;
    total.sum += r->sum;
    for (const auto& [value, count] : r->buckets) total.buckets[value] += count;
    if (period.months() == 1) total.n_units = r->n_units;
  }
  if (period.months() == 1) return total;
  for (const std::string& trust : trusts) {
    for (Month mo : period.Months()) {
      if (CellOf(view, trust, mo.ToString(), m.code) != nullptr) {
        ++total.n_units;
        break;
      }
    }
  }
  return total;
}

}  // namespace ohfed::aggregator
