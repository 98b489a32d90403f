// The agent's store (SPEC §4, §5): raw records, per-period summaries with
// revisions, and the outbox marks, in one RocksDB database of which the
// agent daemon is the single writer.
//
// Key encoding (all keys are text; periods sort "2026" < "2026-01"):
//   raw/<period>/<source>  canonical JSON of one source's raw records
//                          (agent/records.h); source = staffing | activity |
//                          profile | manual. Never leaves the agent.
//   sum/<period>           v1::UnitSummary, binary: the current summary and
//                          its revision, exactly as it is sent
//   ack/<period>           JSON {"acked": rev, "rejected": rev, "reason": s}
//   hold/<period>          why the period is held back from sending (outlier
//                          warnings of an import), until Confirm
//   meta/last_ack_ms       decimal unix ms of the last acknowledgement
//
// Every change (an import, a hand-entered value, a batch of acks) is one
// synced WriteBatch, so a crash leaves all of it or none of it. A period's
// summary is recomputed only from the raw records of that period
// (incremental maintenance) and gets a new revision, max(previous + 1, now in
// unix ms), only when its cells change.
//
// The outbox is derived, not stored: a period is pending while its revision
// is above the acknowledged one, it was not rejected at that revision, it is
// not held for outlier review, and (for a month) the month has ended by the
// store's clock (SPEC §4: the current month stays local). Annual periods
// ("YYYY", the profile) are sent at once. Nothing wakes the uploader when a
// month ends: its idle poll finds the month then.
//
// Hand-entered values (SetValue) are kept apart from imported records and
// override the computed cells; UnsetValue clears one. A retraction is a new
// revision with retracted = true and no cells; it deletes the period's local
// records, so a later import makes the period live again at a higher
// revision. A period left with no cells at all (its last hand-entered value
// cleared) is retracted in the same way.
//
// Thread-safe: one mutex serialises writers and guards the in-memory index
// of every period's summary and marks (loaded at Open).
#ifndef OHFED_AGENT_STORE_H_
#define OHFED_AGENT_STORE_H_

#include <rocksdb/db.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/importer.h"
#include "common/catalogue.h"
#include "common/clock.h"
#include "common/period.h"
#include "common/uploader.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::agent {

struct StoreOptions {
  std::string dir;
  std::string trust;  // stamped on every summary sent
  std::shared_ptr<const Catalogue> catalogue = Catalogue::Default();
  Clock* clock = Clock::Real();  // must outlive the store
};

struct ImportOutcome {
  uint32_t rows_imported = 0;   // rows of months (or answers) that changed
  uint32_t rows_unchanged = 0;  // rows already stored identically
  std::vector<std::string> periods_changed;  // summaries with a new revision
  // Outliers, then hand-entered values that hide a different imported figure.
  std::vector<v1::RowProblem> warnings;
  std::vector<std::string> periods_held;  // held back for outlier review
};

// The answer to UnsetValue, Retract and Confirm.
struct PeriodChange {
  uint64_t revision = 0;  // the period's revision afterwards
  bool changed = false;   // false: nothing to do
};

class AgentStore final : public OutboxSource {
 public:
  // Opens or creates the store; errors as OpenDb's, kDataLoss for a corrupt
  // summary.
  static absl::StatusOr<std::unique_ptr<AgentStore>> Open(StoreOptions options);

  // Replaces the raw records of every month in `parsed` (for profile: the
  // answers of every (year, question) in it) and recomputes those periods.
  // Importing identical content changes nothing. A changed period with
  // outlier warnings is held back from sending until Confirm, unless
  // `accept_outliers`; a hold stays until Confirm, Retract, or an import
  // with `accept_outliers` that changes the period. kInvalidArgument if a
  // resulting summary is out of range or contradicts a hand-entered value
  // (nothing stored).
  absl::StatusOr<ImportOutcome> ApplyImport(const ParsedImport& parsed,
                                            bool accept_outliers = false);

  // Enters one value by hand for `period` ("YYYY-MM", or "YYYY" for annual
  // measures); it overrides the computed cell. kInvalidArgument / kNotFound
  // for a bad period, code or value; kInvalidArgument for an activity count
  // below the events its wait-time distribution holds (agent/overrides.h).
  // Outlier warnings are returned but never hold the period: the value was
  // typed on purpose.
  absl::StatusOr<v1::SetValueResponse> SetValue(const std::string& period,
                                                const std::string& code,
                                                const std::string& value);
  // Clears a hand-entered value; the period goes back to what its records
  // give. changed = false if `code` was not entered by hand for it.
  // kInvalidArgument for a malformed period, kNotFound for an unknown code
  // or a period without data.
  absl::StatusOr<PeriodChange> UnsetValue(const std::string& period,
                                          const std::string& code);
  // Withdraws a period: a new revision with retracted = true and no cells,
  // sent like any other; the period's local records are deleted. changed =
  // false if already retracted. kInvalidArgument / kNotFound as UnsetValue.
  absl::StatusOr<PeriodChange> Retract(const std::string& period);
  // Releases a period held for outlier review. changed = false if it was
  // not held. kInvalidArgument / kNotFound as UnsetValue.
  absl::StatusOr<PeriodChange> Confirm(const std::string& period);

