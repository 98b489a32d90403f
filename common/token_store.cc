#include "common/token_store.h"

namespace ohfed {

std::optional<TokenEntry> ReloadableTokens::Find(
    absl::string_view token) const {
  std::shared_ptr<const TokenTable> table;
  {
    absl::MutexLock lock(&mu_);
    table = table_;
  }
  const TokenEntry* entry = table->Find(token);
  if (entry == nullptr) return std::nullopt;
  return *entry;
}

size_t ReloadableTokens::size() const {
  absl::MutexLock lock(&mu_);
  return table_->size();
}

void ReloadableTokens::Replace(TokenTable table) {
  auto fresh = std::make_shared<const TokenTable>(std::move(table));
  absl::MutexLock lock(&mu_);
  table_.swap(fresh);
}

}  // namespace ohfed
