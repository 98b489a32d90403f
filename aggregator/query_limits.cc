#include "aggregator/query_limits.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "aggregator/query_stats.h"
#include "common/status.h"
#include "common/transport.h"

namespace ohfed::aggregator {

absl::Status CheckCancelled(const QueryOptions& options) {
  if (options.cancelled && options.cancelled()) {
    return absl::CancelledError(
        "query abandoned: the caller has gone or its deadline has passed");
  }
  return absl::OkStatus();
}

absl::Status CancellationPoll::Check() {
  if (!options_.cancelled) return absl::OkStatus();
  if (options_.cancelled_poll_interval > absl::ZeroDuration()) {
    const absl::Time now = absl::Now();
    if (now < next_) return absl::OkStatus();
    next_ = now + options_.cancelled_poll_interval;
  }
  return CheckCancelled(options_);
}

absl::Status CheckPeriodSpan(const Period& period) {
  if (period.months() <= kMaxPeriodMonths) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("period: ", period.ToString(), " spans ", period.months(),
                   " months; at most ", kMaxPeriodMonths,
                   " (10 years) per request: ask for a shorter range"));
}

absl::StatusOr<std::vector<std::string>> DistinctStats(
    const google::protobuf::RepeatedPtrField<std::string>& stats) {
  if (stats.size() > kMaxStatsListed) {
    return absl::InvalidArgumentError(
        absl::StrCat("stats: ", stats.size(), " statistics listed; at most ",
                     kMaxStatsListed, ": list each statistic once"));
  }
  std::vector<std::string> out;
  absl::flat_hash_set<std::string> seen;
  for (const std::string& stat : stats) {
    OHFED_RETURN_IF_ERROR(CheckStatName(stat));
    if (seen.insert(stat).second) out.push_back(stat);
  }
  return out;
}

absl::Status CheckFieldLength(absl::string_view field,
                              absl::string_view value) {
  if (value.size() <= kMaxStringBytes) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": ", value.size(), " bytes; at most ", kMaxStringBytes));
}

absl::Status TooManyRows(int max_rows) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "the answer exceeds ", max_rows,
      " rows: narrow it with a longer measure prefix (--measures), a higher "
      "breakdown level (--by), fewer statistics (--stats) or a smaller "
      "scope"));
}

}  // namespace ohfed::aggregator