  const Catalogue& catalogue() const { return *options_.catalogue; }

  // The current summary of `period`, as it would be sent; kInvalidArgument
  // for anything but a canonical "YYYY-MM" or "YYYY", kNotFound if the
  // period has no data.
  absl::StatusOr<v1::UnitSummary> Summary(const std::string& period) const;
  // Every local period: in time order, a year after its months (2026-01 ..
  // 2026-12, then 2026), as a manager reads a year's return after the year.
  std::vector<v1::PeriodState> States() const;
  // The last acknowledgement received (InfinitePast: never).
  absl::Time last_ack() const;
  // Blocks until nothing is pending (rejected, held and open periods do not
  // count) or the timeout passes; true if nothing is pending.
  bool AwaitDrained(absl::Duration timeout);
  // Releases every AwaitDrained now and in future (shutdown).
  void CancelWaits();
  bool waits_cancelled() const;

  // OutboxSource.
  absl::StatusOr<std::vector<v1::UnitSummary>> Pending(size_t max) override;
  // An ack with held_revision above the period's current revision (the
  // aggregator holds newer data: a restored backup, a clock gone back)
  // reasserts the period as revision held + 1, noted in its state's reason.
  absl::Status OnAcks(const std::vector<v1::Ack>& acks) override;
  // Replaces what the aggregator reported as refused further up (in memory
  // only: it is asked again after every sync); shown in States() as
  // upstream_reason for the period's current revision.
  absl::Status OnUpstreamFeedback(const std::vector<v1::Ack>& refused) override;

 private:
  struct PeriodInfo {
    v1::UnitSummary summary;  // trust is stamped when read
    uint64_t acked = 0;
    uint64_t rejected = 0;  // the revision the reason applies to
    std::string reason;
    std::string held;                 // why held back; empty: not held
    std::vector<std::string> manual;  // codes entered by hand, sorted
    bool unacked() const { return summary.revision() > acked; }
    // Sendable now: `current` is the month containing the store's clock.
    bool pending(Month current) const;
  };
  struct Staged;  // one change being assembled; see store.cc

  AgentStore(StoreOptions options, std::unique_ptr<rocksdb::DB> db)
      : options_(std::move(options)), db_(std::move(db)) {}
  absl::Status Load();

  absl::StatusOr<std::string> ReadRaw(Staged& st, const std::string& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<PeriodRecords> LoadRecords(Staged& st, const std::string& period)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Recompute(Staged& st, const std::string& period)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stages `next` as the period's new summary in `info` (previously its
  // entry): a new revision number, produced now, written with the change.
  void StageRevision(Staged& st, const std::string& period, PeriodInfo info,
                     v1::UnitSummary next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StageHold(Staged& st, const std::string& period, std::string reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The period's staged or stored entry; nullptr if it has no data.
  const PeriodInfo* Find(const Staged& st, const std::string& period) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Outlier warnings for the staged periods; `flagged` (if given) receives
  // each period's warning reasons.
  using PeriodWarnings = std::map<std::string, std::vector<std::string>>;
  std::vector<v1::RowProblem> Outliers(const Staged& st,
                                       PeriodWarnings* flagged = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Commit(Staged& st) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status StageImportRows(const ParsedImport& parsed, Staged& st,
                               ImportOutcome& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status StageAnswers(const std::string& key, const Answers& answers,
                            Staged& st, ImportOutcome* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool DrainedLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  Month CurrentMonth() const {
    return Month::Containing(options_.clock->Now());
  }
  v1::UnitSummary Stamped(const v1::UnitSummary& s) const;

  const StoreOptions options_;
  mutable absl::Mutex mu_;
  std::unique_ptr<rocksdb::DB> db_;  // written only under mu_
  std::map<std::string, PeriodInfo> periods_ ABSL_GUARDED_BY(mu_);
  int64_t last_ack_ms_ ABSL_GUARDED_BY(mu_) = 0;
  bool waits_cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // Upstream refusals by period: (revision, reason).
  std::map<std::string, std::pair<uint64_t, std::string>> upstream_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_STORE_H_
