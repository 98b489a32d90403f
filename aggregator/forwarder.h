// SummaryStore-and-forward to an upstream aggregator (SPEC §5): the OutboxSource an
// Uploader drains, over the SummaryStore. For each (trust, period) it records, in
// RocksDB beside the unit ("f/" keys, aggregator/codec.h), the highest
// revision upstream acknowledged and any revision it refused, so forwarding
// resumes where it stopped after a restart or an upstream outage.
//
// The outbox is the set of held units whose revision upstream has not yet
// acknowledged, excluding a revision it refused (or that the uploader set
// aside as too large to send): bounded by the number of units, whatever the
// outage. Summaries are forwarded as held (same trust, period, revision,
// cells, retraction), stamped with the time this aggregator first received
// the unit (first_received_unix_ms) so that timeliness upstream is measured
// at the first receipt, not after the forwarding delay.
//
// Refusals stay visible: RefusalReason (the View's UpstreamReason, for
// completeness) and Refused (Ingest.Feedback, for the trust's agent).
//
// Thread-safe. Its lock is a leaf: it never calls into the SummaryStore while
// holding it, so the SummaryStore's readers may ask it. The store must outlive the
// Forwarder.
#ifndef OHFED_AGGREGATOR_FORWARDER_H_
#define OHFED_AGGREGATOR_FORWARDER_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "aggregator/codec.h"
#include "aggregator/summary_store.h"
#include "aggregator/view.h"
#include "common/uploader.h"

namespace ohfed::aggregator {

class Forwarder : public OutboxSource, public UpstreamRefusals {
 public:
  // Loads the forward records and computes the outbox from the held units.
  // kDataLoss for an unreadable record.
  static absl::StatusOr<std::unique_ptr<Forwarder>> Create(SummaryStore* store);

  // OutboxSource. Pending returns at most one message's worth of bytes (and
  // at least one summary). OnAcks changes memory only once the records are
  // durable; on a write error nothing changes.
  absl::StatusOr<std::vector<v1::UnitSummary>> Pending(size_t max) override;
  absl::Status OnAcks(const std::vector<v1::Ack>& acks) override;
  size_t PendingCount() override { return outbox_size(); }

  // Units the store just committed, with their new revisions (the SummaryStore's
  // commit listener).
  void OnCommit(const std::vector<HeldRevision>& units);

  // UpstreamRefusals: the reason for the held revision of (trust, period).
  std::string RefusalReason(absl::string_view trust,
                            absl::string_view period) const override;
  // Every unit of `trust` whose held revision upstream refused, as the acks
  // it sent (outcome REJECTED, reason); for Ingest.Feedback.
  std::vector<v1::Ack> Refused(absl::string_view trust) const;

  size_t outbox_size() const;
  // How many held units upstream refused (at the held revision).
  size_t refused_count() const;
  // The record for one unit; default (all zero) if never acknowledged.
  ForwardRecord RecordOf(absl::string_view trust,
                         absl::string_view period) const;

 private:
  explicit Forwarder(SummaryStore* store) : store_(store) {}
  absl::Status Load();
  // Updates `r` from one ack; false if the ack teaches nothing.
  static bool Apply(const v1::Ack& ack, ForwardRecord* r);
  // Whether upstream still needs the held revision of `id`.
  bool NeedsForwarding(const std::string& id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether upstream refused the held revision of `id`.
  const ForwardRecord* RefusedRecord(const std::string& id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint64_t Held(const std::string& id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  SummaryStore* const store_;
  // Serialises OnAcks: records change only through it, so what it read
  // before its write is still current after.
  absl::Mutex acks_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, ForwardRecord> records_ ABSL_GUARDED_BY(mu_);
  // The store's held revision per UnitId, kept from its commits so that no
  // decision here needs the store's lock.
  absl::flat_hash_map<std::string, uint64_t> held_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> outbox_ ABSL_GUARDED_BY(mu_);  // UnitIds
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_FORWARDER_H_
