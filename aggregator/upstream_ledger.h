// The in-memory half of a SummaryStore's upstream state (SPEC §5): per unit
// the revision held and what upstream replied about it, and from those the
// units pending upstream: held at a revision upstream has neither
// acknowledged nor refused. Bounded by the number of units held, whatever
// the outage.
//
// The SummaryStore keeps it current (Load at open, OnCommit after each
// commit, Install once replies are durable) and persists the records itself
// ("f/" keys, aggregator/codec.h); nothing here touches the disk.
//
// Thread-safe. Its lock is a leaf: it calls out to nothing while holding
// it, so readers of the store's snapshots (as UpstreamRefusals) may ask it
// at any time.
#ifndef OHFED_AGGREGATOR_UPSTREAM_LEDGER_H_
#define OHFED_AGGREGATOR_UPSTREAM_LEDGER_H_

#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "aggregator/upstream_queue.h"
#include "aggregator/view.h"

namespace ohfed::aggregator {

// (UnitId, revision): a unit and the revision held for it, retractions
// included.
using HeldRevision = std::pair<std::string, uint64_t>;

// Upstream records by UnitId.
using UpstreamRecords = absl::flat_hash_map<std::string, UpstreamRecord>;

// Updates `record` from one reply about its unit.
void ApplyReply(const UpstreamReply& reply, UpstreamRecord* record);

class UpstreamLedger : public UpstreamRefusals {
 public:
  // Replaces everything: the held revisions and the stored records.
  void Load(const std::vector<HeldRevision>& held, UpstreamRecords records);
  // Units a commit just changed, with their new revisions.
  void OnCommit(const std::vector<HeldRevision>& units);
  // Replaces the records of the units in `records`, already durable.
  void Install(const UpstreamRecords& records);

  // The first `max` pending UnitIds not in `skip`, in order.
  std::vector<std::string> PendingIds(
      size_t max, const absl::flat_hash_set<std::string>& skip) const;
  size_t pending_count() const;
  // The record of one unit; all zero if none.
  UpstreamRecord RecordOf(const std::string& id) const;

  // UpstreamRefusals: the reason for the held revision of (trust, period).
  // Asked for every row of a completeness answer (issue 14 figure 3), so
  // it answers without its lock while no held revision is refused, and
  // with one lookup by trust for a trust with none.
  std::string RefusalReason(absl::string_view trust,
                            absl::string_view period) const override;
  // Whether upstream refused the held revision of any unit of `trust`.
  bool AnyRefused(absl::string_view trust) const;
  // Every unit of `trust` whose held revision upstream refused, by period.
  std::vector<UpstreamReply> Refused(absl::string_view trust) const;
  size_t refused_count() const;

  // The trusts with units held, in order.
  std::vector<std::string> Trusts() const;
  // The records of `trust`'s held units that upstream acknowledged above
  // what it holds now (`upstream_holds`, by period; absent: 0), lowered to
  // that; to be made durable, then Installed.
  UpstreamRecords LostUpstream(
      absl::string_view trust,
      const absl::flat_hash_map<std::string, uint64_t>& upstream_holds) const;

 private:
  uint64_t Held(const std::string& id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether upstream still needs the held revision of `id`.
  bool NeedsForwarding(const std::string& id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The record of `id` if upstream refused its held revision, else nullptr.
  const UpstreamRecord* RefusedRecord(const std::string& id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Called whenever the held revision or the record of `id` changes: keeps
  // pending_ and the refused units (below) current.
  void UpdatePending(const std::string& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, uint64_t> held_ ABSL_GUARDED_BY(mu_);
  UpstreamRecords records_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> pending_ ABSL_GUARDED_BY(mu_);  // UnitIds
  // The units whose held revision upstream refused (RefusedRecord), and
  // how many per trust; refused_units_ is their number, also read unlocked.
  absl::flat_hash_set<std::string> refused_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> refused_by_trust_ ABSL_GUARDED_BY(mu_);
  std::atomic<size_t> refused_units_{0};
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_UPSTREAM_LEDGER_H_
