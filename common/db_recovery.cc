#include "common/db_recovery.h"

#include <rocksdb/env.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/utilities/debug.h>
#include <rocksdb/write_batch.h>

#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/db_info_log.h"
#include "common/status.h"

namespace ohfed {
namespace {

namespace fs = std::filesystem;

// RocksDB's messages can be long (they repeat paths); a finding stays short.
constexpr size_t kMaxReason = 160;

std::string Short(const std::string& text) {
  return text.size() <= kMaxReason ? text : text.substr(0, kMaxReason) + "...";
}

// Forwards to RocksDB's own info log (DIR/LOG) and keeps the warnings WAL
// replay writes when it drops a torn tail:
//   "<dir>/000004.log: dropping 26 bytes; Corruption: truncated record body"
// RocksDB reports this nowhere else: Open succeeds.
class WalDropLogger : public rocksdb::LoggerWrapper {
 public:
  explicit WalDropLogger(std::shared_ptr<rocksdb::Logger> target)
      : LoggerWrapper(target.get()), target_(std::move(target)) {}

  using LoggerWrapper::Logv;
  void Logv(const rocksdb::InfoLogLevel level, const char* format,
            va_list ap) override {
    if (level >= rocksdb::InfoLogLevel::WARN_LEVEL) {
      va_list copy;
      va_copy(copy, ap);
      char line[512];
      std::vsnprintf(line, sizeof(line), format, copy);
      va_end(copy);
      Keep(line);
    }
    LoggerWrapper::Logv(level, format, ap);
  }

  // The drops seen so far, as findings; clears them.
  std::vector<std::string> TakeDrops() {
    absl::MutexLock l(&mu_);
    return std::move(drops_);
  }

 private:
  void Keep(absl::string_view line) {
    constexpr absl::string_view kDropping = ": dropping ";
    size_t at = line.find(kDropping);
    if (at == absl::string_view::npos) return;
    std::string file = fs::path(std::string(line.substr(0, at))).filename();
    absl::string_view rest = line.substr(at + kDropping.size());
    size_t semi = rest.find("; ");
    std::string finding =
        semi == absl::string_view::npos
            ? absl::StrCat("WAL ", file, ": torn tail, dropped ", rest)
            : absl::StrCat("WAL ", file, ": torn tail, dropped ",
                           rest.substr(0, semi), " (", rest.substr(semi + 2),
                           ")");
    absl::MutexLock l(&mu_);
    drops_.push_back(Short(finding));
  }

  std::shared_ptr<rocksdb::Logger> target_;  // kept alive
  absl::Mutex mu_;
  std::vector<std::string> drops_ ABSL_GUARDED_BY(mu_);
};

// Opens and verifies every block. The database if sound; nullptr with
// `*damage` set when RocksDB reports corruption; any other error as is.
absl::StatusOr<std::unique_ptr<rocksdb::DB>> OpenVerified(
    const std::string& dir, const rocksdb::Options& options,
    rocksdb::Status* damage) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  std::unique_ptr<rocksdb::DB> db(raw);
  if (s.ok()) s = db->VerifyChecksum();
  if (s.ok()) return db;
  if (db != nullptr) db->Close().PermitUncheckedError();
  db.reset();
  if (s.IsCorruption()) {
    *damage = s;
    return std::unique_ptr<rocksdb::DB>();
  }
  return FromRocks(s, absl::StrCat("open database ", dir));
}

// Every table in `dir` that does not open or verify on its own, moved into
// a new quarantine folder; one finding each.
absl::Status QuarantineTables(const std::string& dir,
                              const rocksdb::Options& options,
                              DbRecovery* recovery) {
  std::error_code ec;
  std::vector<fs::path> bad;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".sst") continue;
    rocksdb::SstFileReader reader(options);
    rocksdb::Status s = reader.Open(e.path().string());
    if (s.ok()) s = reader.VerifyChecksum();
    if (s.ok()) continue;
    bad.push_back(e.path());
    recovery->findings.push_back(Short(absl::StrCat(
        "SST ", e.path().filename().string(), ": ", s.ToString())));
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot list database ", dir, ": ", ec.message()));
  }
  if (bad.empty()) return absl::OkStatus();
  const std::string stamp =
      absl::FormatTime("%Y%m%dT%H%M%SZ", absl::Now(), absl::UTCTimeZone());
  fs::path folder = fs::path(dir) / "quarantine" / stamp;
  for (int n = 1; fs::exists(folder); ++n) {
    folder = fs::path(dir) / "quarantine" / absl::StrCat(stamp, "-", n);
  }
  fs::create_directories(folder, ec);
  for (const fs::path& p : bad) {
    if (!ec) fs::rename(p, folder / p.filename(), ec);
  }
  if (ec) {
    return absl::DataLossError(
        absl::StrCat("database ", dir, " is damaged (", recovery->Describe(),
                     ") and cannot move damaged tables aside: ", ec.message()));
  }
  recovery->quarantine_dir = folder.string();
  return absl::OkStatus();
}

