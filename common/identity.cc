#include "common/identity.h"

#include <grpc/grpc_security_constants.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ohfed {
namespace {

constexpr size_t kMaxEcho = 64;

bool IsCode(absl::string_view code) {
  if (code.empty() || code.size() > 16) return false;
  for (char c : code) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

}  // namespace

std::string PeerIdentity::ToString() const {
  switch (kind) {
    case Kind::kTrust:
      return absl::StrCat("trust:", code);
    case Kind::kRegion:
      return absl::StrCat("region:", code);
    case Kind::kNational:
      return "national";
  }
  return "";
}

absl::StatusOr<PeerIdentity> ParsePeerIdentity(absl::string_view cn) {
  if (cn == "national") return PeerIdentity{PeerIdentity::Kind::kNational, ""};
  for (auto [prefix, kind] : {std::pair<absl::string_view, PeerIdentity::Kind>(
                                  "trust:", PeerIdentity::Kind::kTrust),
                              std::pair<absl::string_view, PeerIdentity::Kind>(
                                  "region:", PeerIdentity::Kind::kRegion)}) {
    if (absl::StartsWith(cn, prefix) && IsCode(cn.substr(prefix.size()))) {
      return PeerIdentity{kind, std::string(cn.substr(prefix.size()))};
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "certificate common name '", cn.substr(0, kMaxEcho),
      "' is not an ohfed identity (trust:CODE, region:CODE or national)"));
}

absl::StatusOr<PeerIdentity> PeerIdentityOf(
    const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("no client certificate");
  }
  std::vector<grpc::string_ref> names =
      auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
  if (names.size() != 1) {
    return absl::PermissionDeniedError(
        "the client certificate has no single common name");
  }
  absl::StatusOr<PeerIdentity> id =
      ParsePeerIdentity(absl::string_view(names[0].data(), names[0].size()));
  if (!id.ok()) return absl::PermissionDeniedError(id.status().message());
  return id;
}

}  // namespace ohfed
