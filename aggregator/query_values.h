// Time aggregation (SPEC §3, "Periods"): what one trust, or one rollup node,
// contributes to a measure over a period, following the catalogue's
// across_time rule. Reads only through View.
#ifndef OHFED_AGGREGATOR_QUERY_VALUES_H_
#define OHFED_AGGREGATOR_QUERY_VALUES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aggregator/query_stats.h"
#include "aggregator/view.h"
#include "common/catalogue.h"
#include "common/period.h"

namespace ohfed::aggregator {

// How far back a derived indicator looks for a trust's last annual profile
// answer (staff_served) before the end of the range.
inline constexpr int kProfileLookbackYears = 5;

// The period key under which a yearly measure is held ("2026").
std::string YearKey(int year);

// One trust's scalar value of measure `m` over `period`, nullopt if it did
// not report it:
//   across_time sum (flows)    Σ over the months it reported in the period
//   across_time latest (stock) its latest month in the period that has it
//   frequency year (annual)    its latest calendar year the period touches
//                              that has it (a month range in 2026 uses 2026)
std::optional<double> TrustScalar(const View& view, const std::string& trust,
                                  const Measure& m, const Period& period);

// One trust's distribution pooled over the months of the period; nullopt if
// it reported the measure in none of them.
std::optional<Buckets> TrustPool(const View& view, const std::string& trust,
                                 const Measure& m, const Period& period);

// The trust's answer to a yearly measure from the latest year in
// [end_year - kProfileLookbackYears, end_year] it reported; nullopt if none.
std::optional<double> TrustAnnualUpTo(const View& view,
                                      const std::string& trust,
                                      const std::string& code, int end_year);

// The totals of a rollup node ("national", "region:X", "ics:X") for a
// measure over the months of a period, read from View::Rollup: `sum` is
// Σ monthly sums, `buckets` the merged monthly buckets.
//
// n_units is the number of distinct trusts that reported the measure in any
// month. For a single month that is the rollup's own n_units; across months
// a rollup cannot tell distinct trusts apart, so the trusts of the node are
// checked for the cell via View::Unit (cheap lookups, no arithmetic).
struct NodeTotal {
  double sum = 0;
  Buckets buckets;
  uint32_t n_units = 0;
};
NodeTotal RollupTotal(const View& view, const std::string& node,
                      const std::vector<std::string>& trusts, const Measure& m,
                      const Period& period);

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_QUERY_VALUES_H_
