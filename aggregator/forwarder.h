// Store-and-forward to an upstream aggregator (SPEC §5): the OutboxSource an
// Uploader drains, over the Store. For each (trust, period) it records, in
// RocksDB beside the unit ("f/" keys, aggregator/codec.h), the highest
// revision upstream acknowledged and any revision it rejected, so forwarding
// resumes where it stopped after a restart or an upstream outage.
//
// The outbox is the set of held units whose revision upstream has not yet
// acknowledged, excluding a revision it rejected: bounded by the number of
// units, whatever the outage. Summaries are forwarded byte-for-byte as held
// (same trust, period, revision, cells).
//
// Thread-safe. The store must outlive the Forwarder.
#ifndef OHFED_AGGREGATOR_FORWARDER_H_
#define OHFED_AGGREGATOR_FORWARDER_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "aggregator/codec.h"
#include "aggregator/store.h"
#include "common/uploader.h"

namespace ohfed::aggregator {

class Forwarder : public OutboxSource {
 public:
  // Loads the forward records and computes the outbox from the held units.
  // kDataLoss for an unreadable record.
  static absl::StatusOr<std::unique_ptr<Forwarder>> Create(Store* store);

  // OutboxSource.
  absl::StatusOr<std::vector<v1::UnitSummary>> Pending(size_t max) override;
  absl::Status OnAcks(const std::vector<v1::Ack>& acks) override;

  // Units (UnitIds) that the store just committed at a new revision.
  void OnCommit(const std::vector<std::string>& unit_ids);

  size_t outbox_size() const;
  // The record for one unit; default (all zero) if never acknowledged.
  ForwardRecord RecordOf(absl::string_view trust, absl::string_view period) const;

 private:
  explicit Forwarder(Store* store) : store_(store) {}
  absl::Status Load();
  // Whether upstream still needs the held revision of `id`.
  bool NeedsForwarding(const std::string& id, uint64_t held_revision) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint64_t HeldRevision(const std::string& id) const;

  Store* const store_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, ForwardRecord> records_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> outbox_ ABSL_GUARDED_BY(mu_);  // UnitIds
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_FORWARDER_H_
