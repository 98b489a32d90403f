#include "agent/agent_metrics.h"

#include <utility>
#include <vector>

#include "common/rocksdb_metrics.h"
#include "common/uploader_metrics.h"

namespace ohfed::agent {

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> ServeAgentMetrics(
    const std::string& address, Agent* agent, Clock* clock) {
  const absl::Time since = clock->Now();
  std::vector<metrics::Registry::Collector> collectors;
  collectors.push_back([agent, clock,
                        since](std::vector<metrics::Family>& out) {
    LocalStore* store = agent->store();
    // The endpoint goes before Shutdown (main.cc); this guards misuse.
    if (store == nullptr || agent->uploader() == nullptr) return;
    // An agent's outbox is at most its periods: read it whole.
    absl::StatusOr<std::vector<v1::UnitSummary>> pending =
        store->Pending(SIZE_MAX);
    if (pending.ok()) {
      metrics::CollectUploader(agent->uploader()->stats(), pending->size(),
                               metrics::OldestProduced(*pending), clock->Now(),
                               since, out);
    }
    metrics::CollectRocksDb(
        [store](const std::string& p) { return store->DbIntProperty(p); }, out);
  });
  return ServeMetrics(address, std::move(collectors));
}

}  // namespace ohfed::agent
