// The aggregator's query tokens as a table that SIGHUP can replace while
// queries are being authorised: lookups copy the entry out under a lock, so
// a reload never pulls an entry from under a caller.
#ifndef OHFED_COMMON_TOKEN_STORE_H_
#define OHFED_COMMON_TOKEN_STORE_H_

#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/token.h"

namespace ohfed {

// Thread-safe.
class ReloadableTokens {
 public:
  ReloadableTokens() : table_(std::make_shared<const TokenTable>()) {}
  explicit ReloadableTokens(TokenTable table)
      : table_(std::make_shared<const TokenTable>(std::move(table))) {}

  // TokenTable::Find, copied out.
  std::optional<TokenEntry> Find(absl::string_view token) const;
  size_t size() const;

  // From now on, `table` answers. Calls being authorised finish with
  // whichever table they started with.
  void Replace(TokenTable table);

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const TokenTable> table_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ohfed

#endif  // OHFED_COMMON_TOKEN_STORE_H_
