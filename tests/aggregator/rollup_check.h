// Comparing rollups in aggregator tests (header-only).
#ifndef OHFED_TESTS_AGGREGATOR_ROLLUP_CHECK_H_
#define OHFED_TESTS_AGGREGATOR_ROLLUP_CHECK_H_

#include <gtest/gtest.h>

#include "aggregator/summary_store.h"

namespace ohfed::aggregator::testing {

// Same cells, same counts and buckets, sums equal up to float rounding of
// the order in which units were added.
inline void ExpectSameRollups(const RollupMap& got, const RollupMap& want) {
  EXPECT_EQ(got.size(), want.size());
  for (const auto& [key, cell] : want) {
    auto it = got.find(key);
    if (it == got.end()) {
      ADD_FAILURE() << "missing rollup " << key;
      continue;
    }
    EXPECT_EQ(it->second.n_units, cell.n_units) << key;
    EXPECT_NEAR(it->second.sum, cell.sum, 1e-6) << key;
    EXPECT_EQ(it->second.buckets, cell.buckets) << key;
  }
}

// The store's rollups equal a rebuild from its units: every unit counted
// exactly once.
inline void ExpectSameRollups(const SummaryStore& store) {
  ExpectSameRollups(store.Rollups(), store.RecomputedRollups());
}

}  // namespace ohfed::aggregator::testing

#endif  // OHFED_TESTS_AGGREGATOR_ROLLUP_CHECK_H_
