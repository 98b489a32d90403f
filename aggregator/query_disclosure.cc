#include "aggregator/query_disclosure.h"

namespace ohfed::aggregator {

bool RowProtector::CountSuppressed(const Measure& m, const Scope& unit,
                                   const Period& period, double count) {
  if (IsPrimarySuppressed(options_, count)) return true;
  if (!options_.secondary) return false;
  auto it = patterns_.find(m.code);
  if (it == patterns_.end()) {
    auto compute = [&] {
      return SuppressionPattern::Compute(view_, m, options_, coverage_);
    };
    it = patterns_
             .emplace(m.code, shared_ != nullptr
                                  ? shared_->Get(m.code, compute)
                                  : std::make_shared<const SuppressionPattern>(
                                        compute()))
             .first;
  }
  return it->second->Suppressed(unit, period);
}

void RowProtector::Protect(const Measure& m, const Scope& unit,
                           const Period& period, const RawStat& s,
                           v1::Row& row) {
  row.set_value(s.value);
  row.set_suppressed(false);
  if (!Applies(m, unit.level)) return;
  bool suppressed;
  if (m.type == ValueType::kDistribution) {
    const double events = static_cast<double>(s.events);
    suppressed = CountSuppressed(m, unit, period, events) ||
                 (s.stat != "events" &&
                  s.events < static_cast<uint64_t>(options_.min_events));
    if (!suppressed && s.stat == "events") {
      row.set_value(ApplyPrimaryRule(options_, s.value).value);
    }
  } else if (s.stat == "sum") {
    suppressed = CountSuppressed(m, unit, period, s.value);
    if (!suppressed) row.set_value(ApplyPrimaryRule(options_, s.value).value);
  } else {
    suppressed = true;
  }
  if (suppressed) {
    row.set_suppressed(true);
    row.set_value(0);
  }
}

}  // namespace ohfed::aggregator
