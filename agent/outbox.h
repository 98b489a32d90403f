// The agent's outbox and acknowledgements (SPEC §4, §5): what the
// aggregator answered for each period, the last acknowledgement, and the
// refusals reported from further up.
//
// The outbox is derived, not stored: a period is pending while its revision
// is above the acknowledged one, it was not rejected at that revision, it
// is not held for outlier review, and (for a month) the month has ended by
// the clock (SPEC §4: the current month stays local). Annual periods
// ("YYYY", the profile) are sent at once. Nothing wakes the uploader when a
// month ends: its idle poll finds the month then.
//
// Keys: ack/<period> and meta/last_ack (agent/store_format.h). Acks are
// staged in a Staged and take effect at Apply, once the caller has written
// the batch. Not thread-safe: the owner serialises calls.
#ifndef OHFED_AGENT_OUTBOX_H_
#define OHFED_AGENT_OUTBOX_H_

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/summaries.h"
#include "common/clock.h"
#include "common/period.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::agent {

// What the aggregator answered for one period.
struct Marks {
  uint64_t acked = 0;     // highest revision acknowledged
  uint64_t rejected = 0;  // the revision `reason` applies to
  std::string reason;     // a rejection, or a note (a reassertion)
};

class Outbox {
 public:
  // The acks of one response being applied.
  struct Staged {
    std::map<std::string, Marks> marks;
    // Periods to reassert: the revision their summary must take.
    std::map<std::string, uint64_t> reassert;
    int64_t now_ms = 0;
  };

  // Acks for other trusts are ignored. `clock` must outlive the outbox.
  Outbox(rocksdb::DB* db, std::string trust, Clock* clock)
      : db_(db), trust_(std::move(trust)), clock_(clock) {}

  // Reads every period's marks and the last ack time; kDataLoss for a
  // corrupt value.
  absl::Status Load();

  // Sendable now: `current` is the month containing the clock.
  bool IsPending(const std::string& period, const PeriodSummary& entry,
                 Month current) const;
  // Up to `max` pending summaries (without trust), oldest change first.
  std::vector<v1::UnitSummary> Pending(const Summaries& summaries,
                                       Month current, size_t max) const;
  // Nothing pending (rejected, held and open periods do not count).
  bool Drained(const Summaries& summaries, Month current) const;
  // The period's state as `ohfed status` shows it.
  v1::PeriodState State(const std::string& period, const PeriodSummary& entry,
                        Month current) const;

  // Stages `acks` against the current summaries into `batch`. An ack with
  // held_revision above the period's current revision (the aggregator
  // holds newer data: a restored backup, a clock gone back) asks for a
  // reassertion as revision held + 1, noted in the period's reason; the
  // caller stages it in the summaries (Staged::reassert). Empty acks stage
  // nothing.
  Staged StageAcks(const std::vector<v1::Ack>& acks, const Summaries& summaries,
                   rocksdb::WriteBatch* batch) const;
  // Stages, for every period acknowledged above the revision the receiver
  // now holds by `held` (Feedback.held; absent: 0), its acknowledged
  // revision lowered to that, so the period is pending again. Periods
  // without a summary are left alone.
  Staged StageLost(const std::vector<v1::Ack>& held, const Summaries& summaries,
                   rocksdb::WriteBatch* batch) const;
  void Apply(Staged& st);

  // Replaces the refusals reported from further up (in memory only: asked
  // again after every sync).
  void SetUpstreamRefusals(const std::vector<v1::Ack>& refused);

  // The last acknowledgement received (InfinitePast: never).
  absl::Time last_ack() const;

 private:
  const Marks& MarksOf(const std::string& period) const;

  rocksdb::DB* const db_;
  const std::string trust_;
  Clock* const clock_;
  std::map<std::string, Marks> marks_;
  int64_t last_ack_ms_ = 0;
  // Upstream refusals by period: (revision, reason).
  std::map<std::string, std::pair<uint64_t, std::string>> upstream_;
};

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_OUTBOX_H_
