// Opening a RocksDB database that may be damaged (SPEC §5, issue 13): a torn
// WAL tail, a truncated SST, a flipped bit in an SST block. The policy, and
// why:
//
//  - WAL: point-in-time recovery (kPointInTimeRecovery). Every write that
//    was acknowledged was synced, so after a crash a torn tail holds only
//    the write in progress. Replay stops at the first bad record and drops
//    the rest; unlike kTolerateCorruptedTailRecords it never replays a
//    record after a hole, and unlike kAbsoluteConsistency it does not
//    refuse to start. What was dropped (file, bytes, reason) is read from
//    RocksDB's info log as it is written, and reported.
//  - SSTs: paranoid checks refuse to open a table that is too short, and
//    once open every block's checksum is verified (DB::VerifyChecksum), so a
//    flipped bit is found at start, not by the first query that reads it.
//  - Damage in an SST or the MANIFEST: the database is closed, every SST is
//    verified on its own (SstFileReader), those that fail are moved into
//    DIR/quarantine/<UTC time>/ (kept, never deleted), and RepairDB rebuilds
//    the MANIFEST from what remains (it moves old MANIFESTs into DIR/lost/).
//    The database is then opened and verified again, and the readable
//    entries of each quarantined table (those before its first bad block)
//    that the database has no version of, live or deleted, are copied back:
//    they exist nowhere else, so they cannot override newer data. The rest
//    of a quarantined table is lost to the store, and older versions of its
//    keys in other tables may show again: the caller rebuilds what it derives
//    (agent summaries, aggregator rollups) and asks its peers for the rest.
//  - Still failing: kDataLoss naming the directory and what to do, so the
//    process exits with a clear message rather than retrying (the systemd
//    units do not restart on that exit code).
#ifndef OHFED_COMMON_DB_RECOVERY_H_
#define OHFED_COMMON_DB_RECOVERY_H_

#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/rocksdb_util.h"

namespace ohfed {

// The exit code of a daemon whose store is damaged beyond what it can
// recover (sysexits.h EX_DATAERR). The systemd units do not restart on it
// (RestartPreventExitStatus): restarting cannot help, and a crash loop
// would bury the one line that says what is wrong.
inline constexpr int kExitDamagedStore = 65;

// What opening found and did. Empty when the database was sound.
struct DbRecovery {
  // One short finding per damaged file, e.g. "WAL 000004.log: 26 bytes
  // dropped (Corruption: truncated record body)".
  std::vector<std::string> findings;
  // Where damaged tables were moved; empty if none were.
  std::string quarantine_dir;
  // Entries read back from the quarantined tables (up to each one's first
  // bad block) that the database had no version of.
  size_t salvaged = 0;
  // RepairDB rebuilt the MANIFEST: keys may be lost or older.
  bool repaired = false;

  bool damaged() const { return !findings.empty(); }
  // The findings and actions in one clause, for a log line.
  std::string Describe() const;
};

// Opens (creating if missing) the database in `dir` with DbOptions, and
// recovers it as above; `recovery` (required) receives what was found.
// Errors: kUnavailable for I/O or a lock held by another process, as
// OpenDb; kDataLoss naming `dir` when it cannot be recovered.
absl::StatusOr<std::unique_ptr<rocksdb::DB>> OpenDbRecovering(
    const std::string& dir, DbFootprint footprint, rocksdb::Env* env,
    DbRecovery* recovery);

}  // namespace ohfed

#endif  // OHFED_COMMON_DB_RECOVERY_H_
