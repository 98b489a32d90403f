// The aggregator's hot-path metrics (metrics::Global()): summaries rejected
// by reason class, and the size of each group commit. The reason label is
// one of a fixed set of classes, never the free-text reason, so the series
// stay bounded whatever senders send.
#ifndef OHFED_AGGREGATOR_INGEST_METRICS_H_
#define OHFED_AGGREGATOR_INGEST_METRICS_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace ohfed::aggregator {

enum class RejectionClass {
  kNotPermitted,     // the caller's certificate may not submit for the trust
  kInvalid,          // ValidateSummary refused it
  kOutsideCoverage,  // the trust lies outside --covers
};
// The `reason` label: "not_permitted", "invalid", "outside_coverage".
absl::string_view RejectionClassName(RejectionClass c);

// ohfed_summaries_rejected_total{reason=...} += 1.
void CountRejection(RejectionClass c);

// How an Ingest.Submit stream ended.
enum class StreamEnd {
  kOk,            // the sender closed it after its last batch
  kStreamLimit,   // refused: --max-streams-per-peer already open
  kUnauthorized,  // refused: no right to submit (token, certificate)
  kUnparsable,    // a message was not a SubmitRequest
  kBatchRefused,  // a batch was refused whole (too many summaries, store)
  kIdleTimeout,   // the peer idled past --stream-idle-timeout
  kPeerGone,      // the peer cancelled, or its connection went (this
                  // includes a message over the size limit, which gRPC
                  // refuses before ohfed sees it)
};
inline constexpr int kStreamEnds = 7;
// The `reason` label: "ok", "stream_limit", "unauthorized", "unparsable",
// "batch_refused", "idle_timeout", "peer_gone".
absl::string_view StreamEndName(StreamEnd e);

// ohfed_ingest_streams_ended_total{reason=...} += 1.
void CountStreamEnd(StreamEnd e);

// Creates the series above (rejections, stream ends) at zero (once serving
// metrics), so that rate() sees the first rejection.
void InitIngestMetrics();

// One group commit of `writers` Commit() calls holding `summaries`:
// ohfed_store_commit_group_writers and ohfed_store_commit_group_summaries.
void ObserveCommitGroup(size_t writers, size_t summaries);

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_INGEST_METRICS_H_
