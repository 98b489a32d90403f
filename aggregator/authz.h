// Who may read and write what at an aggregator (SPEC §8, issue 9).
//
// A caller is one of:
//  - a bearer token ("authorization: Bearer TOKEN" metadata) found in the
//    tokens file: it may query within its scope (common/token.h);
//  - a client certificate identity (common/identity.h): trust:CODE and
//    region:CODE certificates may submit (per-summary identity checks are
//    the ingest service's); region:CODE and national certificates may also
//    query within their scope, as SPEC §8 lets query callers authenticate by
//    certificate; a trust certificate may not query (trusts read their own
//    figures on their agent, and a leaked agent key must not read them);
//  - nobody.
// Ingest and query are separate rights: a token never submits nor asks
// Ingest.Feedback, whatever its scope.
//
// Scopes nest: trust:CODE sees that trust; ics:CODE that ICS and its trusts;
// region:CODE that region, its ICSs and trusts; national everything. A
// request's scope, and the level of its `by` breakdown, must lie inside the
// caller's scope, judged by the latest registry version; otherwise
// PERMISSION_DENIED naming the caller's scope. An empty request scope means
// the caller's own. A regional (or ICS) aggregator refuses query callers
// whose scope is wider than its coverage, naming both.
//
// Open mode, for the demo and tests on loopback: an --insecure aggregator
// with no tokens file lets anyone query and submit, as before issue 9 (the
// aggregator logs this once at start). With a tokens file, or over TLS,
// queries need a token or a certificate even on loopback. Over --insecure
// ingest carries no identity and stays open; over TLS it needs a
// certificate.
//
// Immutable after construction (the token table may be replaced under it,
// common/token_store.h), so thread-safe. The token table and the registry
// must outlive it.
#ifndef OHFED_AGGREGATOR_AUTHZ_H_
#define OHFED_AGGREGATOR_AUTHZ_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/identity.h"
#include "common/registry.h"
#include "common/token.h"
#include "common/token_store.h"

namespace ohfed::aggregator {

struct Caller {
  enum class Kind { kNobody, kToken, kCertificate };
  Kind kind = Kind::kNobody;
  Scope scope;           // what it may see (kToken, kCertificate)
  std::string describe;  // "token 'ICS lead'" or "certificate trust:RJ1"
  bool trust_certificate = false;
};

// What the caller presented, taken from a call (see CredentialsOf).
struct Credentials {
  // The values of "authorization" metadata (normally zero or one).
  std::vector<std::string> authorization;
  // PeerIdentityOf: kUnauthenticated when there is no client certificate.
  absl::StatusOr<PeerIdentity> peer = absl::UnauthenticatedError("none");
};
Credentials CredentialsOf(const grpc::ServerContextBase& context);

struct AuthzOptions {
  // nullptr: no --tokens file. Reloadable (SIGHUP) while serving.
  const ReloadableTokens* tokens = nullptr;
  bool insecure = false;  // plaintext (loopback) server
  // The aggregator's coverage (--covers). A query caller whose scope is
  // wider is refused: the aggregator's suppression pattern protects its
  // coverage only (aggregator/disclosure_pattern.h), so a caller who could
  // also see the wider aggregator's figures must ask that one.
  Scope coverage = Scope::National();
};

class Authz {
 public:
  // The latest registry version, as it is when asked: an aggregator's
  // store replaces it on SIGHUP. Must be thread-safe, and the Registry it
  // returns must outlive the call it is used in.
  using RegistrySource = std::function<const Registry&()>;

  Authz(AuthzOptions options, RegistrySource registry)
      : options_(options), registry_(std::move(registry)) {}
  // A fixed registry, which must outlive the Authz.
  Authz(AuthzOptions options, const Registry* registry)
      : Authz(options, [registry]() -> const Registry& { return *registry; }) {}

  // Anyone may query: --insecure without a tokens file.
  bool open() const { return options_.insecure && options_.tokens == nullptr; }

  // Who is calling. A bearer token, when sent, decides (a certificate beside
  // it is not consulted). UNAUTHENTICATED for a malformed authorization
  // value, more than one, a token not in the tokens file, or any token when
  // there is no tokens file (except in open mode, where tokens are ignored);
  // PERMISSION_DENIED for a certificate whose name is not an ohfed identity.
  absl::StatusOr<Caller> Identify(const Credentials& credentials) const;

  // A query (Query or Completeness) for `scope` broken down `by`. Returns
  // the scope to run the query for: `scope`, or the caller's own when it is
  // empty ("" for a national caller: all the aggregator covers). Open mode
  // returns `scope` unchanged for anyone.
  absl::StatusOr<std::string> AuthorizeQuery(const Credentials& credentials,
                                             absl::string_view scope,
                                             absl::string_view by) const;

  // Opening a Submit stream: refused for a token, and without a
  // certificate unless the server is --insecure.
  absl::Status AuthorizeSubmit(const Credentials& credentials) const;

  // Ingest.Feedback for `trust`: as Submit, and a certificate must cover
  // the trust (its own trust, or a trust of its region).
  absl::Status AuthorizeFeedback(const Credentials& credentials,
                                 absl::string_view trust) const;

  // Whether `outer` contains `inner` in the registry (unknown codes are
  // contained by national only).
  bool Covers(const Scope& outer, const Scope& inner) const;

 private:
  absl::Status AuthorizeIngest(const Credentials& credentials,
                               const std::optional<Scope>& target) const;

  const AuthzOptions options_;
  const RegistrySource registry_;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_AUTHZ_H_
