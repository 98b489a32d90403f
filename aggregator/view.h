// The seam between the aggregator's store (ingest, rollups) and its query
// engine: a consistent read-only view of what the aggregator holds.
//
// The store implements View over its in-memory index (rebuilt from RocksDB at
// start-up) and hands one to a reader under its lock; the query engine
// (aggregator/query_engine.h) only reads through this interface, so it can be
// tested against a small in-memory view and the store can change underneath.
#ifndef OHFED_AGGREGATOR_VIEW_H_
#define OHFED_AGGREGATOR_VIEW_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "aggregator/rollup_buckets.h"
#include "aggregator/unit_cells.h"
#include "common/catalogue.h"
#include "common/period.h"
#include "common/registry.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator {

// The revision of one trust's summary for one period that the aggregator
// holds (the highest it has made durable).
struct HeldUnit {
  std::string trust;
  std::string period;  // "YYYY-MM" (monthly measures) or "YYYY" (profile)
  uint64_t revision = 0;
  // When this aggregator first received any revision of this period, and
  // when it received the held one (unix ms). Timeliness uses the first.
  int64_t first_received_unix_ms = 0;
  int64_t last_received_unix_ms = 0;
  UnitCells cells;  // by measure code
};

// The total of one measure over the trusts of one node for one period,
// maintained incrementally as revisions replace earlier ones.
struct RollupCell {
  double sum = 0;  // Σ value over reporting trusts (events for distributions)
  uint32_t n_units = 0;   // trusts that reported the measure
  RollupBuckets buckets;  // merged distribution buckets
};

// What an upstream aggregator refused, as a regional one records it (the
// SummaryStore's UpstreamLedger). Thread-safe.
class UpstreamRefusals {
 public:
  virtual ~UpstreamRefusals() = default;
  // Upstream's reason for refusing the revision of (trust, period) held here;
  // empty when it did not refuse it.
  virtual std::string RefusalReason(absl::string_view trust,
                                    absl::string_view period) const = 0;
};

// After the store was damaged and recovered (aggregator/store_recovery.h):
// whose data may be missing or old until their agent resends. Thread-safe.
class RecoveryConfirmations {
 public:
  virtual ~RecoveryConfirmations() = default;
  // True while the trust's agent has not confirmed its data since the
  // recovery.
  virtual bool Unconfirmed(absl::string_view trust) const = 0;
  // What happened and when, for a warning; empty if nothing did.
  virtual std::string Note() const = 0;
};

class View {
 public:
  virtual ~View() = default;
  virtual const Catalogue& catalogue() const = 0;
  // The latest registry version.
  virtual const Registry& registry() const = 0;
  // The version in effect in month `m` (a merger does not rewrite earlier
  // months). A view with a single version returns it.
  virtual const Registry& RegistryAt(Month m) const { return registry(); }
  // nullptr when the trust has not reported the period.
  virtual const HeldUnit* Unit(absl::string_view trust,
                               absl::string_view period) const = 0;
  // `node` is a Scope string: "national", "region:Y56", "ics:QKK" (not
  // trust). nullptr when no trust in the node reported the measure.
  virtual const RollupCell* Rollup(absl::string_view node,
                                   absl::string_view period,
                                   absl::string_view measure) const = 0;
  // Last time anything was received from the trust (unix ms), 0 if never.
  virtual int64_t LastReceived(absl::string_view trust) const = 0;
  // At a regional aggregator: why the upstream aggregator refused the held
  // revision of (trust, period); empty if it did not, or if this aggregator
  // never forwarded.
  virtual std::string UpstreamReason(absl::string_view trust,
                                     absl::string_view period) const {
    return {};
  }
  // After the store was damaged and recovered, until the trust's agent has
  // confirmed its data (RecoveryConfirmations): its figures may be partial.
  virtual bool Unconfirmed(absl::string_view trust) const { return false; }
  // What happened to the store, for a warning on answers that include an
  // unconfirmed trust; empty if nothing did.
  virtual std::string RecoveryNote() const { return {}; }
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_VIEW_H_
