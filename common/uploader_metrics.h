// The families an Uploader's state gives, for the agent (to its aggregator)
// and a regional aggregator (to the national one):
//   ohfed_outbox_pending                        summaries awaiting an ack
//   ohfed_outbox_oldest_pending_age_seconds     since the oldest of them
//       was produced by its agent (0 when none is pending)
//   ohfed_upstream_last_ack_timestamp_seconds   0: never
//   ohfed_upstream_lag_seconds                  how long the outbox has
//       waited: 0 when it is empty, else the time since the last ack (or,
//       if none came since `since`, since `since`, when metrics started)
//   ohfed_upstream_consecutive_failures
//   ohfed_upstream_retry_backoff_seconds        the ceiling of the wait
//       before the next pass (0 after a success), and
//   ohfed_upstream_backoff_{initial,max}_seconds  the configured schedule
//   ohfed_upload_summaries_sent_total, ohfed_upload_batches_sent_total,
//   ohfed_upload_acks_total{outcome="accepted|stale|rejected"},
//   ohfed_upload_stream_failures_total
#ifndef OHFED_COMMON_UPLOADER_METRICS_H_
#define OHFED_COMMON_UPLOADER_METRICS_H_

#include <cstddef>
#include <vector>

#include "absl/time/time.h"
#include "common/metrics.h"
#include "common/uploader.h"

namespace ohfed::metrics {

// `oldest` is the earliest produced_unix_ms among the pending summaries
// (OldestProduced), ignored when `pending` is 0.
void CollectUploader(const UploaderStats& stats, size_t pending,
                     absl::Time oldest, absl::Time now, absl::Time since,
                     std::vector<Family>& out);

// The earliest produced_unix_ms of `summaries` (those without one are
// skipped); InfiniteFuture if none has one.
absl::Time OldestProduced(const std::vector<v1::UnitSummary>& summaries);

}  // namespace ohfed::metrics

#endif  // OHFED_COMMON_UPLOADER_METRICS_H_
