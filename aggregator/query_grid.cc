#include "aggregator/query_grid.h"

#include <algorithm>

namespace ohfed::aggregator {

UnitGrid::UnitGrid(const View& view, const Period& period, PatternCache* sums)
    : view_(view), period_(period), sums_(sums), months_(period.months()) {
  month_keys_.reserve(static_cast<size_t>(months_));
  for (Month mo : period.Months()) month_keys_.push_back(mo.ToString());
}

void UnitGrid::Expect(const std::vector<const Measure*>& measures) {
  expected_ = measures;
  std::sort(
      expected_.begin(), expected_.end(),
      [](const Measure* a, const Measure* b) { return a->code < b->code; });
  expected_.erase(std::unique(expected_.begin(), expected_.end(),
                              [](const Measure* a, const Measure* b) {
                                return a->code == b->code;
                              }),
                  expected_.end());
  slot_.clear();
  for (size_t k = 0; k < expected_.size(); ++k) {
    slot_.emplace(expected_[k], static_cast<int>(k));
  }
  cells_.assign(units_.size() * expected_.size(), nullptr);
  looked_up_.assign(looked_up_.size(), false);  // read again, with the cells
}

int UnitGrid::Row(const std::string& trust) {
  auto [it, added] = rows_.try_emplace(trust, static_cast<int>(trusts_.size()));
  if (added) {
    trusts_.push_back(trust);
    units_.resize(units_.size() + static_cast<size_t>(months_), nullptr);
    looked_up_.resize(units_.size(), false);
  }
  return it->second;
}

void UnitGrid::Reserve(size_t trusts) {
  const size_t units = trusts * static_cast<size_t>(months_);
  rows_.reserve(trusts);
  trusts_.reserve(trusts);
  units_.reserve(units);
  looked_up_.reserve(units);
}

std::vector<int> UnitGrid::Rows(const std::vector<std::string>& trusts) {
  std::vector<int> rows;
  rows.reserve(trusts.size());
  for (const std::string& t : trusts) rows.push_back(Row(t));
  return rows;
}

const HeldUnit* UnitGrid::Unit(int row, int month) const {
  const size_t i = static_cast<size_t>(row) * months_ + month;
  if (!looked_up_[i]) {
    units_[i] = view_.Unit(trusts_[row], month_keys_[month]);
    looked_up_[i] = true;
    if (units_[i] != nullptr && !expected_.empty()) {
      // Sized on the first unit read, not per row: a query answered from
      // cached node totals (a year by ICS) reads no unit at all.
      if (cells_.size() < units_.size() * expected_.size()) {
        cells_.resize(units_.size() * expected_.size(), nullptr);
      }
      // Both sorted by measure code: one pass.
      const UnitCell** out = &cells_[i * expected_.size()];
      auto cell = units_[i]->cells.begin();
      const auto end = units_[i]->cells.end();
      for (size_t k = 0; k < expected_.size() && cell != end;) {
        const std::string& code = cell->measure();
        if (code < expected_[k]->code) {
          ++cell;
        } else if (expected_[k]->code < code) {
          ++k;
        } else {
          out[k++] = &*cell++;
        }
      }
    }
  }
  return units_[i];
}

const UnitCell* UnitGrid::Cell(int row, int month, const Measure& m) const {
  const HeldUnit* unit = Unit(row, month);
  if (unit == nullptr) return nullptr;
  if (auto it = slot_.find(&m); it != slot_.end()) {
    const size_t i = static_cast<size_t>(row) * months_ + month;
    return cells_[i * expected_.size() + it->second];
  }
  return unit->cells.Find(m.code);
}

std::optional<double> UnitGrid::Scalar(int row, const Measure& m) const {
  if (m.frequency != Frequency::kMonth) {
    return TrustScalar(view_, trusts_[row], m, period_);
  }
  if (m.across_time == TimeAggregation::kLatest) {
    for (int mo = months_ - 1; mo >= 0; --mo) {
      if (const UnitCell* c = Cell(row, mo, m)) return c->value();
    }
    return std::nullopt;
  }
  std::optional<double> total;
  for (int mo = 0; mo < months_; ++mo) {
    if (const UnitCell* c = Cell(row, mo, m)) {
      total = total.value_or(0) + c->value();
    }
  }
  return total;
}

std::optional<Buckets> UnitGrid::Pool(int row, const Measure& m) const {
  std::optional<Buckets> pooled;
  for (int mo = 0; mo < months_; ++mo) {
    if (const UnitCell* c = Cell(row, mo, m)) {
      if (!pooled) pooled.emplace();
      for (const UnitCell::Bucket& b : c->buckets()) {
        (*pooled)[b.value()] += b.count();
      }
    }
  }
  return pooled;
}

NodeTotal UnitGrid::RollupTotal(const std::string& node,
                                const std::vector<int>& rows,
                                const Measure& m) const {
  if (months_ > 1 && sums_ != nullptr && m.type != ValueType::kDistribution &&
      IsStandardPeriod(period_)) {
    PatternCache::PeriodTotal cached = sums_->Total(m.code, node, period_, [&] {
      NodeTotal t = ComputeRollupTotal(node, rows, m);
      return PatternCache::PeriodTotal{t.sum, t.n_units};
    });
    NodeTotal total;
    total.sum = cached.sum;
    total.n_units = cached.n_units;
    return total;
  }
  return ComputeRollupTotal(node, rows, m);
}

NodeTotal UnitGrid::ComputeRollupTotal(const std::string& node,
                                       const std::vector<int>& rows,
                                       const Measure& m) const {
  NodeTotal total;
  if (months_ > 1 && sums_ != nullptr && m.type != ValueType::kDistribution) {
    total.sum = SumOverMonths(node, m);
  } else {
    for (int mo = 0; mo < months_; ++mo) {
      const RollupCell* r = view_.Rollup(node, month_keys_[mo], m.code);
      if (r == nullptr) continue;
      total.sum += r->sum;
      for (const auto& [value, count] : r->buckets)
        total.buckets[value] += count;
      if (months_ == 1) total.n_units = r->n_units;
    }
  }
  if (months_ == 1) return total;
  for (int row : rows) {
    for (int mo = 0; mo < months_; ++mo) {
      if (Cell(row, mo, m) != nullptr) {
        ++total.n_units;
        break;
      }
    }
  }
  return total;
}

double UnitGrid::SumOverMonths(const std::string& node,
                               const Measure& m) const {
  double sum = 0;
  int year = 0;
  PatternCache::YearSums sums;
  for (Month mo : period_.Months()) {
    if (mo.year() != year) {
      year = mo.year();
      sums = sums_->Sums(m.code, node, year, [&] {
        PatternCache::YearSums computed;
        for (int i = 0; i < 12; ++i) {
          const RollupCell* r =
              view_.Rollup(node, Month::Of(year, i + 1).ToString(), m.code);
          if (r == nullptr) continue;
          computed.held[i] = true;
          computed.sum[i] = r->sum;
        }
        return computed;
      });
    }
    const int i = mo.month() - 1;
    if (sums.held[i]) sum += sums.sum[i];
  }
  return sum;
}

}  // namespace ohfed::aggregator
