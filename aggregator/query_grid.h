// The units one query reads, each looked up in the View once: a query asks
// for the same (trust, month) unit once per measure (15 activity counts, 28
// staffing measures), and building the period key and hashing into the
// index each time was most of a query's cost (issue 14 figure 3). The grid
// holds the query's trusts x the months of its period, filled lazily, and
// answers what aggregator/query_values.h answers, with the same rules and
// the same results, for monthly measures.
//
// Lives for one query over one View snapshot; not thread-safe.
#ifndef OHFED_AGGREGATOR_QUERY_GRID_H_
#define OHFED_AGGREGATOR_QUERY_GRID_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "aggregator/disclosure_pattern.h"
#include "aggregator/query_stats.h"
#include "aggregator/query_values.h"
#include "aggregator/view.h"
#include "common/catalogue.h"
#include "common/period.h"

namespace ohfed::aggregator {

class UnitGrid {
 public:
  // `view` must outlive the grid, and so must `sums` if given: the cache
  // of the snapshot `view` is (PatternCache::Sums), from which RollupTotal
  // reads a node's monthly sums over several months.
  UnitGrid(const View& view, const Period& period,
           PatternCache* sums = nullptr);

  // The measures the query will ask the grid for (call before any
  // lookup): a unit's cells of these are then found in one merge of its
  // sorted cells with them, when the unit is first read, instead of a
  // binary search by measure code per (unit, measure); a heavy query asks
  // each of ~2,500 units for ~120 measures. Other measures are still found.
  void Expect(const std::vector<const Measure*>& measures);

  // The row of `trust`, added on first use.
  int Row(const std::string& trust);
  // Room for `trusts` rows, so that adding them one by one does not grow
  // (and copy) the grid's arrays repeatedly. Optional.
  void Reserve(size_t trusts);
  std::vector<int> Rows(const std::vector<std::string>& trusts);

  const View& view() const { return view_; }
  const Period& period() const { return period_; }
  // "YYYY-MM" of the period's months, in order.
  const std::vector<std::string>& month_keys() const { return month_keys_; }

  // The cell of `m` the row's trust holds for the period's `month`-th
  // month, or nullptr.
  const UnitCell* Cell(int row, int month, const Measure& m) const;

  // TrustScalar, TrustPool and RollupTotal (aggregator/query_values.h) over
  // the grid's period.
  std::optional<double> Scalar(int row, const Measure& m) const;
  std::optional<Buckets> Pool(int row, const Measure& m) const;
  // `rows` must be the trusts of `node` in the registry in effect at the
  // period's end: over a standard period of several months the total is
  // read from, or kept in, `sums` (PatternCache::Total) by node.
  NodeTotal RollupTotal(const std::string& node, const std::vector<int>& rows,
                        const Measure& m) const;

 private:
  NodeTotal ComputeRollupTotal(const std::string& node,
                               const std::vector<int>& rows,
                               const Measure& m) const;

  const HeldUnit* Unit(int row, int month) const;

  // The period's months' sums of one node and measure: from `sums_` if
  // given, else from View::Rollup. Adds them month by month, in order.
  double SumOverMonths(const std::string& node, const Measure& m) const;

  const View& view_;
  const Period period_;
  PatternCache* const sums_;
  const int months_;
  std::vector<std::string> month_keys_;
  std::vector<std::string> trusts_;  // by row
  absl::flat_hash_map<std::string, int> rows_;
  // By row * months_ + month, looked up on first use.
  mutable std::vector<const HeldUnit*> units_;
  mutable std::vector<bool> looked_up_;
  // Expect's measures by code, each one's slot, and by (row * months_ +
  // month) * expected + slot, the unit's cell of it (filled with the unit).
  std::vector<const Measure*> expected_;
  absl::flat_hash_map<const Measure*, int> slot_;
  mutable std::vector<const UnitCell*> cells_;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_QUERY_GRID_H_
