#include "common/data_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/db_recovery.h"

namespace ohfed {
namespace {

// Marks PrepareDataDir's "not writable" error for ExitCodeFor.
constexpr char kUnwritablePayload[] = "ohfed/data-dir-unwritable";

absl::Status Unwritable(const std::string& dir, const std::string& why) {
  absl::Status s = absl::FailedPreconditionError(absl::StrCat(
      "data directory ", dir, " is not writable: ", why,
      " (the daemon keeps its database there; fix the mount or the "
      "permissions, then start it again)"));
  s.SetPayload(kUnwritablePayload, absl::Cord("1"));
  return s;
}

absl::Status Failed(const std::string& dir, int err) {
  if (err == EROFS || err == EACCES || err == EPERM) {
    return Unwritable(dir, std::strerror(err));
  }
  if (err == ENOSPC || err == EDQUOT) {
    return absl::UnavailableError(
        absl::StrCat("data directory ", dir, ": ", std::strerror(err),
                     " (free some space; the daemon starts once it can "
                     "write)"));
  }
  return absl::UnavailableError(
      absl::StrCat("data directory ", dir, ": ", std::strerror(err)));
}

}  // namespace

absl::Status PrepareDataDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    if (ec.value() == EROFS || ec.value() == EACCES || ec.value() == EPERM) {
      return Unwritable(dir, ec.message());
    }
    return absl::UnavailableError(
        absl::StrCat("cannot create data directory ", dir, ": ", ec.message()));
  }
  const std::string probe = dir + "/.ohfed-write-check";
  int fd =
      ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Failed(dir, errno);
  // A block's worth, synced: a full disk fails here rather than in RocksDB.
  const std::string block(4096, '\0');
  int err = 0;
  if (::write(fd, block.data(), block.size()) !=
      static_cast<ssize_t>(block.size())) {
    err = errno == 0 ? ENOSPC : errno;
  } else if (::fsync(fd) != 0) {
    err = errno;
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return err == 0 ? absl::OkStatus() : Failed(dir, err);
}

int ExitCodeFor(const absl::Status& status) {
  if (status.GetPayload(kUnwritablePayload).has_value()) {
    return kExitDataDirUnwritable;
  }
  if (status.code() == absl::StatusCode::kDataLoss) return kExitDamagedStore;
  return status.ok() ? 0 : 1;
}

}  // namespace ohfed
