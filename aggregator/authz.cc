#include "aggregator/authz.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ohfed::aggregator {
namespace {

constexpr absl::string_view kBearer = "Bearer ";

Scope ScopeOf(const PeerIdentity& id) {
  switch (id.kind) {
    case PeerIdentity::Kind::kTrust:
      return Scope{Scope::Level::kTrust, id.code};
    case PeerIdentity::Kind::kRegion:
      return Scope{Scope::Level::kRegion, id.code};
    case PeerIdentity::Kind::kNational:
      return Scope::National();
  }
  return Scope::National();
}

absl::Status NotCovered(const Caller& caller, absl::string_view what) {
  return absl::PermissionDeniedError(
      absl::StrCat("caller scope ", caller.scope.ToString(), " does not cover ",
                   what, " (", caller.describe, ")"));
}

}  // namespace

Credentials CredentialsOf(const grpc::ServerContextBase& context) {
  Credentials c;
  auto [begin, end] = context.client_metadata().equal_range("authorization");
  for (auto it = begin; it != end; ++it) {
    c.authorization.emplace_back(it->second.data(), it->second.size());
  }
  c.peer = PeerIdentityOf(context);
  return c;
}

absl::StatusOr<Caller> Authz::Identify(const Credentials& credentials) const {
  Caller caller;
  if (!credentials.authorization.empty() && !open()) {
    if (credentials.authorization.size() > 1) {
      return absl::UnauthenticatedError("more than one authorization value");
    }
    absl::string_view value = credentials.authorization.front();
    if (!absl::StartsWith(value, kBearer) || value.size() == kBearer.size()) {
      return absl::UnauthenticatedError("authorization must be 'Bearer TOKEN'");
    }
    if (options_.tokens == nullptr) {
      return absl::UnauthenticatedError(
          "this aggregator accepts no bearer tokens (it has no tokens file)");
    }
    // Never echo the token: it may be a real one sent to the wrong place.
    std::optional<TokenEntry> entry =
        options_.tokens->Find(value.substr(kBearer.size()));
    if (!entry.has_value()) {
      return absl::UnauthenticatedError("unknown bearer token");
    }
    caller.kind = Caller::Kind::kToken;
    caller.scope = entry->scope;
    caller.describe = entry->name.empty()
                          ? std::string("token")
                          : absl::StrCat("token '", entry->name, "'");
    return caller;
  }
  if (credentials.peer.ok()) {
    caller.kind = Caller::Kind::kCertificate;
    caller.scope = ScopeOf(*credentials.peer);
    caller.describe =
        absl::StrCat("certificate ", credentials.peer->ToString());
    caller.trust_certificate =
        credentials.peer->kind == PeerIdentity::Kind::kTrust;
    return caller;
  }
  if (credentials.peer.status().code() != absl::StatusCode::kUnauthenticated) {
    return credentials.peer.status();
  }
  return caller;  // nobody
}

absl::StatusOr<std::string> Authz::AuthorizeQuery(
    const Credentials& credentials, absl::string_view scope,
    absl::string_view by) const {
  if (open()) return std::string(scope);
  absl::StatusOr<Caller> caller = Identify(credentials);
  if (!caller.ok()) return caller.status();
  switch (caller->kind) {
    case Caller::Kind::kNobody:
      return absl::UnauthenticatedError(
          "a query needs a bearer token (ohfed query --token-file) or a "
          "client certificate");
    case Caller::Kind::kCertificate:
      if (caller->trust_certificate) {
        return absl::PermissionDeniedError(absl::StrCat(
            caller->describe,
            " may submit for its trust but not query; ask the aggregator's "
            "operator for a token"));
      }
      break;
    case Caller::Kind::kToken:
      break;
  }
  if (!Covers(options_.coverage, caller->scope)) {
    return absl::PermissionDeniedError(absl::StrCat(
        caller->describe, " sees ", caller->scope.ToString(),
        ", more than this aggregator covers (", options_.coverage.ToString(),
        "); its figures are protected for ", options_.coverage.ToString(),
        " alone, so ask the aggregator that covers ",
        caller->scope.ToString()));
  }
  std::string effective(scope);
  if (effective.empty() && caller->scope.level != Scope::Level::kNational) {
    effective = caller->scope.ToString();
  }
  if (!effective.empty()) {
    absl::StatusOr<Scope> requested = Scope::Parse(effective);
    if (!requested.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("scope: ", requested.status().message()));
    }
    if (!Covers(caller->scope, *requested)) {
      return NotCovered(*caller, requested->ToString());
    }
  }
  if (!by.empty() && by != "self") {
    // An unknown level is the query engine's to refuse.
    absl::StatusOr<Scope::Level> level = Scope::ParseLevel(by);
    if (level.ok() && *level < caller->scope.level) {
      return NotCovered(*caller,
                        absl::StrCat("a breakdown by ", LevelName(*level)));
    }
  }
  return effective;
}

absl::Status Authz::AuthorizeSubmit(const Credentials& credentials) const {
  return AuthorizeIngest(credentials, std::nullopt);
}

absl::Status Authz::AuthorizeFeedback(const Credentials& credentials,
                                      absl::string_view trust) const {
  return AuthorizeIngest(
      credentials, Scope{Scope::Level::kTrust, absl::AsciiStrToUpper(trust)});
}

absl::Status Authz::AuthorizeIngest(const Credentials& credentials,
                                    const std::optional<Scope>& target) const {
  // Whatever it is, and even in open mode: tokens read, they never write.
  if (!credentials.authorization.empty()) {
    return absl::PermissionDeniedError(
        "a bearer token may query but not submit; ingest needs the trust's "
        "or the region's client certificate");
  }
  if (credentials.peer.ok()) {
    Caller caller;
    caller.scope = ScopeOf(*credentials.peer);
    caller.describe =
        absl::StrCat("certificate ", credentials.peer->ToString());
    if (target.has_value() && !Covers(caller.scope, *target)) {
      return NotCovered(caller, target->ToString());
    }
    return absl::OkStatus();
  }
  if (credentials.peer.status().code() != absl::StatusCode::kUnauthenticated) {
    return credentials.peer.status();
  }
  // Plaintext carries no identity: loopback ingest stays as it was.
  if (options_.insecure) return absl::OkStatus();
  return absl::UnauthenticatedError(
      "ingest needs the trust's or the region's client certificate");
}

bool Authz::Covers(const Scope& outer, const Scope& inner) const {
  if (outer.level == Scope::Level::kNational) return true;
  if (inner.level < outer.level) return false;
  if (inner.level == outer.level) return inner.code == outer.code;
  // inner is an ICS or a trust below a region, or a trust below an ICS.
  if (inner.level == Scope::Level::kIcs) {
    const Ics* ics = registry_().FindIcs(inner.code);
    return ics != nullptr && ics->region == outer.code;
  }
  const Trust* trust = registry_().FindTrust(inner.code);
  if (trust == nullptr) return false;
  return outer.level == Scope::Level::kRegion ? trust->region == outer.code
                                              : trust->ics == outer.code;
}

}  // namespace ohfed::aggregator
