// `--metrics HOST:PORT` for ohfed-agent: serves, on /metrics, the outbox and
// upload state (common/uploader_metrics.h: ohfed_outbox_pending,
// ohfed_outbox_oldest_pending_age_seconds,
// ohfed_upstream_lag_seconds, ohfed_upload_*), the synced write latency
// (ohfed_rocksdb_synced_write_seconds), RocksDB sizes, RPC latency of the
// control service, and process_* series (common/metrics_server.h).
#ifndef OHFED_AGENT_AGENT_METRICS_H_
#define OHFED_AGENT_AGENT_METRICS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/agent.h"
#include "common/clock.h"
#include "common/metrics_server.h"

namespace ohfed::agent {

// Starts serving; `agent` and `clock` must outlive the result. nullptr for
// an empty address. Errors as MetricsServer::Start.
absl::StatusOr<std::unique_ptr<MetricsEndpoint>> ServeAgentMetrics(
    const std::string& address, Agent* agent, Clock* clock = Clock::Real());

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_AGENT_METRICS_H_
