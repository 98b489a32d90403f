// A daemon's RocksDB database that recovers in place from a failed write:
// work resumes when the disk is back (space freed, the device healthy
// again), without a restart.
//
// Why a reopen: RocksDB 7.8 stops a database for good after a failed WAL
// append or sync (a "fatal" background error; DB::Resume() returns the same
// error, and so does every later write), and after a full disk until its
// own recovery succeeds. So the first failed write marks the store failing,
// and its owner calls Recover() before the next use, which closes the
// database and opens it again. A reopened database replays its WAL, which
// may hold the write that failed (appended before its sync failed): its
// outcome was unknown, never acknowledged, and the owner must reload what it
// keeps in memory from the database after a recovery.
//
// Every state change is logged once ("store DIR is failing: ...", "store DIR
// recovered") and exported: ohfed_store_failing (1 while failing),
// ohfed_store_write_failures_total, ohfed_store_recoveries_total.
//
// Calls other than Recover are RocksDB's (StackableDB forwards them) and
// need open(). Recover must not run alongside any other use: the owner
// keeps its readers and writers out meanwhile. failing(), open() and
// failure() may be called at any time.
#ifndef OHFED_COMMON_STORE_DB_H_
#define OHFED_COMMON_STORE_DB_H_

#include <rocksdb/utilities/stackable_db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/rocksdb_util.h"

namespace ohfed {

struct DbRecovery;

class StoreDb : public rocksdb::StackableDB {
 public:
  // OpenDbRecovering(dir, footprint, env, recovery) (common/db_recovery.h:
  // a damaged store is repaired, and `recovery`, if given, says how); the
  // arguments are kept for reopening after a failed write.
  static absl::StatusOr<std::unique_ptr<StoreDb>> Open(
      const std::string& dir, DbFootprint footprint,
      rocksdb::Env* env = nullptr, DbRecovery* recovery = nullptr);
  ~StoreDb() override;

  // WriteSynced (common/rocksdb_util.h). On failure the store is failing
  // and the error, kUnavailable for I/O, names the directory.
  absl::Status SyncedWrite(rocksdb::WriteBatch* batch);
  // The same without the sync: in the WAL in order, so durable with the
  // next synced write, and lost if the OS crashes before it. Fails, and
  // marks the store failing, as SyncedWrite does.
  absl::Status UnsyncedWrite(rocksdb::WriteBatch* batch);

  // Nothing to do unless failing; otherwise closes and reopens the
  // database. Returns whether it reopened (the owner must then reload), or
  // kUnavailable naming the directory and the cause if it could not (the
  // database stays closed and failing; call again later).
  absl::StatusOr<bool> Recover();

  bool failing() const { return failing_.load(); }
  bool open() const { return open_.load(); }
  const std::string& dir() const { return dir_; }
  // The failure that made the store failing; empty when it is not.
  std::string failure() const;

  // Calls f(failing) now and whenever the store starts failing or recovers
  // (health turns a service NOT_SERVING meanwhile), from the thread that
  // wrote or recovered. f must be quick and must not call back into the
  // store. Once SetStateListener(nullptr) returns, the old f is done.
  void SetStateListener(std::function<void(bool failing)> f);

 private:
  StoreDb(std::unique_ptr<rocksdb::DB> db, std::string dir,
          DbFootprint footprint, rocksdb::Env* env);
  absl::Status CheckedWrite(rocksdb::WriteBatch* batch, bool sync);
  void MarkFailing(const absl::Status& why);
  void Notify(bool failing);

  const std::string dir_;
  const DbFootprint footprint_;
  rocksdb::Env* const env_;
  std::atomic<bool> failing_{false};
  std::atomic<bool> open_{true};
  mutable absl::Mutex failure_mu_;
  std::string failure_ ABSL_GUARDED_BY(failure_mu_);
  mutable absl::Mutex listener_mu_;
  std::function<void(bool)> listener_ ABSL_GUARDED_BY(listener_mu_);
};

}  // namespace ohfed

#endif  // OHFED_COMMON_STORE_DB_H_
