// FromRocks (common/status.h), apart from status.cc: the `ohfed` command
// converts gRPC statuses but must not link RocksDB for it (issue 14,
// figure 5: every library loaded is paid at each command's start).
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace ohfed {

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view context) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = context.empty() ? s.ToString()
                                    : absl::StrCat(context, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsIOError() || s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) {
    return absl::UnavailableError(msg);
  }
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsNotSupported()) return absl::UnimplementedError(msg);
  return absl::InternalError(msg);
}

}  // namespace ohfed
