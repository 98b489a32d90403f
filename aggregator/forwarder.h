// Store-and-forward to an upstream aggregator (SPEC §5): the OutboxSource an
// Uploader drains, over an UpstreamQueue (in the daemon, the SummaryStore).
// It speaks the protocol; the queue keeps the state.
//
// The outbox is the queue's pending set: the held units whose revision
// upstream has not yet acknowledged, excluding a revision it refused (or
// that the uploader set aside as too large to send). Summaries are
// forwarded as held, stamped with this aggregator's first receipt, at most
// one message's worth (kMaxMessageBytes) at a time. Acks become replies:
// ACCEPTED and STALE say upstream holds the revision, REJECTED that it
// refused it (the reason kept to kMaxReasonBytes and logged), UNSPECIFIED
// says nothing.
//
// Refusals stay visible: RefusalReason (as the View's UpstreamReason, for
// completeness) and Refused (Ingest.Feedback, for the trust's agent).
//
// Upstream's losses are made good as an agent makes good its aggregator's
// (aggregator/store_recovery.h): the uploader asks upstream's Feedback for
// every trust held here (FeedbackTrusts) and hands each answer to
// OnReceiverHoldsFor, which makes pending again every unit upstream had
// acknowledged above what it now holds. The uploader asks again once they
// are resent, which confirms the trust upstream.
//
// Thread-safe: it holds no state of its own. The queue must outlive it.
#ifndef OHFED_AGGREGATOR_FORWARDER_H_
#define OHFED_AGGREGATOR_FORWARDER_H_

#include <string>
#include <vector>

#include "aggregator/upstream_queue.h"
#include "common/uploader.h"

namespace ohfed::aggregator {

// Upstream's reasons are kept, shown and sent on; bounded like any text.
inline constexpr size_t kMaxReasonBytes = 1024;

class Forwarder : public OutboxSource {
 public:
  explicit Forwarder(UpstreamQueue* queue) : queue_(queue) {}

  // OutboxSource. Pending returns at most one message's worth of bytes (and
  // at least one summary). OnAcks records them (RecordUpstream) before
  // returning; on a write error nothing changes.
  absl::StatusOr<std::vector<v1::UnitSummary>> Pending(size_t max) override;
  absl::StatusOr<std::vector<v1::UnitSummary>> PendingExcept(
      size_t max, const UnitKeys& in_flight) override;
  // What the uploader sends: the queue's serialized summaries, as stored.
  absl::StatusOr<std::vector<SerializedSummary>> PendingSerialized(
      size_t max, const UnitKeys& in_flight) override;
  absl::Status OnAcks(const std::vector<v1::Ack>& acks) override;
  size_t PendingCount() override { return outbox_size(); }
  std::vector<std::string> FeedbackTrusts() override {
    return queue_->UpstreamTrusts();
  }
  // `held` is upstream's Feedback.held for `trust`; entries of other trusts
  // are ignored. Returns how many units became pending again.
  absl::StatusOr<size_t> OnReceiverHoldsFor(
      absl::string_view trust, const std::vector<v1::Ack>& held) override;

  // Upstream's reason for refusing the held revision of (trust, period);
  // empty if it did not.
  std::string RefusalReason(absl::string_view trust,
                            absl::string_view period) const;
  // Every unit of `trust` whose held revision upstream refused, as the acks
  // it sent (outcome REJECTED, reason), by period; for Ingest.Feedback.
  std::vector<v1::Ack> Refused(absl::string_view trust) const;

  size_t outbox_size() const { return queue_->PendingUpstreamCount(); }
  // How many held units upstream refused (at the held revision).
  size_t refused_count() const { return queue_->RefusedUpstreamCount(); }
  // The record for one unit; all zero if upstream never replied.
  UpstreamRecord RecordOf(absl::string_view trust,
                          absl::string_view period) const {
    return queue_->UpstreamRecordOf(trust, period);
  }

 private:
  UpstreamQueue* const queue_;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_FORWARDER_H_
