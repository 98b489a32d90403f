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

// Merged distribution buckets: events by value, iterated as (value, count)
// pairs in ascending value like a map. A sorted flat array: the rollups hold
// one per node, period and distribution measure, of a few dozen values
// (days), where a B-tree took four times the memory and a commit's
// copy-on-write of a rollup block copied node by node (issue 14 figure 6).
class RollupBuckets {
 public:
  using value_type = std::pair<double, uint64_t>;
  using const_iterator = std::vector<value_type>::const_iterator;
  using const_reverse_iterator =
      std::vector<value_type>::const_reverse_iterator;

  RollupBuckets() = default;
  RollupBuckets(std::initializer_list<value_type> buckets) {
    for (const value_type& b : buckets) (*this)[b.first] += b.second;
  }

  // The count of `value`, inserted as 0 if absent.
  uint64_t& operator[](double value) {
    auto it = LowerBound(value);
    if (it == entries_.end() || it->first != value) {
      it = InsertAt(static_cast<size_t>(it - entries_.begin()), {value, 0});
    }
    return it->second;
  }
  void erase(double value) {
    auto it = LowerBound(value);
    if (it != entries_.end() && it->first == value) entries_.erase(it);
  }
  const_iterator find(double value) const {
    auto it = std::lower_bound(
        entries_.begin(), entries_.end(), value,
        [](const value_type& e, double v) { return e.first < v; });
    return it != entries_.end() && it->first == value ? it : entries_.end();
  }
  // Adds (sign +1) or takes away (sign -1, never below 0) each bucket's
  // count, as operator[] then erase of a value whose count reaches 0 would.
  // Ascending buckets (as senders list them) take one pass over the
  // entries; a bucket below the one before starts again from the first.
  void Apply(absl::Span<const UnitCell::Bucket> buckets, int sign) {
    size_t at = 0;
    double previous = 0;
    for (const UnitCell::Bucket& b : buckets) {
      const double v = b.value();
      if (&b != buckets.data() && !(v > previous)) at = 0;
      previous = v;
      // A short forward scan: predictable, where a binary search over a
      // few dozen values mispredicts at every step.
      while (at < entries_.size() && entries_[at].first < v) ++at;
      auto it = entries_.begin() + static_cast<std::ptrdiff_t>(at);
      if (it != entries_.end() && it->first == v) {
        uint64_t& count = it->second;
        count =
            sign > 0 ? count + b.count() : count - std::min(count, b.count());
        if (count == 0) it = entries_.erase(it);
      } else if (sign > 0 && b.count() > 0) {
        it = InsertAt(at, {v, b.count()});
      }
      at = static_cast<size_t>(it - entries_.begin());
    }
  }
  void clear() { entries_.clear(); }
  void shrink_to_fit() { entries_.shrink_to_fit(); }

  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  const_reverse_iterator rbegin() const { return entries_.rbegin(); }
  const_reverse_iterator rend() const { return entries_.rend(); }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  friend bool operator==(const RollupBuckets& a, const RollupBuckets& b) {
    return a.entries_ == b.entries_;
  }

 private:
  // Inserts at index `at`, growing by a quarter, not doubled: a commit
  // copies an array at its size and often adds a value or two; doubling
  // left the rollups' buckets at 21 MiB where 14.5 MiB held them (207 x 60
  // trust-months).
  std::vector<value_type>::iterator InsertAt(size_t at, value_type entry) {
    if (entries_.size() == entries_.capacity()) {
      entries_.reserve(entries_.size() +
                       std::max<size_t>(2, entries_.size() / 4));
    }
    return entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(at),
                           entry);
  }
  std::vector<value_type>::iterator LowerBound(double value) {
    return std::lower_bound(
        entries_.begin(), entries_.end(), value,
        [](const value_type& e, double v) { return e.first < v; });
  }
  std::vector<value_type> entries_;  // ascending value, counts > 0 in rollups
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
