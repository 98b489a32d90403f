// Latency samples and their percentiles, for the benchmark driver.
#ifndef OHFED_TESTS_BENCH_E2E_STATS_H_
#define OHFED_TESTS_BENCH_E2E_STATS_H_

#include <algorithm>
#include <cmath>
#include <vector>

namespace ohfed::bench {

// The p-th percentile (0..100, nearest rank) of `ms`; 0 when empty.
inline double Percentile(std::vector<double> ms, double p) {
  if (ms.empty()) return 0;
  std::sort(ms.begin(), ms.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * ms.size()));
  return ms[std::min(ms.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace ohfed::bench

#endif  // OHFED_TESTS_BENCH_E2E_STATS_H_
