// Statistic names and the arithmetic behind them (SPEC §6), kept apart from
// the query engine so each formula is testable on its own.
//
// Percentiles (median, p25, p75, p90) use linear interpolation between
// closest ranks ("type 7": numpy's default, Excel's PERCENTILE.INC): for n
// sorted values x[0..n-1] and p in [0,1], h = (n-1)p and the result is
// x[floor h] + (h - floor h) * (x[floor h + 1] - x[floor h]). A pooled
// distribution is treated as the multiset of its events.
#ifndef OHFED_AGGREGATOR_QUERY_STATS_H_
#define OHFED_AGGREGATOR_QUERY_STATS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/catalogue.h"

namespace ohfed::aggregator {

// Events by value: a distribution pooled over months and trusts.
using Buckets = std::map<double, uint64_t>;

// kInvalidArgument naming the statistic if it is not one ohfed knows.
absl::Status CheckStatName(const std::string& stat);

// The statistics a measure shows when the request names none: sum for
// numbers and counts; yes, answered, pct for yes/no; events, mean, median,
// p90 for distributions; value for derived indicators.
std::vector<std::string> DefaultStats(const Measure& m);

// Whether `stat` means anything for measures of this type (a request for
// one that does not simply yields no row).
bool StatApplies(const std::string& stat, const Measure& m);

// Across per-trust values (numbers and counts): sum, mean, median, min, max,
// p25, p75. nullopt for an empty input or a statistic not in that list.
std::optional<double> ScalarStat(const std::string& stat,
                                 std::vector<double> values);

// Across per-trust yes/no answers (each 0 or 1): yes (count of 1), answered
// (count), pct (100 * yes / answered). nullopt when nothing was answered.
std::optional<double> YesNoStat(const std::string& stat,
                                const std::vector<double>& answers);

// Over a pooled distribution: events, mean, median, p90, min, max, p25, p75.
// Everything but events is nullopt for a distribution with no events.
std::optional<double> DistributionStat(const std::string& stat,
                                       const Buckets& buckets);

// The type-7 quantile of sorted values; `sorted` must not be empty.
double Quantile(const std::vector<double>& sorted, double p);

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_QUERY_STATS_H_
