// Secondary suppression for one disclosive measure (SPEC §7), computed over
// everything the aggregator holds for it, independent of any query's scope,
// so that the same cell is suppressed in every view and no re-scoped or
// repeated query reveals more.
//
// The table: every unit of the registry (national, regions, ICSs, trusts) ×
// every month, calendar quarter, calendar year and financial year of the
// calendar years that hold data for the measure ("the period family"). Its
// equations: each node = Σ its children for every period (registry in effect
// at the period's end, as the query engine uses), and for every unit each
// quarter = Σ its months, each year and financial year = Σ its quarters
// (where the unit has the same trusts throughout). National cells are exact.
// common/disclosure.h chooses the pattern.
//
// Arbitrary month ranges are not in the table: below national, the query
// engine answers disclosive measures only for standard periods
// (IsStandardPeriod).
#ifndef OHFED_AGGREGATOR_DISCLOSURE_PATTERN_H_
#define OHFED_AGGREGATOR_DISCLOSURE_PATTERN_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "aggregator/view.h"
#include "common/catalogue.h"
#include "common/disclosure.h"
#include "common/period.h"
#include "common/registry.h"

namespace ohfed::aggregator {

// A month, calendar quarter, calendar year or financial year, whatever text
// asked for it ("2026-01:2026-03" is the first quarter).
bool IsStandardPeriod(const Period& period);

class SuppressionPattern {
 public:
  // Reads the measure's cells through `view`; `view` is not kept.
  static SuppressionPattern Compute(const View& view, const Measure& m,
                                    const DisclosureOptions& options);

  // Whether the cell of `unit` for `period` is suppressed, primary or
  // secondary. False for cells outside the table (national, non-standard
  // periods, no data), which the caller handles.
  bool Suppressed(const Scope& unit, const Period& period) const;

 private:
  absl::flat_hash_map<std::string, bool> suppressed_;  // by CellKey
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_DISCLOSURE_PATTERN_H_
