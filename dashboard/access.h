// Who is looking at the dashboard, and what they may see (issue 12, SPEC
// §8): the same tokens, certificates and scope rules as the Query service
// (aggregator/authz.h), reached over HTTP.
//
// A request is identified by, in order:
//  - an "Authorization: Bearer TOKEN" header (scripts): it decides, as for
//    gRPC; a bad one is refused rather than falling back;
//  - a session cookie from the login page (dashboard/session.h), whose token
//    is checked against the tokens file as it is now;
//  - a verified TLS client certificate (region:CODE or national may look; a
//    trust certificate may submit but not query);
//  - nobody: the server sends them to the login page.
// Every page and CSV then asks AuthorizeScope for its scope, which applies
// Authz::AuthorizeQuery: the caller's scope must cover it, and lie within
// the aggregator's coverage.
//
// Unlike the Query service there is no open mode: an --insecure aggregator
// without a tokens file serves no dashboard (server.h refuses to start), so
// a page always has a known caller.
//
// Thread-safe; authz and sessions must outlive it.
#ifndef OHFED_DASHBOARD_ACCESS_H_
#define OHFED_DASHBOARD_ACCESS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aggregator/authz.h"
#include "common/identity.h"
#include "common/registry.h"
#include "dashboard/session.h"

namespace ohfed::dashboard {

// What an HTTP request presented.
struct HttpCredentials {
  std::vector<std::string> authorization;  // "Authorization" header values
  std::string session_id;                  // the session cookie, or ""
  // The verified client certificate's identity; kUnauthenticated: none.
  absl::StatusOr<PeerIdentity> peer = absl::UnauthenticatedError("none");
};

struct Visitor {
  aggregator::Caller caller;  // kNobody: send them to the login page
  // What every query on their behalf is authorised with.
  aggregator::Credentials credentials;
  bool signed_in = false;  // through the login page: offer a logout
};

class Access {
 public:
  Access(const aggregator::Authz* authz, SessionStore* sessions)
      : authz_(authz), sessions_(sessions) {}

  // The visitor. kUnauthenticated for a malformed or unknown bearer token;
  // kPermissionDenied for a certificate that is no ohfed identity. A session
  // whose token is no longer in the tokens file is ended and counts as
  // nobody.
  absl::StatusOr<Visitor> Identify(const HttpCredentials& credentials) const;

  // OK when `visitor` may see `scope` (its pages and downloads); otherwise
  // kUnauthenticated (nobody) or kPermissionDenied naming the caller's
  // scope.
  absl::Status AuthorizeScope(const Visitor& visitor, const Scope& scope) const;

  // The login form: a new session id for a token in the tokens file, and
  // who it is. kUnauthenticated "unknown token" otherwise (the token is
  // never echoed).
  struct SignedIn {
    std::string session_id;
    aggregator::Caller caller;
  };
  absl::StatusOr<SignedIn> SignIn(absl::string_view token) const;

  void SignOut(absl::string_view session_id) const {
    sessions_->Remove(session_id);
  }

 private:
  const aggregator::Authz* const authz_;
  SessionStore* const sessions_;
};

}  // namespace ohfed::dashboard

#endif  // OHFED_DASHBOARD_ACCESS_H_
