// Bounds on one query or completeness request and the way it is abandoned
// (issue 8: one message must not flood the aggregator). Every limit is
// enforced before or while evaluating, and each refusal says the limit and
// how to narrow the request.
#ifndef OHFED_AGGREGATOR_QUERY_LIMITS_H_
#define OHFED_AGGREGATOR_QUERY_LIMITS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "aggregator/coverage.h"
#include "common/disclosure.h"
#include "common/period.h"
#include "google/protobuf/repeated_field.h"

namespace ohfed::aggregator {

class PatternCache;  // aggregator/disclosure_pattern.h

// Statistics a request may list (after which they are deduplicated; there
// are fewer distinct names than this).
inline constexpr int kMaxStatsListed = 64;
// The longest period a request may span: ten years of months.
inline constexpr int kMaxPeriodMonths = 120;
// Rows in one query answer (well under the 16 MiB message limit).
inline constexpr int kMaxRows = 50000;

// How one request is evaluated. A default-constructed value covers
// everything and is never cancelled.
struct QueryOptions {
  Coverage coverage;  // the aggregator's; requests outside it are refused
  // Polled between units of work; once it returns true the evaluation stops
  // with kCancelled. The gRPC service answers "has the caller gone or its
  // deadline passed". Empty: never.
  std::function<bool()> cancelled;
  // At most how often `cancelled` is polled (CancellationPoll); zero: at
  // every check. The service's poll asks gRPC whether the call was cancelled,
  // which passes through gRPC's completion queue (profiled at tens of
  // microseconds under load, and a query checks once per (measure, unit)),
  // so it polls at most every millisecond.
  absl::Duration cancelled_poll_interval = absl::ZeroDuration();
  int max_rows = kMaxRows;  // tests lower it
  // Thresholds of disclosure control (SPEC §7); the defaults are the spec's.
  DisclosureOptions disclosure;
  // Secondary-suppression patterns shared with other queries on the same
  // View snapshot, coverage and disclosure options (see PatternCache);
  // null: this query computes the patterns it needs.
  std::shared_ptr<PatternCache> patterns;
};

// kCancelled if `options.cancelled` says so.
absl::Status CheckCancelled(const QueryOptions& options);

// CheckCancelled for the units of work of one evaluation, polling
// `options.cancelled` at the first check and then at most every
// `options.cancelled_poll_interval`. Not thread-safe; one per evaluation.
class CancellationPoll {
 public:
  // `options` must outlive the poll.
  explicit CancellationPoll(const QueryOptions& options) : options_(options) {}
  absl::Status Check();

 private:
  const QueryOptions& options_;
  absl::Time next_ = absl::InfinitePast();
};

// kInvalidArgument if `period` spans more than kMaxPeriodMonths.
absl::Status CheckPeriodSpan(const Period& period);

// The listed statistics, each once in first-listed order; kInvalidArgument
// if more than kMaxStatsListed are listed or one is unknown.
absl::StatusOr<std::vector<std::string>> DistinctStats(
    const google::protobuf::RepeatedPtrField<std::string>& stats);

// kInvalidArgument if a request field (scope, period, by, measure prefix) is
// longer than any valid value can be, so that no error message echoes a
// hostile megabyte; the message names the field, not its content.
absl::Status CheckFieldLength(absl::string_view field, absl::string_view value);

// kResourceExhausted for an answer that would exceed `max_rows`.
absl::Status TooManyRows(int max_rows);

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_QUERY_LIMITS_H_
