#include "aggregator/aggregator_metrics.h"

#include <utility>
#include <vector>

#include "aggregator/ingest_metrics.h"
#include "common/rocksdb_metrics.h"
#include "common/uploader_metrics.h"

namespace ohfed::aggregator {
namespace {

using metrics::Family;

constexpr size_t kOldestScan = 10000;
constexpr size_t kOldestScanBytes = 64 << 20;

Family Counter(const char* name, const char* help, uint64_t v) {
  return Family{name, help, "counter", {{{}, static_cast<double>(v)}}};
}

void CollectStore(const SummaryStore& store, std::vector<Family>& out) {
  const SummaryStoreStats s = store.stats();
  out.push_back(Counter(
      "ohfed_summaries_received_total", "Unit summaries received by ingest.",
      s.summaries_accepted + s.summaries_stale + s.summaries_rejected));
  out.push_back(Counter("ohfed_summaries_accepted_total",
                        "Unit summaries accepted (now held).",
                        s.summaries_accepted));
  out.push_back(Counter("ohfed_summaries_stale_total",
                        "Unit summaries answered stale: an equal or newer "
                        "revision was held.",
                        s.summaries_stale));
  out.push_back(Counter("ohfed_ingest_batches_total",
                        "Ingest batches received.", s.batches_received));
  out.push_back(Counter("ohfed_ingest_received_bytes_total",
                        "Serialized bytes of the ingest batches received.",
                        s.bytes_received));
  out.push_back(Counter("ohfed_store_commits_total",
                        "Synced group commits of the summary store.",
                        s.commits));
  out.push_back(Counter("ohfed_store_written_bytes_total",
                        "Payload bytes of those commits.", s.bytes_written));
  out.push_back(Family{"ohfed_store_units_held",
                       "Unit summaries held, retractions included.",
                       "gauge",
                       {{{}, static_cast<double>(s.units_held)}}});
  metrics::CollectRocksDb(
      [&store](const std::string& p) { return store.DbIntProperty(p); }, out);
}

// One series per trust of the registry inside the coverage: bounded by the
// registry, whatever senders send.
void CollectTrusts(const SummaryStore& store, absl::Time now,
                   std::vector<Family>& out) {
  Family stamp{"ohfed_trust_last_received_timestamp_seconds",
               "When anything was last received from the trust (0: never).",
               "gauge",
               {}};
  Family age{"ohfed_trust_last_received_age_seconds",
             "Seconds since anything was last received from the trust; "
             "absent if never.",
             "gauge",
             {}};
  const std::vector<std::string> trusts =
      store.registry().Latest().TrustsIn(store.coverage().scope());
  store.Read([&](const View& view) {
    for (const std::string& trust : trusts) {
      const int64_t ms = view.LastReceived(trust);
      metrics::Labels labels = {{"trust", trust}};
      stamp.samples.emplace_back(labels, ms / 1000.0);
      if (ms > 0) {
        age.samples.emplace_back(
            labels, absl::ToDoubleSeconds(now - absl::FromUnixMillis(ms)));
      }
    }
    return 0;
  });
  out.push_back(std::move(stamp));
  out.push_back(std::move(age));
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> ServeAggregatorMetrics(
    const std::string& address, Aggregator* aggregator, Clock* clock) {
  InitIngestMetrics();
  const absl::Time since = clock->Now();
  std::vector<metrics::Registry::Collector> collectors;
  collectors.push_back([aggregator, clock](std::vector<Family>& out) {
    CollectStore(aggregator->store(), out);
    CollectTrusts(aggregator->store(), clock->Now(), out);
  });
  if (aggregator->forwarder() != nullptr) {
    collectors.push_back([aggregator, clock, since](std::vector<Family>& out) {
      const Forwarder& f = *aggregator->forwarder();
      // The oldest among the first kOldestScan pending, in (trust, period)
      // order: a bounded scrape whatever the backlog.
      absl::StatusOr<std::vector<v1::UnitSummary>> pending =
          aggregator->store().PendingUpstream(kOldestScan, kOldestScanBytes,
                                              {});
      metrics::CollectUploader(aggregator->uploader()->stats(), f.outbox_size(),
                               pending.ok() ? metrics::OldestProduced(*pending)
                                            : absl::InfiniteFuture(),
                               clock->Now(), since, out);
      out.push_back(Family{"ohfed_upstream_refused",
                           "Held unit summaries the upstream refused.",
                           "gauge",
                           {{{}, static_cast<double>(f.refused_count())}}});
    });
  }
  return ServeMetrics(address, std::move(collectors));
}

}  // namespace ohfed::aggregator
