#include "aggregator/ingest_metrics.h"

#include <string>

#include "common/metrics.h"

namespace ohfed::aggregator {
namespace {

metrics::Counter& Rejected(RejectionClass c) {
  return metrics::Global().GetCounter(
      "ohfed_summaries_rejected_total",
      "Unit summaries refused by ingest, by reason class.",
      {{"reason", std::string(RejectionClassName(c))}});
}

metrics::Counter& Ended(StreamEnd e) {
  return metrics::Global().GetCounter(
      "ohfed_ingest_streams_ended_total",
      "Ingest.Submit streams ended, by how they ended.",
      {{"reason", std::string(StreamEndName(e))}});
}

}  // namespace

absl::string_view StreamEndName(StreamEnd e) {
  switch (e) {
    case StreamEnd::kOk:
      return "ok";
    case StreamEnd::kStreamLimit:
      return "stream_limit";
    case StreamEnd::kUnauthorized:
      return "unauthorized";
    case StreamEnd::kUnparsable:
      return "unparsable";
    case StreamEnd::kBatchRefused:
      return "batch_refused";
    case StreamEnd::kIdleTimeout:
      return "idle_timeout";
    case StreamEnd::kPeerGone:
      return "peer_gone";
  }
  return "other";
}

void CountStreamEnd(StreamEnd e) {
  static metrics::Counter* const* const counters = [] {
    static metrics::Counter* c[kStreamEnds];
    for (int i = 0; i < kStreamEnds; ++i) c[i] = &Ended(StreamEnd(i));
    return c;
  }();
  counters[static_cast<int>(e)]->Inc();
}

absl::string_view RejectionClassName(RejectionClass c) {
  switch (c) {
    case RejectionClass::kNotPermitted:
      return "not_permitted";
    case RejectionClass::kInvalid:
      return "invalid";
    case RejectionClass::kOutsideCoverage:
      return "outside_coverage";
  }
  return "other";
}

void CountRejection(RejectionClass c) {
  static metrics::Counter* const counters[] = {
      &Rejected(RejectionClass::kNotPermitted),
      &Rejected(RejectionClass::kInvalid),
      &Rejected(RejectionClass::kOutsideCoverage)};
  counters[static_cast<int>(c)]->Inc();
}

void InitIngestMetrics() {
  for (RejectionClass c :
       {RejectionClass::kNotPermitted, RejectionClass::kInvalid,
        RejectionClass::kOutsideCoverage}) {
    Rejected(c);
  }
  for (int i = 0; i < kStreamEnds; ++i) Ended(StreamEnd(i));
}

void ObserveCommitGroup(size_t writers, size_t summaries) {
  static metrics::Histogram& w = metrics::Global().GetHistogram(
      "ohfed_store_commit_group_writers",
      "Commit() calls (ingest batches) made durable by one group commit.",
      metrics::PowersOfTwo(256));
  static metrics::Histogram& s = metrics::Global().GetHistogram(
      "ohfed_store_commit_group_summaries",
      "Unit summaries made durable by one group commit.",
      metrics::PowersOfTwo(4096));
  w.Observe(static_cast<double>(writers));
  s.Observe(static_cast<double>(summaries));
}

}  // namespace ohfed::aggregator
