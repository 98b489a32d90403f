// The seam between a regional aggregator's forwarder (aggregator/forwarder.h)
// and the store that holds what it forwards (aggregator/summary_store.h):
// which held summaries upstream still needs, and what upstream said about
// the ones it was sent (SPEC §5).
//
// The store implements it and keeps the upstream state beside the units, in
// its own keys, so that forwarding resumes where it stopped after a restart
// or an upstream outage. The forwarder speaks the protocol (message sizes,
// what each Ack outcome means) and depends only on this interface.
#ifndef OHFED_AGGREGATOR_UPSTREAM_QUEUE_H_
#define OHFED_AGGREGATOR_UPSTREAM_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/summary_wire.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator {

// What upstream said about one revision of a unit: it holds it (accepted, or
// stale because it holds a newer one), or it refused it.
struct UpstreamReply {
  std::string trust;
  std::string period;
  uint64_t revision = 0;
  bool refused = false;
  std::string reason;  // why it refused; empty unless refused
};

// What is kept per unit from upstream's replies.
struct UpstreamRecord {
  uint64_t acked_revision = 0;     // highest revision upstream holds
  uint64_t rejected_revision = 0;  // revision upstream refused, 0 if none
  // Upstream's reason for the refusal, or the uploader's "too large to send".
  std::string reason;
};

// Implementations are thread-safe.
class UpstreamQueue {
 public:
  virtual ~UpstreamQueue() = default;

  // The held summaries upstream has neither acknowledged nor refused at
  // their held revision, in (trust, period) order, as held (same trust,
  // period, revision, cells, retraction) and stamped with the time this
  // aggregator first received the unit (first_received_unix_ms), so that
  // timeliness upstream is measured at the first receipt. At most `max`,
  // and no more than fit in `max_bytes` serialized, except that the first
  // is returned whatever its size. Units whose UnitId ("trust/period") is
  // in `skip` (in flight upstream) are left out without being read. Empty
  // if nothing is pending. kDataLoss for an unreadable record, kUnavailable
  // for I/O.
  virtual absl::StatusOr<std::vector<v1::UnitSummary>> PendingUpstream(
      size_t max, size_t max_bytes,
      const absl::flat_hash_set<std::string>& skip) const = 0;
  // The same summaries serialized, as they are sent, each with its trust,
  // period and revision: the SummaryStore hands out the bytes it stored with
  // first_received_unix_ms appended (common/summary_wire.h), neither parsed
  // nor serialized again; sizes are the bytes'. The default serializes
  // PendingUpstream's.
  virtual absl::StatusOr<std::vector<SerializedSummary>>
  PendingUpstreamSerialized(
      size_t max, size_t max_bytes,
      const absl::flat_hash_set<std::string>& skip) const {
    absl::StatusOr<std::vector<v1::UnitSummary>> pending =
        PendingUpstream(max, max_bytes, skip);
    if (!pending.ok()) return pending.status();
    return SerializeSummaries(*pending);
  }
  // How many held units are pending upstream.
  virtual size_t PendingUpstreamCount() const = 0;

  // Records `replies` (refusals synced; acks may wait for the next synced
  // write: lost, a unit is resent and answered STALE), then in memory: a unit
  // whose held revision upstream holds or refused stops being pending. A later
  // reply replaces a refusal. On error (kUnavailable) nothing changes.
  virtual absl::Status RecordUpstream(
      const std::vector<UpstreamReply>& replies) = 0;

  // Upstream's reason for refusing the revision of (trust, period) held now;
  // empty if it did not (a refusal of an older revision no longer counts).
  virtual std::string UpstreamRefusalOf(absl::string_view trust,
                                        absl::string_view period) const = 0;
  // Every unit of `trust` whose held revision upstream refused, by period.
  virtual std::vector<UpstreamReply> RefusedUpstream(
      absl::string_view trust) const = 0;
  // How many held units upstream refused at their held revision.
  virtual size_t RefusedUpstreamCount() const = 0;
  // The record for one unit; all zero if upstream never replied about it.
  virtual UpstreamRecord UpstreamRecordOf(absl::string_view trust,
                                          absl::string_view period) const = 0;

  // The trusts with units held here, in order: whose units upstream is
  // asked about after it may have lost some (Ingest.Feedback).
  virtual std::vector<std::string> UpstreamTrusts() const = 0;
  // What upstream now holds of `trust`: every unit's revision by period
  // (absent: none). Each held unit that upstream had acknowledged above what
  // it now holds (its store was damaged and recovered) gets its record
  // lowered to that, durably, and so is pending again unless upstream
  // refused the held revision. Returns how many. On error (kUnavailable for
  // I/O) nothing changes.
  virtual absl::StatusOr<size_t> RequeueLostUpstream(
      absl::string_view trust,
      const absl::flat_hash_map<std::string, uint64_t>& upstream_holds) = 0;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_UPSTREAM_QUEUE_H_
