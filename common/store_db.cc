#include "common/store_db.h"

#include "absl/strings/str_cat.h"
#include "common/db_recovery.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/status.h"

namespace ohfed {
namespace {

metrics::Gauge& FailingGauge() {
  static metrics::Gauge& g = metrics::Global().GetGauge(
      "ohfed_store_failing",
      "1 while the local database cannot be written (disk full, I/O "
      "errors); nothing is acknowledged meanwhile.");
  return g;
}

metrics::Counter& WriteFailures() {
  static metrics::Counter& c = metrics::Global().GetCounter(
      "ohfed_store_write_failures_total",
      "Synced writes to the local database that failed.");
  return c;
}

metrics::Counter& Recoveries() {
  static metrics::Counter& c = metrics::Global().GetCounter(
      "ohfed_store_recoveries_total",
      "Times the local database was reopened after failed writes.");
  return c;
}

}  // namespace

absl::StatusOr<std::unique_ptr<StoreDb>> StoreDb::Open(const std::string& dir,
                                                       DbFootprint footprint,
                                                       rocksdb::Env* env,
                                                       DbRecovery* recovery) {
  DbRecovery ignored;
  absl::StatusOr<std::unique_ptr<rocksdb::DB>> db = OpenDbRecovering(
      dir, footprint, env, recovery != nullptr ? recovery : &ignored);
  if (!db.ok()) return db.status();
  FailingGauge().Set(0);
  return std::unique_ptr<StoreDb>(
      new StoreDb(std::move(*db), dir, footprint, env));
}

StoreDb::StoreDb(std::unique_ptr<rocksdb::DB> db, std::string dir,
                 DbFootprint footprint, rocksdb::Env* env)
    : StackableDB(db.release()),
      dir_(std::move(dir)),
      footprint_(footprint),
      env_(env) {}

StoreDb::~StoreDb() {
  // StackableDB deletes db_; close it first so that errors are not thrown
  // away unchecked.
  if (db_ != nullptr) db_->Close().PermitUncheckedError();
}

absl::Status StoreDb::SyncedWrite(rocksdb::WriteBatch* batch) {
  return CheckedWrite(batch, /*sync=*/true);
}

absl::Status StoreDb::UnsyncedWrite(rocksdb::WriteBatch* batch) {
  return CheckedWrite(batch, /*sync=*/false);
}

absl::Status StoreDb::CheckedWrite(rocksdb::WriteBatch* batch, bool sync) {
  if (!open()) {
    return absl::UnavailableError(
        absl::StrCat("store ", dir_, " is failing: ", failure()));
  }
  absl::Status s =
      sync ? WriteSynced(db_, batch)
           : FromRocks(db_->Write(rocksdb::WriteOptions(), batch), "write");
  if (s.ok()) return s;
  absl::Status named(s.code(), absl::StrCat("store ", dir_, ": ", s.message()));
  MarkFailing(named);
  return named;
}

void StoreDb::MarkFailing(const absl::Status& why) {
  WriteFailures().Inc();
  {
    absl::MutexLock l(&failure_mu_);
    if (!failure_.empty()) return;  // logged once per episode
    failure_ = std::string(why.message());
  }
  failing_.store(true);
  FailingGauge().Set(1);
  LogError(absl::StrCat(why.message(),
                        "; nothing is acknowledged until a write succeeds "
                        "again (the database is reopened on the next one)"));
  Notify(true);
}

void StoreDb::SetStateListener(std::function<void(bool failing)> f) {
  absl::MutexLock l(&listener_mu_);
  listener_ = std::move(f);
  if (listener_) listener_(failing());
}

// Under the lock, so that once SetStateListener(nullptr) returns the old
// listener is not running and never runs again (it may refer to a server
// being destroyed).
void StoreDb::Notify(bool failing) {
  absl::MutexLock l(&listener_mu_);
  if (listener_) listener_(failing);
}

std::string StoreDb::failure() const {
  absl::MutexLock l(&failure_mu_);
  return failure_;
}

absl::StatusOr<bool> StoreDb::Recover() {
  if (!failing()) return false;
  if (db_ != nullptr) {
    db_->Close().PermitUncheckedError();  // it reports the old failure
    delete db_;
    db_ = nullptr;
    open_.store(false);
  }
  absl::StatusOr<std::unique_ptr<rocksdb::DB>> db =
      OpenDb(dir_, footprint_, env_);
  if (!db.ok()) {
    return absl::UnavailableError(
        absl::StrCat("store ", dir_, " is failing: ", failure(),
                     "; reopening it failed: ", db.status().message()));
  }
  db_ = db->release();
  open_.store(true);
  failing_.store(false);
  {
    absl::MutexLock l(&failure_mu_);
    failure_.clear();
  }
  FailingGauge().Set(0);
  Recoveries().Inc();
  LogLine(absl::StrCat("store ", dir_,
                       " recovered: reopened after failed "
                       "writes; writes resume"));
  Notify(false);
  return true;
}

}  // namespace ohfed
