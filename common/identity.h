// Who a peer is, from its TLS client certificate (SPEC §8).
//
// An ohfed certificate's Subject common name is the identity it carries,
// one of:
//   "trust:CODE"    a trust's agent (ODS code), e.g. "trust:RJ1"
//   "region:CODE"   a regional aggregator, e.g. "region:Y56"
//   "national"      the national aggregator
// Server certificates carry the host names and addresses they serve in
// their subjectAltName as usual; their common name is not an identity.
#ifndef OHFED_COMMON_IDENTITY_H_
#define OHFED_COMMON_IDENTITY_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ohfed {

struct PeerIdentity {
  enum class Kind { kTrust, kRegion, kNational };
  Kind kind;
  std::string code;  // ODS code of the trust or region; empty for national

  // "trust:RJ1", "region:Y56" or "national": also the query scope it means.
  std::string ToString() const;
};

// Parses a certificate common name as above. kInvalidArgument naming the
// text for anything else.
absl::StatusOr<PeerIdentity> ParsePeerIdentity(absl::string_view common_name);

// The identity in the verified client certificate of the call's peer.
// kUnauthenticated when the peer presented no certificate (plaintext or TLS
// without a client certificate); kPermissionDenied when its common name is
// not an ohfed identity.
absl::StatusOr<PeerIdentity> PeerIdentityOf(
    const grpc::ServerContextBase& context);

}  // namespace ohfed

#endif  // OHFED_COMMON_IDENTITY_H_
