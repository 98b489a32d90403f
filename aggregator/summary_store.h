// The aggregator's durable store: per (trust, period) the highest revision of
// the unit summary received, in RocksDB (layout in aggregator/codec.h) and
// mirrored in an in-memory Index loaded at Open, which also holds the rollups
// per node. Rollups are derived data and are not stored: Open computes them
// from the units, and each commit moves them incrementally, so after any
// crash they equal a rebuild.
//
// Writes use group commit, the only grouping on the ingest path: every
// commit (CommitAsync, or Commit/CommitReceived, which wait for it) queues
// its summaries, prepared on the caller's thread; a committing thread (a
// small pool of the store's own) takes everything queued once the commit
// before has finished, decides accepted/stale against what is held, writes
// the unit records in one WriteBatch with the WAL synced, then applies them
// to its working copy of the index, publishes a copy of that, and answers
// each caller. A caller is therefore answered only once its summaries are
// durable, and readers never see anything that is not.
//
// Readers never wait for a commit, nor a commit for them: Read() runs on the
// published immutable version of the index (aggregator/index.h), which taking
// costs one reference count under a lock held only for that; a commit
// copies only the maps of the periods and the rollup blocks of the nodes it
// changes.
// A retraction (UnitSummary.retracted) is a revision like any other: it is
// held as a tombstone (the "u/" record, without cells) so that older
// revisions stay stale, but the unit leaves the index and every rollup, and
// no View shows it.
//
// It also keeps, for a regional aggregator's forwarder, what upstream still
// needs and what it replied (UpstreamQueue, aggregator/upstream_queue.h):
// the replies in their own keys beside the units, the pending set in an
// UpstreamLedger kept current by every commit. Its Views report upstream's
// refusals of held revisions (View::UpstreamReason). All keys are its own.
//
// A failed write (disk full, I/O error) publishes nothing and acknowledges
// nothing; the next write reopens the database and reloads what is held
// from it (common/store_db.h), so work resumes once the disk is back,
// without a restart. Queries go on answering from memory meanwhile.
//
// Thread-safe. Readers use Read().
#ifndef OHFED_AGGREGATOR_SUMMARY_STORE_H_
#define OHFED_AGGREGATOR_SUMMARY_STORE_H_

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/write_batch.h>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "aggregator/coverage.h"
#include "aggregator/disclosure_pattern.h"
#include "aggregator/index.h"
#include "aggregator/store_recovery.h"
#include "aggregator/unit_cells.h"
#include "aggregator/upstream_ledger.h"
#include "aggregator/upstream_queue.h"
#include "aggregator/work_pool.h"
#include "common/catalogue.h"
#include "common/clock.h"
#include "common/db_recovery.h"
#include "common/disclosure.h"
#include "common/registry.h"
#include "common/store_db.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator {

struct SummaryStoreOptions {
  // The catalogue versions known: the current one, which queries use, and
  // older ones still accepted at ingest. Default: the embedded catalogue.
  std::shared_ptr<const CatalogueVersions> catalogues;
  std::shared_ptr<const RegistryHistory> registry;  // default: England
  Clock* clock = nullptr;                           // default: Real()
  // How long a committing turn waits for more writers before it takes its
  // group. 0 relies on the commit before to let writers pile up (as LevelDB
  // does); a few ms trades latency for fewer syncs (PostgreSQL's
  // commit_delay).
  absl::Duration group_commit_delay = absl::ZeroDuration();
  // What the aggregator covers (`--covers`): ingest refuses summaries of
  // trusts outside it and queries refuse scopes outside it.
  Coverage coverage;  // default: everything
  // Disclosure control thresholds for every query answered from this store.
  DisclosureOptions disclosure;
  // Threads that commit: two let one take the next group as soon as the
  // commit before it is published while the other still answers its
  // callers.
  int commit_threads = 2;
  // The RocksDB environment; nullptr: the default. A test seam for I/O
  // faults.
  rocksdb::Env* env = nullptr;
  // Its records are read back only as it opens (an aggregator with no
  // upstream): the database's memtable is a vector
  // (DbFootprint::kServerWriteMostly). PendingUpstream still works, each
  // call sorting a copy of the memtable.
  bool write_mostly = false;
};

// What an operator may replace while the store serves (Reconfigure, on
// SIGHUP): the reference data and the disclosure thresholds.
struct ReferenceData {
  std::shared_ptr<const CatalogueVersions> catalogues;  // required
  std::shared_ptr<const RegistryHistory> registry;      // required
  DisclosureOptions disclosure;
};

