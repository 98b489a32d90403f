#include "dashboard/server.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/certificate.h"
#include "common/http_address.h"
#include "common/log.h"
#include "common/transport.h"
#include "dashboard/routes.h"

namespace ohfed::dashboard {
namespace {

constexpr size_t kMaxBodyBytes = 16 << 10;  // the login form, generously
constexpr time_t kReadTimeoutSeconds = 10;
constexpr time_t kWriteTimeoutSeconds = 30;

// What every answer carries: no external anything, no framing, no caching
// of figures, no referrer leaving the dashboard.
httplib::Headers SecurityHeaders() {
  return {{"Content-Security-Policy",
           "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
          {"X-Content-Type-Options", "nosniff"},
          {"X-Frame-Options", "DENY"},
          {"Referrer-Policy", "same-origin"},
          {"Cache-Control", "no-store"}};
}

// TLS as for gRPC, but with the client certificate optional: one signed by
// the CA identifies its holder, none leaves sign-in to a token; one from
// another CA fails the handshake.
bool SetUpTls(SSL_CTX& ctx, const DashboardOptions& o,
              ServingCertificate& certificate) {
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  if (!certificate.Install(ctx) ||
      SSL_CTX_load_verify_locations(&ctx, o.tls_ca.c_str(), nullptr) != 1) {
    return false;
  }
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.tls_ca.c_str());
  if (names != nullptr) SSL_CTX_set_client_CA_list(&ctx, names);
  SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, nullptr);
  return true;
}

absl::Status CheckTransport(const DashboardOptions& o,
                            const aggregator::Authz& authz) {
  if (o.insecure) {
    if (!IsLoopbackAddress(o.address)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--http ", o.address.substr(0, 100),
          ": --insecure serves plain HTTP on loopback addresses only "
          "(127.0.0.0/8, ::1, localhost)"));
    }
    if (authz.open()) {
      return absl::InvalidArgumentError(
          "--http with --insecure needs --tokens: the dashboard asks everyone "
          "for a token, even on loopback");
    }
    return absl::OkStatus();
  }
  if (o.tls_cert.empty() || o.tls_key.empty() || o.tls_ca.empty()) {
    return absl::InvalidArgumentError(
        "--http needs --tls-cert, --tls-key and --tls-ca (or --insecure on a "
        "loopback address)");
  }
  return CheckTlsFiles(o.tls_ca, o.tls_cert, o.tls_key);
}

}  // namespace

DashboardServer::DashboardServer(DashboardOptions options, Clock* clock)
    : options_(std::move(options)), sessions_(options_.sessions, clock) {}

absl::StatusOr<std::unique_ptr<DashboardServer>> DashboardServer::Start(
    DashboardOptions options, const aggregator::SummaryStore* store,
    const aggregator::Authz* authz, Clock* clock) {
  absl::StatusOr<HttpAddress> hp = ParseHttpAddress("--http", options.address);
  if (!hp.ok()) return hp.status();
  if (absl::Status s = CheckTransport(options, *authz); !s.ok()) return s;
  std::unique_ptr<DashboardServer> d(
      new DashboardServer(std::move(options), clock));
  const DashboardOptions& o = d->options_;
  if (o.insecure) {
    d->server_ = std::make_unique<httplib::Server>();
  } else {
    absl::StatusOr<std::unique_ptr<ServingCertificate>> certificate =
        ServingCertificate::Load(o.tls_cert, o.tls_key, o.cert_refresh);
    if (!certificate.ok()) return certificate.status();
    d->certificate_ = *std::move(certificate);
    ServingCertificate& c = *d->certificate_;
    d->server_ = std::make_unique<httplib::SSLServer>(
        [&o, &c](SSL_CTX& ctx) { return SetUpTls(ctx, o, c); });
  }
  if (!d->server_->is_valid()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--http: cannot set up TLS with ", o.tls_cert, " and ", o.tls_key));
  }
  d->routes_ = std::make_unique<Routes>(
      RouteOptions{.tls = !o.insecure, .page_deadline = o.page_deadline}, store,
      authz, &d->sessions_, clock);
  d->routes_->Register(*d->server_);
  d->host_ = hp->host;
  if (absl::Status s = d->Listen(); !s.ok()) return s;
  LogLine(absl::StrCat("dashboard on ", d->url()));
  return d;
}

absl::Status DashboardServer::Listen() {
  httplib::Server& s = *server_;
  s.set_default_headers(SecurityHeaders());
  s.set_payload_max_length(kMaxBodyBytes);
  s.set_read_timeout(kReadTimeoutSeconds, 0);
  s.set_write_timeout(kWriteTimeoutSeconds, 0);
  s.set_keep_alive_max_count(100);
  s.set_keep_alive_timeout(5);
  const int threads = options_.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // SO_REUSEADDR only: httplib's default SO_REUSEPORT would let a second
  // process bind the same port and take half the requests.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  int port = 0;
  const size_t colon = options_.address.rfind(':');
  int asked = 0;
  (void)absl::SimpleAtoi(options_.address.substr(colon + 1), &asked);
  if (asked == 0) {
    port = s.bind_to_any_port(host_);
  } else {
    port = s.bind_to_port(host_, asked) ? asked : -1;
  }
  if (port <= 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot serve the dashboard on ", options_.address.substr(0, 100)));
  }
  port_ = port;
  httplib::Server* server = server_.get();
  thread_ = std::thread([server] { server->listen_after_bind(); });
  return absl::OkStatus();
}

std::string DashboardServer::url() const {
  const size_t colon = options_.address.rfind(':');
  return absl::StrCat(options_.insecure ? "http://" : "https://",
                      options_.address.substr(0, colon), ":", port_, "/");
}

DashboardServer::~DashboardServer() {
  if (thread_.joinable()) {
    // stop() before the thread began listening would be lost; the wait is
    // bounded in case listening failed.
    for (int i = 0; i < 5000 && !server_->is_running(); ++i) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    server_->stop();
    thread_.join();
  }
}

absl::StatusOr<std::unique_ptr<DashboardServer>> ServeDashboard(
    const std::string& address, const aggregator::AggregatorOptions& options,
    aggregator::Aggregator& aggregator, Clock* clock) {
  if (address.empty()) return nullptr;
  DashboardOptions d;
  d.address = address;
  d.insecure = options.insecure;
  d.tls_cert = options.tls_cert;
  d.tls_key = options.tls_key;
  d.tls_ca = options.tls_ca;
  d.cert_refresh = absl::Seconds(options.cert_refresh_seconds);
  return DashboardServer::Start(std::move(d), &aggregator.store(),
                                &aggregator.authz(), clock);
}

}  // namespace ohfed::dashboard
