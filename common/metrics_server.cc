#include "common/metrics_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/http_address.h"
#include "common/log.h"
#include "common/process_metrics.h"

namespace ohfed {
namespace {}  // namespace

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& address, metrics::Registry* registry) {
  absl::StatusOr<HttpAddress> hp = ParseHttpAddress("--metrics", address);
  if (!hp.ok()) return hp.status();
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->server_ = std::make_unique<httplib::Server>();
  s->server_->Get("/metrics",
                  [registry](const httplib::Request&, httplib::Response& res) {
                    res.set_content(registry->Expose(), kMetricsContentType);
                  });
  // httplib's default sets SO_REUSEPORT, which would let a second daemon
  // bind the same port and take half the scrapes; SO_REUSEADDR only.
  s->server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // Scrapes are few and short: two threads, not httplib's default eight.
  s->server_->new_task_queue = [] { return new httplib::ThreadPool(2); };
  int port = hp->port;
  if (port == 0) {
    port = s->server_->bind_to_any_port(hp->host);
  } else if (!s->server_->bind_to_port(hp->host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address.substr(0, 100)));
  }
  s->port_ = port;
  s->address_ = absl::StrCat(address.substr(0, address.rfind(':')), ":", port);
  httplib::Server* server = s->server_.get();
  s->thread_ = std::thread([server] { server->listen_after_bind(); });
  return s;
}

MetricsServer::~MetricsServer() {
  if (thread_.joinable()) {
    // stop() before the thread began listening would be lost; the wait is
    // bounded in case listening failed.
    for (int i = 0; i < 5000 && !server_->is_running(); ++i) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    server_->stop();
  }
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> ServeMetrics(
    const std::string& address,
    std::vector<metrics::Registry::Collector> collectors) {
  if (address.empty()) return nullptr;
  auto endpoint = std::make_unique<MetricsEndpoint>();
  metrics::Registry& registry = metrics::Global();
  endpoint->collectors.push_back(
      registry.AddCollector(metrics::CollectProcess));
  for (auto& c : collectors) {
    endpoint->collectors.push_back(registry.AddCollector(std::move(c)));
  }
  absl::StatusOr<std::unique_ptr<MetricsServer>> server =
      MetricsServer::Start(address, &registry);
  if (!server.ok()) return server.status();
  endpoint->server = std::move(*server);
  LogLine(absl::StrCat("metrics on http://", endpoint->server->address(),
                       "/metrics"));
  return endpoint;
}

}  // namespace ohfed