// Counters for metrics; a snapshot.
struct SummaryStoreStats {
  uint64_t summaries_accepted = 0;
  uint64_t summaries_stale = 0;
  uint64_t summaries_rejected = 0;  // counted by the ingest service
  uint64_t batches_received = 0;    // likewise
  uint64_t bytes_received = 0;      // likewise, serialized batch size
  uint64_t commits = 0;             // synced write batches
  uint64_t bytes_written = 0;       // payload of those batches
  uint64_t units_held = 0;
};

class SummaryStore : public UpstreamQueue {
 public:
  // Opens or creates the database in `dir` and loads the index. If the
  // registry history places trusts differently, in any of its versions, from
  // the one the stored rollups were built with (a version added, removed or
  // changed), rebuilds them (see registry_changed_at_open()). Errors
  // from OpenDb, or kDataLoss for an unreadable record or a database that
  // cannot be recovered.
  //
  // A damaged database is recovered (common/db_recovery.h); then the
  // rollups are rebuilt from the units that survived, and the recovery is
  // recorded (aggregator/store_recovery.h): until each trust's agent has
  // compared its acknowledged revisions with HeldOf() and resent what was
  // lost, views flag the trust as unconfirmed. What was found and done is
  // logged in one warning line, also kept in recovery_report().
  static absl::StatusOr<std::unique_ptr<SummaryStore>> Open(
      const std::string& dir, SummaryStoreOptions options);
  ~SummaryStore() override;
  SummaryStore(const SummaryStore&) = delete;
  SummaryStore& operator=(const SummaryStore&) = delete;

  // A summary to commit as ingest received it, without copying it: the
  // caller keeps *summary (and `received`) until CommitReceived returns.
  struct Incoming {
    const v1::UnitSummary* summary = nullptr;
    // Whether summary->first_received_unix_ms is a forwarding (regional)
    // aggregator's receipt time; if not, it is ignored and not stored.
    bool forwarded = true;
    // *summary serialized as it arrived, if known: bytes that parse to it,
    // with no unknown fields. Stored as they are when nothing of the
    // summary is dropped (codec.h EncodeUnit), saving a serialization.
    absl::string_view received;
    // Set when the summary's cells were read from `received` rather than
    // parsed (aggregator/submit_reader.h): `*summary` then holds every
    // field but its cells, which are these views into `received`. Only for
    // a summary stored as it arrived: `received` set, not a retraction
    // with cells, and first_received_unix_ms 0 unless `forwarded`.
    std::optional<absl::Span<const CellView>> read_cells;
  };

  // Makes `summaries` (already validated) durable, with group commit.
  // Returns one outcome per summary, in order: ACCEPTED if it is now held
  // (or was superseded within the same commit), STALE if an equal or newer
  // revision was held. On a write error nothing is published and the error
  // (kUnavailable for I/O) is returned.
  //
  // A forwarded summary's first_received_unix_ms (set by a regional
  // aggregator) stands for the unit's first receipt when it is earlier than
  // this store's own, clamped to not after now.
  absl::StatusOr<std::vector<v1::Outcome>> CommitReceived(
      absl::Span<const Incoming> summaries);
  // CommitReceived of `summaries`, each forwarded, serialized here.
  absl::StatusOr<std::vector<v1::Outcome>> Commit(
      const std::vector<v1::UnitSummary>& summaries);

  // What a commit answers: per summary, in order, its outcome (as
  // CommitReceived) and the revision of its unit held once the commit was
  // made (a STALE summary's sender goes above it).
  struct Committed {
    std::vector<v1::Outcome> outcomes;
    std::vector<uint64_t> held_revisions;
  };
  using CommitDone = std::function<void(absl::StatusOr<Committed>)>;
  // CommitReceived without waiting: queues the summaries (prepared on this
  // thread) for the next group commit; `done` runs once they are durable,
  // or with the commit's error. The caller keeps the summaries (and their
  // received bytes) until then. When no commit is under way or waiting
  // (and there is no group_commit_delay), this thread leads the group itself
  // (no hand-off to another thread on the path of a lone batch): the commit,
  // and `done` for every batch of the group, run here before CommitAsync
  // returns. Otherwise it returns at once and `done` runs on a committing
  // thread. `done` should be quick: it delays that thread's next group. An
  // empty batch is answered at once, on this thread. `more_follow`: the caller
  // is about to queue another batch (it must, with more_follow false): this one
  // only joins the queue, so that the batches the caller has ready share one
  // group rather than the first leading a group of its own.
  void CommitAsync(absl::Span<const Incoming> summaries, CommitDone done,
                   bool more_follow = false);
  // CommitAsync, waiting for its answer.
  absl::StatusOr<Committed> CommitAndWait(absl::Span<const Incoming> summaries);

