// What an aggregator's store remembers of a recovery from damage (SPEC §5,
// common/db_recovery.h): when it happened, and which trusts' agents have
// confirmed their data since. Until a trust is confirmed, views that
// include it are flagged as possibly partial (View::Unconfirmed): units
// lost with a damaged table are missing, and a unit may show an older
// revision than its agent had acknowledged.
//
// How a trust is confirmed: its agent asks Ingest.Feedback after every
// completed sync, and the answer lists the revisions held here; the agent
// resends every unit held below what it had acknowledged, then, once that
// sync has completed, asks again. So the second Feedback for a trust since
// this process started confirms it. Trusts whose agent does not come back
// within kConfirmWindow stop being flagged: completeness then shows them
// as silent, as for any agent that went away.
//
// Keys "m/damaged" and "m/confirmed/<trust>" (aggregator/codec.h), written
// synced. Thread-safe; its lock is a leaf, so snapshots may ask at any
// time.
#ifndef OHFED_AGGREGATOR_STORE_RECOVERY_H_
#define OHFED_AGGREGATOR_STORE_RECOVERY_H_

#include <rocksdb/db.h>

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "aggregator/view.h"
#include "common/clock.h"

namespace ohfed::aggregator {

inline constexpr absl::Duration kConfirmWindow = absl::Hours(24 * 31);

class StoreRecovery : public RecoveryConfirmations {
 public:
  // `db` and `clock` must outlive it.
  StoreRecovery(rocksdb::DB* db, Clock* clock) : db_(db), clock_(clock) {}

  // Reads the last recovery and the confirmations since; kDataLoss for a
  // malformed record.
  absl::Status Load();
  // Records a recovery now, described by `what`: every trust is
  // unconfirmed again.
  absl::Status MarkDamaged(absl::string_view what);
  // The trust's agent asked Feedback; confirms it at the second time (see
  // above). A write error is returned and nothing changes.
  absl::Status OnFeedback(absl::string_view trust);

  // RecoveryConfirmations.
  bool Unconfirmed(absl::string_view trust) const override;
  std::string Note() const override;

 private:
  bool Active() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  rocksdb::DB* const db_;
  Clock* const clock_;
  mutable absl::Mutex mu_;
  int64_t damaged_ms_ ABSL_GUARDED_BY(mu_) = 0;  // 0: never damaged
  std::string what_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> confirmed_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> asked_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_STORE_RECOVERY_H_
