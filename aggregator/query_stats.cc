#include "aggregator/query_stats.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ohfed::aggregator {
namespace {

constexpr std::array<const char*, 7> kScalarStats = {
    "sum", "mean", "median", "min", "max", "p25", "p75"};
constexpr std::array<const char*, 3> kYesNoStats = {"yes", "answered", "pct"};
constexpr std::array<const char*, 8> kDistributionStats = {
    "events", "mean", "median", "p90", "min", "max", "p25", "p75"};
constexpr std::array<const char*, 1> kDerivedStats = {"value"};

template <size_t N>
bool In(const std::array<const char*, N>& names, const std::string& stat) {
  return std::find(names.begin(), names.end(), stat) != names.end();
}

// The fraction a percentile statistic stands for, or nullopt.
std::optional<double> PercentileOf(const std::string& stat) {
  if (stat == "median") return 0.5;
  if (stat == "p25") return 0.25;
  if (stat == "p75") return 0.75;
  if (stat == "p90") return 0.9;
  return std::nullopt;
}

// The value of the event at 0-based `rank` in the pooled multiset.
double ValueAtRank(const Buckets& buckets, uint64_t rank) {
  uint64_t seen = 0;
  for (const auto& [value, count] : buckets) {
    seen += count;
    if (rank < seen) return value;
  }
  return buckets.rbegin()->first;
}

uint64_t EventCount(const Buckets& buckets) {
  uint64_t n = 0;
  for (const auto& [value, count] : buckets) n += count;
  return n;
}

}  // namespace

absl::Status CheckStatName(const std::string& stat) {
  if (In(kScalarStats, stat) || In(kYesNoStats, stat) ||
      In(kDistributionStats, stat) || In(kDerivedStats, stat)) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown statistic '", stat.substr(0, 64),
                   "'; known: ", absl::StrJoin(kScalarStats, ","), ",",
                   absl::StrJoin(kYesNoStats, ","), ",events,p90,value"));
}

std::vector<std::string> DefaultStats(const Measure& m) {
  switch (m.type) {
    case ValueType::kNumber:
    case ValueType::kCount:
      return {"sum"};
    case ValueType::kBool:
    case ValueType::kOption:
      return {"yes", "answered", "pct"};
    case ValueType::kDistribution:
      return {"events", "mean", "median", "p90"};
    case ValueType::kDerived:
      return {"value"};
  }
  return {};
}

bool StatApplies(const std::string& stat, const Measure& m) {
  switch (m.type) {
    case ValueType::kNumber:
    case ValueType::kCount:
      return In(kScalarStats, stat);
    case ValueType::kBool:
    case ValueType::kOption:
      return In(kYesNoStats, stat);
    case ValueType::kDistribution:
      return In(kDistributionStats, stat);
    case ValueType::kDerived:
      return In(kDerivedStats, stat);
  }
  return false;
}

double Quantile(const std::vector<double>& sorted, double p) {
  double h = (sorted.size() - 1) * p;
  size_t lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= sorted.size()) return sorted.back();
  return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
}

std::optional<double> ScalarStat(const std::string& stat,
                                 std::vector<double> values) {
  if (values.empty() || !In(kScalarStats, stat)) return std::nullopt;
  double sum = std::accumulate(values.begin(), values.end(), 0.0);
  if (stat == "sum") return sum;
  if (stat == "mean") return sum / values.size();
  std::sort(values.begin(), values.end());
  if (stat == "min") return values.front();
  if (stat == "max") return values.back();
  return Quantile(values, *PercentileOf(stat));
}

std::optional<double> YesNoStat(const std::string& stat,
                                const std::vector<double>& answers) {
  if (answers.empty() || !In(kYesNoStats, stat)) return std::nullopt;
  double yes = std::count(answers.begin(), answers.end(), 1.0);
  if (stat == "yes") return yes;
  if (stat == "answered") return static_cast<double>(answers.size());
  return 100.0 * yes / answers.size();
}

std::optional<double> DistributionStat(const std::string& stat,
                                       const Buckets& buckets) {
  if (!In(kDistributionStats, stat)) return std::nullopt;
  uint64_t n = EventCount(buckets);
  if (stat == "events") return static_cast<double>(n);
  if (n == 0) return std::nullopt;
  if (stat == "min") return buckets.begin()->first;
  if (stat == "max") return buckets.rbegin()->first;
  if (stat == "mean") {
    double total = 0;
    for (const auto& [value, count] : buckets) total += value * count;
    return total / n;
  }
  // Type-7 interpolation on the multiset without expanding it.
  double h = (n - 1) * *PercentileOf(stat);
  uint64_t lo = static_cast<uint64_t>(std::floor(h));
  double a = ValueAtRank(buckets, lo);
  if (lo + 1 >= n) return a;
  return a + (h - lo) * (ValueAtRank(buckets, lo + 1) - a);
}

}  // namespace ohfed::aggregator