  // Recomputes every rollup from the held units and publishes them (Open
  // already does; kept for --rebuild-rollups and consistency checks).
  absl::Status Rebuild();

  // Puts `next` in force while serving (SIGHUP). Waits for the commit in
  // progress and holds off the next; if `next.registry` places any trust
  // differently in any month from the history the rollups were built with
  // (a version added, removed or changed), recomputes every rollup and
  // writes them, with the new fingerprint, in one synced batch, before any
  // reader sees the new registry. Snapshots taken before keep what they had.
  // Returns whether the rollups were rebuilt. kInvalidArgument for bad
  // disclosure thresholds, kUnavailable for a write error: either way
  // nothing changes.
  absl::StatusOr<bool> Reconfigure(ReferenceData next);

  // Calls f(const View&) on a snapshot of what is held now and returns its
  // result. No lock is held while f runs, so a long f delays no commit, and
  // commits made meanwhile do not change what f sees. The View is valid only
  // inside f.
  template <class F>
  auto Read(F&& f) const {
    std::shared_ptr<const View> snapshot = Snapshot();
    return f(*snapshot);
  }
  // The snapshot Read() uses: the version published by the last change; it
  // stays valid, and unchanged, for as long as it is held. Two calls with no
  // change between return the same object.
  std::shared_ptr<const View> Snapshot() const;

  // What a query reads: a snapshot (as Snapshot()) and the cache of the
  // secondary-suppression patterns of the data it holds (QueryOptions::
  // patterns). The cache is the same object until what is held next
  // changes, so queries on unchanged data (a dashboard's pages, repeated
  // `ohfed query` calls) compute each measure's pattern once, not once each.
  struct QuerySnapshot {
    std::shared_ptr<const View> view;
    std::shared_ptr<PatternCache> patterns;
  };
  QuerySnapshot SnapshotForQuery() const;

  // Called after each successful commit that changed what is held (and so
  // perhaps what is pending upstream), outside the store's locks, possibly
  // from several committing threads at once. It must not call Commit.
  void SetCommitListener(std::function<void()> f);

  // UpstreamQueue (aggregator/upstream_queue.h).
  absl::StatusOr<std::vector<SerializedSummary>> PendingUpstreamSerialized(
      size_t max, size_t max_bytes,
      const absl::flat_hash_set<std::string>& skip) const override;
  absl::StatusOr<std::vector<v1::UnitSummary>> PendingUpstream(
      size_t max, size_t max_bytes,
      const absl::flat_hash_set<std::string>& skip) const override;
  size_t PendingUpstreamCount() const override;
  absl::Status RecordUpstream(
      const std::vector<UpstreamReply>& replies) override;
  std::string UpstreamRefusalOf(absl::string_view trust,
                                absl::string_view period) const override;
  std::vector<UpstreamReply> RefusedUpstream(
      absl::string_view trust) const override;
  size_t RefusedUpstreamCount() const override;
  UpstreamRecord UpstreamRecordOf(absl::string_view trust,
                                  absl::string_view period) const override;
  std::vector<std::string> UpstreamTrusts() const override;
  absl::StatusOr<size_t> RequeueLostUpstream(
      absl::string_view trust,
      const absl::flat_hash_map<std::string, uint64_t>& upstream_holds)
      override;

  // Gives back what a burst of ingest leaves allocated and a quiet store
  // does not need (aggregator/heap_keeper.h): the commit's kept WriteBatch
  // buffer, and the memtables, flushed to disk if they hold at least
  // `min_memtable_bytes` (below, a flush would only add a small file). A
  // commit meanwhile waits for the flush. Does nothing to a failing store.
  absl::Status ReleaseIdleMemory(size_t min_memtable_bytes = 1 << 20);

  // A RocksDB integer property of the database (common/rocksdb_metrics.h);
  // 0 if unknown.
  uint64_t DbIntProperty(const std::string& name) const;
  // Whether a write failed and the database has not recovered yet
  // (common/store_db.h): health and metrics report it.
  bool failing() const { return db_->failing(); }
  // If a write failed, reopens the database now, as the next write would
  // (the store watch in aggregator.cc calls it); kUnavailable while it cannot.
  absl::Status Recover();
  // StoreDb::SetStateListener.
  void SetFailingListener(std::function<void(bool failing)> f) {
    db_->SetStateListener(std::move(f));
  }

  // Ingest's share of the counters: one batch of `bytes`, `rejected` of
  // whose summaries failed validation.
  void CountReceived(uint64_t bytes, uint64_t rejected);
  SummaryStoreStats stats() const;

