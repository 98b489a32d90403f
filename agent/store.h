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
//   meta/last_ack_ms       decimal unix ms of the last acknowledgement
//
// Every change (an import, a hand-entered value, a batch of acks) is one
// synced WriteBatch, so a crash leaves all of it or none of it. A period's
// summary is recomputed only from the raw records of that period
// (incremental maintenance) and gets a new revision, max(previous + 1, now in
// unix ms), only when its cells change.
//
// The outbox is derived, not stored: a period is pending while its revision
// is above the acknowledged one and it was not rejected at that revision.
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
  std::vector<v1::RowProblem> warnings;      // outliers
};

class AgentStore final : public OutboxSource {
 public:
  // Opens or creates the store; errors as OpenDb's, kDataLoss for a corrupt
  // summary.
  static absl::StatusOr<std::unique_ptr<AgentStore>> Open(StoreOptions options);

  // Replaces the raw records of every month in `parsed` (for profile: the
  // answers of every (year, question) in it) and recomputes those periods.
  // Importing identical content changes nothing. kInvalidArgument if a
  // resulting summary is out of range (nothing stored).
  absl::StatusOr<ImportOutcome> ApplyImport(const ParsedImport& parsed);

  // Enters one value by hand for `period` ("YYYY-MM", or "YYYY" for annual
  // measures); it overrides the computed cell. kInvalidArgument / kNotFound
  // for a bad period, code or value.
  absl::StatusOr<v1::SetValueResponse> SetValue(const std::string& period,
                                                const std::string& code,
                                                const std::string& value);

  const Catalogue& catalogue() const { return *options_.catalogue; }

  // The current summary of `period`, as it would be sent; kNotFound if the
  // period has no data.
  absl::StatusOr<v1::UnitSummary> Summary(const std::string& period) const;
  // Every local period, in period order.
  std::vector<v1::PeriodState> States() const;
  // The last acknowledgement received (InfinitePast: never).
  absl::Time last_ack() const;
  // Blocks until nothing is pending (rejected periods do not count) or the
  // timeout passes; true if nothing is pending.
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
    bool pending() const {
      return summary.revision() > acked && rejected != summary.revision();
    }
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
  std::vector<v1::RowProblem> Outliers(const Staged& st)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Commit(Staged& st) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status StageImportRows(const ParsedImport& parsed, Staged& st,
                               ImportOutcome& out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status StageAnswers(const std::string& key, const Answers& answers,
                            Staged& st, ImportOutcome* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool DrainedLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
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
