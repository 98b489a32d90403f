// The web dashboard server: `ohfed-aggregator --http HOST:PORT` (issue 12,
// SPEC §9), on Debian's cpp-httplib.
//
// Routes (paths as dashboard/page_model.h):
//   GET  /                                the visitor's own scope's page
//   GET  /login, POST /login              the sign-in form (field "token")
//   POST /logout                          ends the session
//   GET  /scope/...?period=P              a page (HTML)
//   GET  /scope/.../<table-id>.csv?period=P   one table (CSV)
// Who is looking, and what they may see, is dashboard/access.h: a page or
// download outside the visitor's scope is 403, nobody is sent to /login
// (303; a CSV is 401). The session cookie is HttpOnly and SameSite=Strict,
// and Secure under TLS; sign-in and sign-out are POSTs, and a POST whose
// Origin is another site is refused.
//
// Transport, as for gRPC (common/transport.h): TLS with the aggregator's
// certificate, key and CA, the certificate and key re-read when renewed; a
// client certificate signed by the CA is optional and, when presented,
// identifies the caller (common/identity.h). Plain HTTP only with `insecure` on
// a loopback address, and then only with a tokens file: the dashboard always
// asks who is looking.
//
// Bounded: request bodies (16 KiB), headers (httplib's 8 KiB), read and
// write timeouts, a few worker threads, and a deadline on building a page.
// Tokens never appear in URLs (the login form is a POST) nor in logs.
//
// Background threads between Start() and destruction. Thread-safe. The
// store, authz and clock must outlive the server.
#ifndef OHFED_DASHBOARD_SERVER_H_
#define OHFED_DASHBOARD_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aggregator/aggregator.h"
#include "aggregator/authz.h"
#include "aggregator/summary_store.h"
#include "common/clock.h"
#include "dashboard/access.h"
#include "dashboard/serving_certificate.h"
#include "dashboard/session.h"

namespace httplib {
class Server;
}

namespace ohfed::dashboard {

class Routes;  // dashboard/routes.h

struct DashboardOptions {
  std::string address;  // HOST:PORT (IPv6 as [ADDR]:PORT); port 0: any
  bool insecure = false;
  std::string tls_cert, tls_key, tls_ca;  // PEM files, as the aggregator's
  // How often the certificate and key are re-read for a renewed pair
  // (dashboard/serving_certificate.h); the CA is read at start.
  absl::Duration cert_refresh = absl::Seconds(60);
  SessionOptions sessions;
  absl::Duration page_deadline = absl::Seconds(30);
  int threads = 4;
};

class DashboardServer {
 public:
  // kInvalidArgument naming the address when it is not HOST:PORT, when it
  // is plain HTTP on a non-loopback address, or when no tokens file backs a
  // plain-HTTP dashboard; the file's error for unreadable or mismatched TLS
  // files; kUnavailable if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<DashboardServer>> Start(
      DashboardOptions options, const aggregator::SummaryStore* store,
      const aggregator::Authz* authz, Clock* clock);
  ~DashboardServer();  // stops serving and joins
  DashboardServer(const DashboardServer&) = delete;
  DashboardServer& operator=(const DashboardServer&) = delete;

  int port() const { return port_; }
  // "https://HOST:PORT/" (or http://) with the bound port.
  std::string url() const;
  bool tls() const { return !options_.insecure; }

 private:
  DashboardServer(DashboardOptions options, Clock* clock);
  absl::Status Listen();

  const DashboardOptions options_;
  SessionStore sessions_;
  std::unique_ptr<ServingCertificate> certificate_;  // TLS only
  std::unique_ptr<Routes> routes_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string host_;
  int port_ = 0;
};

// `--http ADDRESS` for a running aggregator: its store and authorisation,
// its --insecure and TLS files. nullptr for an empty address; errors as
// DashboardServer::Start. The aggregator must outlive the server.
absl::StatusOr<std::unique_ptr<DashboardServer>> ServeDashboard(
    const std::string& address, const aggregator::AggregatorOptions& options,
    aggregator::Aggregator& aggregator, Clock* clock);

}  // namespace ohfed::dashboard

#endif  // OHFED_DASHBOARD_SERVER_H_
