#include "dashboard/session.h"

#include <openssl/rand.h>

#include "absl/strings/escaping.h"

namespace ohfed::dashboard {
namespace {

constexpr size_t kIdBytes = 32;
constexpr size_t kIdChars = 43;  // unpadded base64url of 32 bytes

}  // namespace

absl::StatusOr<std::string> SessionStore::Create(absl::string_view token) {
  unsigned char bytes[kIdBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return absl::InternalError("cannot make a session id: CSPRNG failed");
  }
  std::string id;
  absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes),
      &id);
  absl::MutexLock l(&mu_);
  MakeRoomLocked();
  sessions_[id] =
      Session{std::string(token), clock_->Now() + options_.lifetime};
  return id;
}

std::optional<std::string> SessionStore::Find(absl::string_view id) {
  if (id.size() != kIdChars) return std::nullopt;
  absl::MutexLock l(&mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (clock_->Now() >= it->second.expires) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second.token;
}

void SessionStore::Remove(absl::string_view id) {
  absl::MutexLock l(&mu_);
  sessions_.erase(id);
}

size_t SessionStore::size() const {
  absl::MutexLock l(&mu_);
  return sessions_.size();
}

void SessionStore::MakeRoomLocked() {
  const absl::Time now = clock_->Now();
  absl::erase_if(sessions_, [now](const auto& entry) {
    return now >= entry.second.expires;
  });
  while (!sessions_.empty() && sessions_.size() >= options_.max_sessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.expires < oldest->second.expires) oldest = it;
    }
    sessions_.erase(oldest);
  }
}

}  // namespace ohfed::dashboard