// Whether `key` has any version (a value or a deletion) in `db`.
absl::StatusOr<bool> HasAnyVersion(rocksdb::DB* db, const rocksdb::Slice& key) {
  std::vector<rocksdb::KeyVersion> versions;
  rocksdb::Status s = rocksdb::GetAllKeyVersions(db, key, key, 1, &versions);
  if (!s.ok()) return FromRocks(s, "salvage");
  return !versions.empty();
}

// Copies into `db` the readable entries of the quarantined table `table`,
// from its start up to its first bad block, that `db` has no version of
// (present or deleted): they exist nowhere else, so restoring them cannot
// override newer data. Returns how many were restored.
absl::StatusOr<size_t> Salvage(rocksdb::DB* db, const rocksdb::Options& options,
                               const std::string& table) {
  rocksdb::SstFileReader reader(options);
  if (!reader.Open(table).ok()) return 0;  // no footer or index: nothing
  rocksdb::ReadOptions read;
  read.verify_checksums = true;
  std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(read));
  rocksdb::WriteBatch batch;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    OHFED_ASSIGN_OR_RETURN(bool present, HasAnyVersion(db, it->key()));
    if (!present) batch.Put(it->key(), it->value());
  }
  if (batch.Count() == 0) return 0;
  OHFED_RETURN_IF_ERROR(WriteSynced(db, &batch));
  return batch.Count();
}

absl::Status SalvageQuarantined(rocksdb::DB* db,
                                const rocksdb::Options& options,
                                DbRecovery* recovery) {
  if (recovery->quarantine_dir.empty()) return absl::OkStatus();
  std::error_code ec;
  for (const fs::directory_entry& e :
       fs::directory_iterator(recovery->quarantine_dir, ec)) {
    OHFED_ASSIGN_OR_RETURN(size_t n, Salvage(db, options, e.path().string()));
    recovery->salvaged += n;
  }
  return absl::OkStatus();
}

}  // namespace

std::string DbRecovery::Describe() const {
  std::string out = absl::StrJoin(findings, "; ");
  if (!quarantine_dir.empty()) {
    absl::StrAppend(&out, "; damaged tables moved to ", quarantine_dir, " (",
                    salvaged, " readable entries copied back)");
  }
  if (repaired) absl::StrAppend(&out, "; database rebuilt from the rest");
  return out;
}

absl::StatusOr<std::unique_ptr<rocksdb::DB>> OpenDbRecovering(
    const std::string& dir, DbFootprint footprint, rocksdb::Env* env,
    DbRecovery* recovery) {
  *recovery = DbRecovery();
  rocksdb::Options options = DbOptions(footprint, env);
  OHFED_ASSIGN_OR_RETURN(std::shared_ptr<rocksdb::Logger> info_log,
                         OpenInfoLog(dir, options));
  auto drops = std::make_shared<WalDropLogger>(info_log);
  options.info_log = drops;

  rocksdb::Status damage;
  OHFED_ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::DB> db,
                         OpenVerified(dir, options, &damage));
  for (std::string& d : drops->TakeDrops()) {
    recovery->findings.push_back(std::move(d));
  }
  if (db != nullptr) return db;

  const size_t before = recovery->findings.size();
  OHFED_RETURN_IF_ERROR(QuarantineTables(dir, options, recovery));
  if (recovery->findings.size() == before) {
    // No table is bad on its own: the MANIFEST or the table set is.
    recovery->findings.push_back(Short(damage.ToString()));
  }
  rocksdb::Status repaired = rocksdb::RepairDB(dir, options);
  if (!repaired.ok()) {
    return absl::DataLossError(
        absl::StrCat("database ", dir, " is damaged (", recovery->Describe(),
                     ") and cannot be repaired: ", Short(repaired.ToString())));
  }
  recovery->repaired = true;
  OHFED_ASSIGN_OR_RETURN(db, OpenVerified(dir, options, &damage));
  for (std::string& d : drops->TakeDrops()) {
    recovery->findings.push_back(std::move(d));
  }
  if (db != nullptr) {
    OHFED_RETURN_IF_ERROR(SalvageQuarantined(db.get(), options, recovery));
    return db;
  }
  return absl::DataLossError(absl::StrCat(
      "database ", dir, " is damaged beyond repair (", Short(damage.ToString()),
      "): move the directory aside to start empty; peers resend what they "
      "hold"));
}

}  // namespace ohfed
