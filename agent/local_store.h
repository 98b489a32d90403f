// The agent's local store (SPEC §4, §5): one RocksDB database, of which the
// agent daemon is the single writer, holding three rooms behind this thin
// facade, which the control service and the uploader call:
//   agent/raw_records.h  raw records by period and source
//   agent/summaries.h    the summaries and revisions derived from them,
//                        and holds for outlier review
//   agent/outbox.h       the outbox, acknowledgements and their marks
// and the on-disk format they share (agent/store_format.h), brought up to
// date at Open.
//
// Every change (an import, a hand-entered value, a batch of acks) is one
// synced WriteBatch across the rooms, so a crash leaves all of it or none
// of it.
//
// Hand-entered values (SetValue) are kept apart from imported records and
// override the computed cells; UnsetValue clears one. A retraction is a new
// revision with retracted = true and no cells; it deletes the period's local
// records, so a later import makes the period live again at a higher
// revision.
//
// A failed write (disk full, I/O error) changes nothing in memory and is
// reported; the change may or may not have reached the disk, and is never
// acknowledged. The next call that needs the database reopens it and
// reloads the rooms from it (common/store_db.h), so work resumes once the
// disk is back, without a restart; until then such calls fail with
// kUnavailable naming the directory, while the outbox goes on sending what
// it holds.
//
// Thread-safe: one mutex serialises writers and guards the rooms' in-memory
// indexes (loaded at Open) and the database's recovery.
#ifndef OHFED_AGENT_LOCAL_STORE_H_
#define OHFED_AGENT_LOCAL_STORE_H_

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/import_stage.h"
#include "agent/outbox.h"
#include "agent/raw_records.h"
#include "agent/records.h"
#include "agent/summaries.h"
#include "common/catalogue.h"
#include "common/clock.h"
#include "common/period.h"
#include "common/store_db.h"
#include "common/uploader.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::agent {

struct LocalStoreOptions {
  std::string dir;
  std::string trust;  // stamped on every summary sent
  std::shared_ptr<const Catalogue> catalogue = Catalogue::Default();
  Clock* clock = Clock::Real();  // must outlive the store
  // The RocksDB environment; nullptr: the default. A test seam for I/O
  // faults (tests/testing/fault_fs.h).
  rocksdb::Env* env = nullptr;
  // Memory for counting a month's distinct subject references before the
  // count spills to the staging directory (agent/activity_tally.h).
  size_t distinct_budget = TallyOptions().distinct_budget;
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

class LocalStore final : public OutboxSource {
 public:
  // Opens or creates the store, migrating an older on-disk format
  // (agent/store_format.h); errors as OpenDb's and PrepareStoreFormat's,
  // kDataLoss for a corrupt value or a database that cannot be recovered.
  //
  // A damaged database is recovered (common/db_recovery.h). When tables
  // were lost, every summary is checked against the raw records, the
  // source of truth: a period whose summary was lost, or differs from what
  // its records give, is recomputed at a new revision and so sent again; a
  // summary whose records are all gone is kept as it was (recomputing it
  // would retract the period), and a retracted period stays retracted.
  // Lost acknowledgements only cause a resend, which the aggregator answers
  // STALE. What was found and done is logged in one warning line, also
  // kept in recovery().
  static absl::StatusOr<std::unique_ptr<LocalStore>> Open(
      LocalStoreOptions options);

