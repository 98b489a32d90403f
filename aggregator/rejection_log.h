// Rate-limited logging of rejected summaries. A peer sending thousands of
// bad summaries a second must not write one log line each: per interval,
// the first rejection of each (trust, reason) is logged as it happens and
// the rest are counted, then summarised in one line per (trust, reason) when
// the interval ends ("rejected 999 more from RJ1 since ...: reason"). At most
// `max_keys` (trust, reason) pairs are tracked per interval; rejections
// beyond those are counted in one "other reasons" line, so a peer varying
// its reasons cannot flood the log either.
//
// Thread-safe. The clock must outlive the log.
#ifndef OHFED_AGGREGATOR_REJECTION_LOG_H_
#define OHFED_AGGREGATOR_REJECTION_LOG_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace ohfed::aggregator {

class RejectionLog {
 public:
  using Sink = std::function<void(absl::string_view line)>;

  // `sink` receives each line (production: LogLine).
  RejectionLog(Clock* clock, absl::Duration interval, int max_keys, Sink sink)
      : clock_(clock),
        interval_(interval),
        max_keys_(max_keys),
        sink_(std::move(sink)) {}

  // One rejection of a summary from `trust` for `reason`; `line` is what to
  // log if it is the first of its kind in this interval. All are already
  // bounded (Bound in aggregator/validation.h) but not escaped: the sink
  // (common/log.h) escapes them, once.
  void Record(absl::string_view trust, absl::string_view reason,
              absl::string_view line);

  // Writes the summaries of an interval that has ended; a periodic caller
  // makes the counts appear even when no further rejection comes.
  void Flush();

 private:
  // Summary lines for the interval ending now; starts a new one.
  void EndInterval(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock* const clock_;
  const absl::Duration interval_;
  const int max_keys_;
  const Sink sink_;

  absl::Mutex mu_;
  absl::Time interval_start_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // (trust, reason) -> rejections not logged individually this interval.
  absl::flat_hash_map<std::pair<std::string, std::string>, uint64_t> counts_
      ABSL_GUARDED_BY(mu_);
  uint64_t others_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_REJECTION_LOG_H_
