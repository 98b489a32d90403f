// Invariants of an aggregator store that fuzz targets check after ingest
// (header-only): the rollups kept incrementally equal a rebuild from the
// held units, so that nothing is counted twice or lost.
#ifndef OHFED_TESTS_FUZZ_STORE_CHECK_H_
#define OHFED_TESTS_FUZZ_STORE_CHECK_H_

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "aggregator/summary_store.h"
#include "tests/fuzz/fuzz_check.h"

namespace ohfed::fuzz {

// Equal counts and buckets; sums equal up to rounding (the incremental sum
// adds and subtracts in another order than the rebuild).
inline void CheckSameRollups(const aggregator::RollupMap& got,
                             const aggregator::RollupMap& want) {
  FUZZ_CHECK(got.size() == want.size(),
             absl::StrCat(got.size(), " rollups, rebuild has ", want.size()));
  for (const auto& [key, cell] : want) {
    auto it = got.find(key);
    FUZZ_CHECK(it != got.end(), absl::StrCat("missing rollup ", key));
    const aggregator::RollupCell& g = it->second;
    FUZZ_CHECK(g.n_units == cell.n_units, key);
    FUZZ_CHECK(g.buckets == cell.buckets, key);
    const double tolerance = 1e-9 * std::max(1.0, std::fabs(cell.sum));
    FUZZ_CHECK(std::fabs(g.sum - cell.sum) <= tolerance,
               absl::StrCat(key, ": ", g.sum, " vs rebuilt ", cell.sum));
  }
}

inline void CheckRollups(const aggregator::SummaryStore& store) {
  CheckSameRollups(store.Rollups(), store.RecomputedRollups());
}

}  // namespace ohfed::fuzz

#endif  // OHFED_TESTS_FUZZ_STORE_CHECK_H_
