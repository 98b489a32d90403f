// `--metrics HOST:PORT` for ohfed-aggregator: serves, on /metrics, what the
// aggregator knows (common/metrics_server.h):
//  - ohfed_summaries_{received,accepted,stale}_total and
//    ohfed_summaries_rejected_total{reason} (aggregator/ingest_metrics.h),
//    ohfed_ingest_batches_total, ohfed_ingest_received_bytes_total;
//  - ohfed_store_commits_total, ohfed_store_written_bytes_total,
//    ohfed_store_units_held, group sizes and the synced write latency
//    (ohfed_rocksdb_synced_write_seconds);
//  - with an upstream: ohfed_outbox_pending (the forwarder's outbox) and
//    ohfed_outbox_oldest_pending_age_seconds (among the first 10,000
//    pending in (trust, period) order, so a scrape stays bounded),
//    ohfed_upstream_refused, ohfed_upstream_last_ack_timestamp_seconds,
//    ohfed_upstream_lag_seconds and the uploader's counters;
//  - per trust of the registry inside --covers:
//    ohfed_trust_last_received_timestamp_seconds{trust} (0: never) and,
//    once something was received, ohfed_trust_last_received_age_seconds;
//  - RPC latency per method, RocksDB sizes, process_* series.
#ifndef OHFED_AGGREGATOR_AGGREGATOR_METRICS_H_
#define OHFED_AGGREGATOR_AGGREGATOR_METRICS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "aggregator/aggregator.h"
#include "common/clock.h"
#include "common/metrics_server.h"

namespace ohfed::aggregator {

// Starts serving; `aggregator` and `clock` (for ages) must outlive the
// result. nullptr for an empty address. Errors as MetricsServer::Start.
absl::StatusOr<std::unique_ptr<MetricsEndpoint>> ServeAggregatorMetrics(
    const std::string& address, Aggregator* aggregator,
    Clock* clock = Clock::Real());

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_AGGREGATOR_METRICS_H_
