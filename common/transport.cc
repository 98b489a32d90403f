#include "common/transport.h"

#include <arpa/inet.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <algorithm>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/certificate.h"
#include "common/status.h"

namespace ohfed {
namespace {

// "host:port", "[v6]:port" or a bare host -> host.
absl::string_view HostOf(absl::string_view host_port) {
  if (absl::StartsWith(host_port, "[")) {
    size_t close = host_port.find(']');
    return close == absl::string_view::npos ? host_port
                                            : host_port.substr(1, close - 1);
  }
  size_t colon = host_port.rfind(':');
  if (colon != absl::string_view::npos &&
      host_port.find(':') == colon) {  // exactly one colon: host:port
    return host_port.substr(0, colon);
  }
  return host_port;
}

bool IsUnix(absl::string_view target) {
  return absl::StartsWith(target, "unix:");
}

// Whether `address` is to be plaintext (false: TLS), or why neither is
// allowed.
absl::StatusOr<bool> UsePlaintext(absl::string_view address,
                                  const TransportOptions& options,
                                  bool serving) {
  if (IsUnix(address)) return true;
  if (options.insecure && options.tls()) {
    return absl::InvalidArgumentError(
        "--insecure and --tls-cert/--tls-key/--tls-ca exclude each other");
  }
  if (options.insecure) {
    if (!IsLoopbackAddress(address)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--insecure refuses non-loopback address '", address,
          "': plaintext is allowed only on 127.0.0.0/8, ::1 or localhost"));
    }
    return true;
  }
  if (!options.tls()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no TLS files for ", address,
        ": give --tls-cert, --tls-key and --tls-ca (or --insecure on a "
        "loopback address)"));
  }
  // A client may go without a certificate of its own (a bearer-token
  // query caller); a server never.
  const bool own_cert =
      serving || !options.cert_file.empty() || !options.key_file.empty();
  for (auto [file, flag, needed] :
       {std::tuple{&options.ca_file, "--tls-ca", true},
        std::tuple{&options.cert_file, "--tls-cert", own_cert},
        std::tuple{&options.key_file, "--tls-key", own_cert}}) {
    if (needed && file->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "TLS for ", address, " needs ", flag,
          " too (--tls-cert, --tls-key and --tls-ca go together)"));
    }
  }
  OHFED_RETURN_IF_ERROR(
      CheckTlsFiles(options.ca_file, options.cert_file, options.key_file));
  return false;
}

// Watches the files; gRPC re-reads them every refresh interval.
std::shared_ptr<grpc::experimental::CertificateProviderInterface> Provider(
    const TransportOptions& options) {
  if (options.cert_file.empty()) {
    return std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        options.ca_file, std::max(1, options.cert_refresh_seconds));
  }
  return std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      options.key_file, options.cert_file, options.ca_file,
      std::max(1, options.cert_refresh_seconds));
}

}  // namespace

bool IsLoopbackAddress(absl::string_view host_port) {
  std::string host(HostOf(host_port));
  if (host == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const std::string& target, const TransportOptions& options) {
  OHFED_ASSIGN_OR_RETURN(bool plaintext,
                         UsePlaintext(target, options, /*serving=*/false));
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  // Reconnect promptly once a peer is back; the uploader adds its own backoff.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
  if (plaintext) {
    return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                     args);
  }
  grpc::experimental::TlsChannelCredentialsOptions tls;
  tls.set_certificate_provider(Provider(options));
  tls.watch_root_certs();
  if (!options.cert_file.empty()) tls.watch_identity_key_cert_pairs();
  tls.set_verify_server_certs(true);
  // The server's certificate must name the host dialled.
  tls.set_certificate_verifier(
      std::make_shared<grpc::experimental::HostNameCertificateVerifier>());
  return grpc::CreateCustomChannel(
      target, grpc::experimental::TlsCredentials(tls), args);
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const std::string& address, const TransportOptions& options) {
  OHFED_ASSIGN_OR_RETURN(bool plaintext,
                         UsePlaintext(address, options, /*serving=*/true));
  if (plaintext) return grpc::InsecureServerCredentials();
  grpc::experimental::TlsServerCredentialsOptions tls(Provider(options));
  tls.watch_root_certs();
  tls.watch_identity_key_cert_pairs();
  // A certificate a client presents must verify (another CA's or an
  // expired one fails the handshake); a client may present none, for
  // bearer-token queries, and the services refuse it what needs one
  // (PeerUsesTls).
  tls.set_cert_request_type(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  return grpc::experimental::TlsServerCredentials(tls);
}

bool PeerUsesTls(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return false;
  for (const grpc::string_ref& type :
       auth->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME)) {
    absl::string_view t(type.data(), type.size());
    if (t == GRPC_SSL_TRANSPORT_SECURITY_TYPE ||
        t == GRPC_TLS_TRANSPORT_SECURITY_TYPE) {
      return true;
    }
  }
  return false;
}

void ApplyServerLimits(grpc::ServerBuilder& builder) {
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             kMaxStreamsPerConnection);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             kMaxConnectionIdleMs);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 30000);
}

}  // namespace ohfed