  // Snapshots for consistency checks: the maintained rollups and the ones a
  // rebuild would produce now.
  RollupMap Rollups() const;
  RollupMap RecomputedRollups() const;
  // (UnitId, revision) of every held unit, retractions included.
  std::vector<HeldRevision> HeldRevisions() const;
  // The revision held for (trust, period), retraction included; 0 if none.
  uint64_t HeldRevisionOf(absl::string_view trust,
                          absl::string_view period) const;
  // (period, revision) of every unit held for `trust`, retractions
  // included, by period.
  std::vector<std::pair<std::string, uint64_t>> HeldOf(
      absl::string_view trust) const;
  // The trust's agent asked Feedback (StoreRecovery::OnFeedback).
  absl::Status OnFeedback(absl::string_view trust) {
    return recovery_.OnFeedback(trust);
  }
  // The line Open logged about a damaged database; empty if it was sound.
  const std::string& recovery_report() const { return recovery_report_; }

  // The reference data in force. The references stay valid for the life of
  // the store, across Reconfigure: replaced versions are kept, not freed
  // (an operator's reloads are few, and each version is small), so a caller
  // may hold one for as long as it handles a request.
  const Catalogue& catalogue() const { return catalogues().current(); }
  const CatalogueVersions& catalogues() const;
  const RegistryHistory& registry() const;
  DisclosureOptions disclosure() const;
  const Coverage& coverage() const { return options_.coverage; }
  // Whether Open rebuilt the rollups for a changed registry.
  bool registry_changed_at_open() const { return registry_changed_; }

 private:
  struct Writer;
  struct GroupResult;
  struct Prepared;
  // A committer's work on one of its summaries before it queues.
  static void Prepare(const Incoming& in, Prepared* p);

  SummaryStore(std::unique_ptr<StoreDb> db, SummaryStoreOptions options);
  absl::Status Load();
  // Load's work: the held units into index_, rollups recomputed, published.
  absl::Status LoadUnits() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Reopens the database if a write failed, and reloads everything held
  // from it; kUnavailable if it still cannot be written. The caller holds
  // write_mu_; this takes upstream_write_mu_ (no other writer then) and
  // db_mu_ (no reader of the database).
  absl::Status Usable() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status Reload() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // PendingUpstream's and PendingUpstreamSerialized's walk: each pending
  // unit's stored record, read in key order with one iterator, under db_mu_,
  // given to `decode`; stops before the
  // one that would take the total (`size_of`) beyond `max_bytes`, unless it
  // is the first.
  template <typename T>
  absl::StatusOr<std::vector<T>> ReadPendingUpstream(
      size_t max, size_t max_bytes,
      const absl::flat_hash_set<std::string>& skip,
      absl::FunctionRef<absl::StatusOr<T>(
          const std::string& id, const std::string& key, std::string value)>
          decode,
      absl::FunctionRef<size_t(const T&)> size_of) const;
  // Stores registry_fingerprint_ (and drops rollup records an older
  // version kept on disk); notes whether the placement of trusts moved.
  absl::Status ReconcileRegistry() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // The upstream records, and the pending set from them and what is held.
  absl::Status LoadUpstream();
  absl::Status CheckRegistry();
  // Whether rollup records of a store from before they were kept in memory
  // only are on disk (PersistFingerprint deletes them).
  bool HasStoredRollups() const;
  // The version readers see now.
  std::shared_ptr<const Index> Published() const;
  // Records `fingerprint` as the registry placement the rollups follow, and
  // deletes the rollup records stores before this version kept ("r/"), in
  // one synced batch. The caller holds write_mu_.
  absl::Status PersistFingerprint(const std::string& fingerprint);
  // Publishes a copy of index_ to readers; with `data_changed`, a new
  // pattern cache for it. A commit passes the measures its changes to the
  // index added, dropped or revalued (Index::ReplaceUnit): the new cache
  // then carries over the patterns of the others (PatternCache::CarryOver),
  // so the first query after a commit does not recompute them all.
  // Returns the version it replaced, for the caller to drop outside its
  // locks.
  std::shared_ptr<const Index> Publish(
      bool data_changed, const ChangedMeasures* committed = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // After OpenDbRecovering found damage: records the recovery, logs the
  // line (the rollups were recomputed from the surviving units by Load).
  absl::Status RecoverFromDamage(const std::string& dir,
                                 const DbRecovery& found);
  // Queues a prepared writer and sees that a committing thread will take it.
  void Enqueue(std::unique_ptr<Writer> w, bool more_follow);
  // A committing thread's turn: once the commit before is done, everything
  // queued (up to a bound) in one group; then each writer answered.
  void CommitQueued();
  std::vector<std::unique_ptr<Writer>> TakeGroup()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_);
  // The group's work under write_mu_: decide, write synced, publish.
  // `retired`: the version readers saw before, for the caller to drop once
  // the group is answered.
  absl::Status CommitGroup(const std::vector<std::unique_ptr<Writer>>& group,
                           std::vector<HeldRevision>* changed,
                           std::shared_ptr<const Index>* retired)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Under write_mu_: ACCEPTED/STALE per summary, the highest revision per
  // unit winning; then the unit records to write.
  void DecideOutcomes(const std::vector<std::unique_ptr<Writer>>& group,
                      int64_t now, GroupResult* result) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void PrepareWrites(const GroupResult& result,
                     rocksdb::WriteBatch* batch) const;

