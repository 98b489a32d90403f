// Transport security and limits, in one place (SPEC §8). Every gRPC channel
// and server in ohfed is made here, so mutual TLS, message-size limits and
// keepalives are configured once.
//
// TCP connections use TLS with the CA file: the client verifies the
// server's certificate against it and the host it dialled, and presents its
// own, which the server verifies (a certificate of another CA, or expired,
// fails the handshake). Who the client is (common/identity.h) is read by the
// services. A client may present no certificate (a bearer-token query
// caller): the connection is made and each service refuses what needs an
// identity (PeerUsesTls tells such a caller from a plaintext one). The
// certificate, key and CA files are re-read every cert_refresh_seconds, so a
// renewed certificate is used for new connections without a restart, while
// connections already open (and their streams) carry on. Plaintext is
// --insecure, on loopback only; unix sockets are always plaintext.
#ifndef OHFED_COMMON_TRANSPORT_H_
#define OHFED_COMMON_TRANSPORT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ohfed {

// Hard limits on what crosses the wire.
inline constexpr int kMaxMessageBytes = 16 << 20;  // 16 MiB per message
inline constexpr int kMaxSummariesPerBatch = 256;
inline constexpr int kMaxCellsPerSummary = 4096;
inline constexpr int kMaxStringBytes = 256;  // codes, periods, names
// One CSV import travels in one AgentControl message, with room for framing.
inline constexpr int kMaxImportBytes = kMaxMessageBytes - (1 << 20);

struct TransportOptions {
  // Plaintext; refused unless every address involved is loopback.
  bool insecure = false;
  // TLS material (PEM file paths): all three, or none with --insecure; a
  // client may give only ca_file (no certificate of its own).
  std::string ca_file, cert_file, key_file;
  // How often the files above are re-read for a renewed certificate.
  int cert_refresh_seconds = 60;

  bool tls() const {
    return !ca_file.empty() || !cert_file.empty() || !key_file.empty();
  }
};

// True for 127.0.0.0/8, ::1, "localhost" (with or without ":port").
bool IsLoopbackAddress(absl::string_view host_port);

// A channel to `target` ("host:port" or "unix:/path"). Unix sockets are
// always plaintext (protected by file permissions). Fails with
// kInvalidArgument when --insecure is asked for a non-loopback target, when
// both or neither of --insecure and TLS files are given, or when only some
// TLS files are; with the file's error (naming it, common/certificate.h)
// when a TLS file is missing, unreadable or does not parse, or the key does
// not match the certificate. The server's certificate must name the target's
// host in its subjectAltName.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const std::string& target, const TransportOptions& options);

// Server credentials for listening on `address`, with the same rules. Over
// TLS a client must present a certificate signed by the CA file.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const std::string& address, const TransportOptions& options);

// HTTP/2 streams one connection may have open at once
// (SETTINGS_MAX_CONCURRENT_STREAMS); more wait at the client rather than
// taking server threads. Per-peer limits on Submit streams are the ingest
// service's (aggregator/ingest_service.h).
inline constexpr int kMaxStreamsPerConnection = 100;
// A connection with no stream for this long is closed (clients reconnect).
inline constexpr int kMaxConnectionIdleMs = 10 * 60 * 1000;

// Applies ohfed's limits to a server being built: message sizes, streams
// per connection, idle connections, and the keepalive pings MakeChannel's
// clients send (accepted every 30 s, so they are not refused as abuse). It
// also turns off SO_REUSEPORT, which gRPC enables by default: with it a
// second server on the same port also "listens" and the two split the
// traffic between them.
void ApplyServerLimits(grpc::ServerBuilder& builder);

// Checks, before a server is built, that it can listen on `address`:
// "HOST:PORT" with a numeric port, or "unix:PATH" with a path that fits a
// unix socket address (107 bytes) in a directory this process may create
// files in. For TCP it binds a probe socket, so a port
// already in use, one that needs privileges, or a host that is not on this
// machine gets one clear line here rather than gRPC's internals later.
// kInvalidArgument for a malformed address, kUnavailable when the bind fails.
absl::Status CheckListenAddress(const std::string& address);

// Whether the call came over TLS (with or without a client certificate),
// as opposed to plaintext (--insecure, unix sockets).
bool PeerUsesTls(const grpc::ServerContextBase& context);

// Sends gRPC's own log messages through LogLine as one bounded line each
// ("grpc: ..."), errors only, instead of gRPC's multi-line dumps on stderr.
void RouteGrpcLogs();

}  // namespace ohfed

#endif  // OHFED_COMMON_TRANSPORT_H_
