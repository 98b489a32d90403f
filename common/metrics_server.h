// Serves a metrics registry (common/metrics.h) over HTTP: GET /metrics
// answers the text exposition format 0.0.4; anything else is 404.
//
// `--metrics HOST:PORT` on the daemons. The address is the operator's
// choice: the figures are operational (counts, ages, trust codes), not
// patient or staff data, but a loopback address or a firewalled interface
// is the usual choice. Port 0 picks a free port (see port()).
//
// One background thread between Start() and destruction. Thread-safe.
#ifndef OHFED_COMMON_METRICS_SERVER_H_
#define OHFED_COMMON_METRICS_SERVER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/metrics.h"

namespace httplib {
class Server;
}

namespace ohfed {

class MetricsServer {
 public:
  // kInvalidArgument naming the address if it is not HOST:PORT (IPv6 as
  // [ADDR]:PORT), kUnavailable if it cannot be bound. `registry` must
  // outlive the server.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& address, metrics::Registry* registry);
  ~MetricsServer();  // stops serving and joins
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return port_; }
  // "HOST:PORT" with the bound port.
  const std::string& address() const { return address_; }

 private:
  MetricsServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::string address_;
};

// A daemon's metrics: its collectors on metrics::Global() (with the
// process_* ones) and the server exposing them. Destroying it stops the
// server, then removes the collectors, so the objects they read may go
// after it.
struct MetricsEndpoint {
  std::vector<std::unique_ptr<metrics::Registry::CollectorHandle>> collectors;
  std::unique_ptr<MetricsServer> server;  // declared last: destroyed first
};
// nullptr for an empty address (no --metrics); otherwise logs "metrics on
// http://HOST:PORT/metrics". Errors as MetricsServer::Start.
absl::StatusOr<std::unique_ptr<MetricsEndpoint>> ServeMetrics(
    const std::string& address,
    std::vector<metrics::Registry::Collector> collectors);

// The content type of the text format 0.0.4.
inline constexpr char kMetricsContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

}  // namespace ohfed

#endif  // OHFED_COMMON_METRICS_SERVER_H_
