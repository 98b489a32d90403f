// The daemons' data directory, checked at start: one clear line naming the
// directory when it cannot be written, instead of RocksDB's text about its
// LOG file, and an exit code that tells a supervisor not to retry.
#ifndef OHFED_COMMON_DATA_DIR_H_
#define OHFED_COMMON_DATA_DIR_H_

#include <string>

#include "absl/status/status.h"

namespace ohfed {

// The exit code for a data directory that cannot be written (read-only
// file system, no permission): sysexits' EX_CANTCREAT. The systemd units
// list it in RestartPreventExitStatus=, since restarting cannot help.
inline constexpr int kExitDataDirUnwritable = 73;

// Creates `dir` (and parents) if missing, then writes, syncs and removes a
// small probe file in it. kFailedPrecondition "data directory DIR is not
// writable: REASON" for a read-only or forbidden directory (ExitCodeFor
// gives kExitDataDirUnwritable); kUnavailable "data directory DIR: no space
// left on device ..." for a full disk, which may clear, so a supervisor
// restarting the daemon is right.
absl::Status PrepareDataDir(const std::string& dir);

// The process exit code for a start-up error: kExitDataDirUnwritable for
// PrepareDataDir's unwritable directory, kExitDamagedStore
// (common/db_recovery.h) for a store damaged beyond recovery (kDataLoss),
// else 1.
int ExitCodeFor(const absl::Status& status);

}  // namespace ohfed

#endif  // OHFED_COMMON_DATA_DIR_H_
