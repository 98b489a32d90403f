#include "dashboard/access.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace ohfed::dashboard {
namespace {

using aggregator::Caller;
using aggregator::Credentials;

// Longer than any token `ohfed token new` makes; a bound on what is hashed.
constexpr size_t kMaxTokenBytes = 512;

Credentials BearerCredentials(absl::string_view token) {
  Credentials c;
  c.authorization.push_back(absl::StrCat("Bearer ", token));
  return c;
}

}  // namespace

absl::StatusOr<Visitor> Access::Identify(
    const HttpCredentials& credentials) const {
  Visitor visitor;
  if (!credentials.authorization.empty()) {
    visitor.credentials.authorization = credentials.authorization;
  } else if (!credentials.session_id.empty()) {
    if (std::optional<std::string> token =
            sessions_->Find(credentials.session_id)) {
      Credentials session = BearerCredentials(*token);
      absl::StatusOr<Caller> caller = authz_->Identify(session);
      if (caller.ok() && caller->kind == Caller::Kind::kToken) {
        visitor.caller = *std::move(caller);
        visitor.credentials = std::move(session);
        visitor.signed_in = true;
        return visitor;
      }
      sessions_->Remove(credentials.session_id);  // its token was revoked
    }
  }
  if (visitor.credentials.authorization.empty()) {
    visitor.credentials.peer = credentials.peer;
  }
  absl::StatusOr<Caller> caller = authz_->Identify(visitor.credentials);
  if (!caller.ok()) return caller.status();
  visitor.caller = *std::move(caller);
  return visitor;
}

absl::Status Access::AuthorizeScope(const Visitor& visitor,
                                    const Scope& scope) const {
  if (visitor.caller.kind == Caller::Kind::kNobody) {
    return absl::UnauthenticatedError("sign in with your token first");
  }
  return authz_->AuthorizeQuery(visitor.credentials, scope.ToString(), "")
      .status();
}

absl::StatusOr<Access::SignedIn> Access::SignIn(absl::string_view token) const {
  token = absl::StripAsciiWhitespace(token);
  if (token.empty()) {
    return absl::UnauthenticatedError("paste your token to sign in");
  }
  const absl::Status unknown = absl::UnauthenticatedError(
      "unknown token: check it was copied whole, or ask the aggregator's "
      "operator for one");
  if (token.size() > kMaxTokenBytes) return unknown;
  absl::StatusOr<Caller> caller = authz_->Identify(BearerCredentials(token));
  if (!caller.ok() || caller->kind != Caller::Kind::kToken) return unknown;
  absl::StatusOr<std::string> id = sessions_->Create(token);
  if (!id.ok()) return id.status();
  return SignedIn{*std::move(id), *std::move(caller)};
}

}  // namespace ohfed::dashboard
