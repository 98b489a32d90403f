// Dashboard sign-in sessions (issue 12): a person pastes their token once on
// the login page; the server keeps it here, under a random session id that
// travels in an HttpOnly, SameSite=Strict cookie, so the token itself never
// appears in a URL, a later request or a log.
//
// Sessions live in memory only (a restart signs everyone out) and end at a
// fixed lifetime after sign-in, at logout, or when the table is full and
// they are the oldest. The token is kept so that every request is checked
// against the tokens file as it is now: a token removed by SIGHUP stops
// working for its open sessions too.
//
// Thread-safe. The clock must outlive the store.
#ifndef OHFED_DASHBOARD_SESSION_H_
#define OHFED_DASHBOARD_SESSION_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace ohfed::dashboard {

struct SessionOptions {
  absl::Duration lifetime = absl::Hours(8);
  size_t max_sessions = 10000;
};

class SessionStore {
 public:
  SessionStore(SessionOptions options, Clock* clock)
      : options_(options), clock_(clock) {}

  // A new session for `token`: its id, 32 bytes from OpenSSL's CSPRNG in
  // unpadded base64url (43 characters). kInternal if the CSPRNG fails.
  absl::StatusOr<std::string> Create(absl::string_view token);

  // The token of a live session, or nullopt for an unknown, malformed or
  // expired id (an expired one is removed).
  std::optional<std::string> Find(absl::string_view id);

  // Ends the session; unknown ids are ignored.
  void Remove(absl::string_view id);

  size_t size() const;
  absl::Duration lifetime() const { return options_.lifetime; }

 private:
  struct Session {
    std::string token;
    absl::Time expires;
  };
  // Drops expired sessions, then the one expiring first while full.
  void MakeRoomLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SessionOptions options_;
  Clock* const clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Session> sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ohfed::dashboard

#endif  // OHFED_DASHBOARD_SESSION_H_
