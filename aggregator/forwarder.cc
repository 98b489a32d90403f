#include "aggregator/forwarder.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/transport.h"

namespace ohfed::aggregator {

absl::StatusOr<std::vector<v1::UnitSummary>> Forwarder::Pending(size_t max) {
  // One message's worth is all the uploader can send at once.
  return queue_->PendingUpstream(max, kMaxMessageBytes, {});
}

absl::StatusOr<std::vector<v1::UnitSummary>> Forwarder::PendingExcept(
    size_t max, const UnitKeys& in_flight) {
  // An OutboxKey is the store's UnitId: the units in flight are skipped
  // without being read.
  return queue_->PendingUpstream(max, kMaxMessageBytes, in_flight);
}

absl::StatusOr<std::vector<SerializedSummary>> Forwarder::PendingSerialized(
    size_t max, const UnitKeys& in_flight) {
  return queue_->PendingUpstreamSerialized(max, kMaxMessageBytes, in_flight);
}

absl::Status Forwarder::OnAcks(const std::vector<v1::Ack>& acks) {
  std::vector<UpstreamReply> replies;
  for (const v1::Ack& ack : acks) {
    UpstreamReply reply{.trust = ack.trust(),
                        .period = ack.period(),
                        .revision = ack.revision()};
    if (ack.outcome() == v1::OUTCOME_REJECTED) {
      LogWarning(absl::StrCat("not forwarded: ", ack.trust(), " ", ack.period(),
                              " revision ", ack.revision(), ": ",
                              ack.reason()));
      reply.refused = true;
      reply.reason = ack.reason().substr(0, kMaxReasonBytes);
    } else if (ack.outcome() != v1::OUTCOME_ACCEPTED &&
               ack.outcome() != v1::OUTCOME_STALE) {
      continue;  // unspecified: nothing learnt
    }
    replies.push_back(std::move(reply));
  }
  if (replies.empty()) return absl::OkStatus();
  return queue_->RecordUpstream(replies);
}

absl::StatusOr<size_t> Forwarder::OnReceiverHoldsFor(
    absl::string_view trust, const std::vector<v1::Ack>& held) {
  absl::flat_hash_map<std::string, uint64_t> holds;
  for (const v1::Ack& h : held) {
    if (h.trust() != trust) continue;
    uint64_t& revision = holds[h.period()];
    revision = std::max<uint64_t>(revision, h.held_revision());
  }
  return queue_->RequeueLostUpstream(trust, holds);
}

std::string Forwarder::RefusalReason(absl::string_view trust,
                                     absl::string_view period) const {
  return queue_->UpstreamRefusalOf(trust, period);
}

std::vector<v1::Ack> Forwarder::Refused(absl::string_view trust) const {
  std::vector<v1::Ack> out;
  for (const UpstreamReply& r : queue_->RefusedUpstream(trust)) {
    v1::Ack ack;
    ack.set_trust(r.trust);
    ack.set_period(r.period);
    ack.set_revision(r.revision);
    ack.set_outcome(v1::OUTCOME_REJECTED);
    ack.set_reason(r.reason);
    ack.set_held_revision(r.revision);
    out.push_back(std::move(ack));
  }
  return out;
}

}  // namespace ohfed::aggregator