  // Written by the holder of write_mu_ or upstream_write_mu_, reopened only
  // with both and db_mu_ (Usable); readers outside those locks
  // (PendingUpstream, DbIntProperty) hold db_mu_ shared.
  const std::unique_ptr<StoreDb> db_;
  mutable absl::Mutex db_mu_;
  const SummaryStoreOptions options_;
  bool registry_changed_ = false;  // set once, in Open
  std::string recovery_report_;    // likewise
  // The last recovery from damage and the confirmations since; the index's
  // snapshots ask it. A leaf lock.
  StoreRecovery recovery_;

  // Writers waiting for a group; a leaf lock.
  absl::Mutex queue_mu_;
  std::deque<std::unique_ptr<Writer>> queue_ ABSL_GUARDED_BY(queue_mu_);
  // Whether a committing turn is posted that has not taken its group yet:
  // then what is queued meanwhile joins that group and posts nothing.
  bool turn_posted_ ABSL_GUARDED_BY(queue_mu_) = false;
  // Whether a group is being committed (from the taking of its group until
  // its callers are answered): a writer finding neither this nor a posted
  // turn leads its own group on its thread.
  bool committing_ ABSL_GUARDED_BY(queue_mu_) = false;

  // Held by the single writer of the moment (a committing turn, or Rebuild).
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(index_mu_);
  // The writer's working copy; readers see only what Publish copies of it.
  Index index_ ABSL_GUARDED_BY(write_mu_);
  // The committing batch, kept between commits (CommitGroup).
  rocksdb::WriteBatch batch_ ABSL_GUARDED_BY(write_mu_);
  // Held only to swap or copy the two pointers below: a leaf lock.
  mutable absl::Mutex index_mu_;
  std::shared_ptr<const Index> published_ ABSL_GUARDED_BY(index_mu_);
  // The patterns of what published_ holds; replaced by every change to it.
  std::shared_ptr<PatternCache> patterns_ ABSL_GUARDED_BY(index_mu_) =
      std::make_shared<PatternCache>();
  // The registry placement the stored rollups follow (RegistryFingerprint).
  std::string registry_fingerprint_ ABSL_GUARDED_BY(write_mu_);

  // What Reconfigure replaces, and what it replaced (kept alive for the
  // references handed out). A leaf lock.
  mutable absl::Mutex reference_mu_;
  ReferenceData reference_ ABSL_GUARDED_BY(reference_mu_);
  std::vector<ReferenceData> retired_ ABSL_GUARDED_BY(reference_mu_);

  // Its own lock, so an answered group never waits for the next commit.
  absl::Mutex listener_mu_;
  std::function<void()> listener_ ABSL_GUARDED_BY(listener_mu_);

  // Serialises RecordUpstream: records change only through it, so what it
  // read before its write is still current after.
  absl::Mutex upstream_write_mu_;
  // Kept current by each group commit (under write_mu_, so in revision
  // order) and by RecordUpstream once its write is durable. Its lock is a
  // leaf; the index's snapshots ask it for refusals.
  UpstreamLedger upstream_;

  // Every held revision by UnitId, retractions included: what commits are
  // decided against. Written by the single writer under held_mu_.
  mutable absl::Mutex held_mu_ ABSL_ACQUIRED_AFTER(write_mu_);
  absl::flat_hash_map<std::string, uint64_t> held_ ABSL_GUARDED_BY(held_mu_);

  mutable absl::Mutex stats_mu_;
  SummaryStoreStats stats_ ABSL_GUARDED_BY(stats_mu_);

  // The committing threads; last, so destroyed first: every commit queued
  // is made and answered while the members above still exist.
  std::unique_ptr<WorkPool> committers_;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_SUMMARY_STORE_H_