  // Replaces the raw records of every month in `records` (for profile: the
  // answers of every (year, question) in it) and recomputes those periods.
  // Importing identical content changes nothing. A changed period with
  // outlier warnings is held back from sending until Confirm, unless
  // `accept_outliers`; a hold stays until Confirm, Retract, or an import
  // with `accept_outliers` that changes the period. kInvalidArgument if a
  // resulting summary is out of range or contradicts a hand-entered value
  // (nothing stored).
  absl::StatusOr<ImportOutcome> ApplyImport(const ImportedRecords& records,
                                            bool accept_outliers = false);
  // ApplyImport for the activity rows of a streamed import, taken from
  // `stage` month by month: the same outcome, warnings and holds, in memory
  // bounded whatever the size of the file or of a month: each month is
  // sorted by the stage, written as chunks and counted as it streams by
  // (agent/activity_chunks.h, agent/activity_tally.h). The raw records are
  // not put in one WriteBatch: they are committed with the summaries by
  // ingesting files written in staging_dir() (common/rocksdb_bulk.h), as
  // atomically and durably.
  absl::StatusOr<ImportOutcome> ApplyActivityImport(
      ActivityStage& stage, bool accept_outliers = false);
  // Where an import keeps its temporary files (agent/import_stage.h): on
  // the database's filesystem, emptied at Open.
  const std::string& staging_dir() const { return staging_dir_; }

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
  // The line Open logged about a damaged database; empty if it was sound.
  const std::string& recovery() const { return recovery_; }

  // The current summary of `period`, as it would be sent; kInvalidArgument
  // for anything but a canonical "YYYY-MM" or "YYYY", kNotFound if the
  // period has no data.
  absl::StatusOr<v1::UnitSummary> Summary(const std::string& period) const;
  // The raw records of `period` (empty if it has none); kInvalidArgument as
  // Summary.
  absl::StatusOr<PeriodRecords> Records(const std::string& period) const;
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

  // A RocksDB integer property of the database (common/rocksdb_metrics.h);
  // 0 if unknown.
  uint64_t DbIntProperty(const std::string& name) const;
  // Whether the last write failed and the database has not recovered yet
  // (common/store_db.h): health and metrics report it.
  bool failing() const { return db_->failing(); }
  // If a write failed, reopens the database now, as the next write would
  // (common/store_recovery.h calls it); kUnavailable while it cannot.
  absl::Status Recover();
  // StoreDb::SetStateListener.
  void SetFailingListener(std::function<void(bool failing)> f) {
    db_->SetStateListener(std::move(f));
  }

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
  // Periods acknowledged above what the aggregator now holds become pending
  // again (Outbox::StageLost), durably; returns how many.
  absl::StatusOr<size_t> OnReceiverHolds(
      const std::vector<v1::Ack>& held) override;

 private:
  // One change being assembled across the rooms, in one batch.
  struct Change {
    rocksdb::WriteBatch batch;
    RawRecords::Staged raw{&batch};
    Summaries::Staged summaries{&batch};
    std::set<std::string> touched;  // periods whose records changed
  };

  LocalStore(LocalStoreOptions options, std::unique_ptr<StoreDb> db);
  absl::Status Load() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reopens the database if a write failed, and reloads the rooms from it;
  // kUnavailable if it still cannot be used.
  absl::Status Usable() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // After tables were lost (Open): recomputes the periods whose summary
  // disagrees with their raw records; says what it did, for the log line.
  absl::StatusOr<std::string> RebuildSummaries();

  absl::Status Recompute(const std::string& period, Change& c)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status StageImportRows(const ImportedRecords& records, Change& c,
                               ImportOutcome& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Commit(Change& c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The tail of both imports: which periods changed, outlier and hidden
  // value warnings (`hidden` for the periods already recomputed), holds.
  absl::Status FinishImport(Change& c, bool accept_outliers,
                            std::vector<v1::RowProblem> hidden,
                            ImportOutcome& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Month CurrentMonth() const {
    return Month::Containing(options_.clock->Now());
  }
  v1::UnitSummary Stamped(const v1::UnitSummary& s) const;
  TallyOptions Tally() const {
    return {staging_dir_, options_.distinct_budget};
  }

  const LocalStoreOptions options_;
  const std::string staging_dir_;
  mutable absl::Mutex mu_;
  // Used, written and recovered only under mu_; the rooms keep its address,
  // which a reopen does not change.
  const std::unique_ptr<StoreDb> db_;
  RawRecords raw_ ABSL_GUARDED_BY(mu_);
  Summaries summaries_ ABSL_GUARDED_BY(mu_);
  Outbox outbox_ ABSL_GUARDED_BY(mu_);
  bool waits_cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::string recovery_;  // set once, in Open
};

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_LOCAL_STORE_H_
