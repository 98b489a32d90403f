#include "common/uploader_metrics.h"

#include <algorithm>

namespace ohfed::metrics {
namespace {

Family One(const char* name, const char* type, const char* help, double v) {
  return Family{name, help, type, {{{}, v}}};
}

}  // namespace

absl::Time OldestProduced(const std::vector<v1::UnitSummary>& summaries) {
  absl::Time oldest = absl::InfiniteFuture();
  for (const v1::UnitSummary& s : summaries) {
    if (s.produced_unix_ms() > 0) {
      oldest = std::min(oldest, absl::FromUnixMillis(s.produced_unix_ms()));
    }
  }
  return oldest;
}

void CollectUploader(const UploaderStats& stats, size_t pending,
                     absl::Time oldest, absl::Time now, absl::Time since,
                     std::vector<Family>& out) {
  const bool acked = stats.last_ack != absl::InfinitePast();
  out.push_back(One("ohfed_outbox_pending", "gauge",
                    "Unit summaries awaiting acknowledgement upstream.",
                    static_cast<double>(pending)));
  double oldest_age = 0;
  if (pending > 0 && oldest != absl::InfiniteFuture()) {
    oldest_age = std::max(0.0, absl::ToDoubleSeconds(now - oldest));
  }
  out.push_back(One("ohfed_outbox_oldest_pending_age_seconds", "gauge",
                    "Seconds since the oldest summary awaiting "
                    "acknowledgement was produced by its agent (0: none).",
                    oldest_age));
  out.push_back(One("ohfed_upstream_last_ack_timestamp_seconds", "gauge",
                    "When upstream last acknowledged a batch (0: never).",
                    acked ? absl::ToUnixMillis(stats.last_ack) / 1000.0 : 0));
  double lag = 0;
  if (pending > 0) {
    absl::Time from = acked ? std::max(stats.last_ack, since) : since;
    lag = std::max(0.0, absl::ToDoubleSeconds(now - from));
  }
  out.push_back(One("ohfed_upstream_lag_seconds", "gauge",
                    "Seconds the outbox has waited for upstream: 0 when "
                    "empty, else since the last acknowledgement.",
                    lag));
  out.push_back(One("ohfed_upstream_consecutive_failures", "gauge",
                    "Upload passes failed in a row.",
                    static_cast<double>(stats.consecutive_failures)));
  out.push_back(One("ohfed_upstream_retry_backoff_seconds", "gauge",
                    "Longest wait before the next upload pass (the wait is "
                    "uniform below it); 0 after a success.",
                    absl::ToDoubleSeconds(stats.retry_backoff)));
  out.push_back(One("ohfed_upstream_backoff_initial_seconds", "gauge",
                    "First retry backoff ceiling, as configured; it doubles "
                    "with each failure in a row.",
                    absl::ToDoubleSeconds(stats.initial_backoff)));
  out.push_back(One("ohfed_upstream_backoff_max_seconds", "gauge",
                    "Cap on the retry backoff, as configured.",
                    absl::ToDoubleSeconds(stats.max_backoff)));
  out.push_back(One("ohfed_upload_summaries_sent_total", "counter",
                    "Unit summaries sent upstream.",
                    static_cast<double>(stats.summaries_sent)));
  out.push_back(One("ohfed_upload_batches_sent_total", "counter",
                    "Batches sent upstream.",
                    static_cast<double>(stats.batches_sent)));
  out.push_back(One("ohfed_upload_stream_failures_total", "counter",
                    "Upload streams that failed.",
                    static_cast<double>(stats.stream_failures)));
  out.push_back(Family{
      "ohfed_upload_acks_total",
      "Acknowledgements received from upstream, by outcome.",
      "counter",
      {{{{"outcome", "accepted"}}, static_cast<double>(stats.acks_accepted)},
       {{{"outcome", "stale"}}, static_cast<double>(stats.acks_stale)},
       {{{"outcome", "rejected"}}, static_cast<double>(stats.acks_rejected)}}});
}

}  // namespace ohfed::metrics
