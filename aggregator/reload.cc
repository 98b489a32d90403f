// Aggregator::Reload, on SIGHUP: what can change under running streams.
#include "absl/strings/str_cat.h"
#include "aggregator/aggregator.h"
#include "common/log.h"
#include "common/status.h"

namespace ohfed::aggregator {

absl::Status Aggregator::Reload() {
  if (tokens_ == nullptr) {
    LogLine(
        "reload: no --tokens file; certificates are re-read by their "
        "file watcher, nothing else to reload");
    return absl::OkStatus();
  }
  absl::StatusOr<TokenTable> table =
      TokenTable::Load(options_.tokens_file, store_->registry().Latest());
  if (!table.ok()) {
    return absl::Status(table.status().code(),
                        absl::StrCat("reload refused, the old tokens stay: ",
                                     table.status().message()));
  }
  const size_t count = table->size();
  tokens_->Replace(*std::move(table));
  LogLine(absl::StrCat("reload: ", count, " query tokens from ",
                       options_.tokens_file));
  return absl::OkStatus();
}

}  // namespace ohfed::aggregator
