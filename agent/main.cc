// ohfed-agent: the trust agent daemon (SPEC §10).
//
//   ohfed-agent --trust CODE --data DIR --aggregator HOST:PORT
//               [--socket PATH] [--config FILE]
//               (--tls-cert FILE --tls-key FILE --tls-ca FILE | --insecure)
//
// Every flag is also a key of the config file (trust = "RJ1"; cli/config.h).
// Runs until SIGTERM or SIGINT, then shuts down cleanly and exits 0
// (common/signals.h).
#include <CLI/CLI.hpp>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "agent/agent.h"
#include "agent/agent_metrics.h"
#include "cli/config.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/transport.h"
#include "common/version.h"
#include "daemon/notify.h"
#include "daemon/reflection.h"

int main(int argc, char** argv) {
  // Before any thread exists, so that none of them takes the signals.
  const sigset_t signals = ohfed::BlockStopSignals();

  ohfed::agent::AgentOptions options;
  CLI::App app{
      "ohfed-agent: records a trust's OH staffing and activity and "
      "sends anonymised summaries to an ohfed aggregator."};
  app.add_option("--trust", options.trust, "ODS code of this trust, e.g. RJ1")
      ->required();
  app.add_option("--data", options.data_dir,
                 "data directory (the agent's database and default socket)")
      ->required();
  app.add_option("--aggregator", options.aggregator,
                 "aggregator to send summaries to, HOST:PORT")
      ->required();
  app.add_option("--socket", options.socket,
                 "unix socket for the ohfed CLI (default DATA/agent.sock)");
  std::string metrics_address;
  app.add_option("--metrics", metrics_address,
                 "serve Prometheus metrics on http://HOST:PORT/metrics");
  app.add_flag("--insecure", options.insecure,
               "plaintext to the aggregator; loopback addresses only");
  app.add_option("--tls-cert", options.tls_cert,
                 "this trust's certificate (PEM; its identity is trust:CODE)");
  app.add_option("--tls-key", options.tls_key, "its private key (PEM)");
  app.add_option("--tls-ca", options.tls_ca,
                 "CA certificate(s) the aggregator's certificate is checked "
                 "against (PEM)");
  int initial_backoff_ms = 200, max_backoff_seconds = 30;
  app.add_option("--initial-backoff-ms", initial_backoff_ms,
                 "first wait before retrying the aggregator after a failure; "
                 "doubles on each failure")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-backoff-seconds", max_backoff_seconds,
                 "longest wait between retries of the aggregator")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  ohfed::AddLogFormatOption(app);
  ohfed::AddConfigFile(app);
  app.set_version_flag("--version",
                       absl::StrCat("ohfed-agent ", ohfed::Version()));
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("ohfed-agent: ") + e.what() + " (see --help)\n";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  ohfed::RouteGrpcLogs();
  // OHFED_TEST_NOW (tests only, common/clock.h).
  absl::StatusOr<ohfed::Clock*> clock = ohfed::ClockFromEnvironment();
  if (!clock.ok()) {
    ohfed::LogError(clock.status().message());
    return 2;
  }
  options.clock = *clock;
  options.uploader.initial_backoff = absl::Milliseconds(initial_backoff_ms);
  options.uploader.max_backoff = absl::Seconds(max_backoff_seconds);
  ohfed::EnableDiscovery();  // health and reflection (daemon/reflection.h)
  auto agent = ohfed::agent::Agent::Start(options);
  if (!agent.ok()) {
    ohfed::LogError(agent.status().message());
    return 1;
  }
  auto metrics =
      ohfed::agent::ServeAgentMetrics(metrics_address, agent->get(), *clock);
  absl::Status ready =
      metrics.ok()
          ? ohfed::NotifyReadyWhenAnswering("unix:" + (*agent)->socket())
          : metrics.status();
  if (!ready.ok()) {
    ohfed::LogError(ready.message());
    return 1;
  }
  if (std::string w = ohfed::TestClockWarning(**clock); !w.empty()) {
    ohfed::LogWarning(w);
  }
  // Nothing of the agent's needs SIGHUP: certificates rotate by themselves.
  ohfed::WaitForStopSignal(signals, [] {
    ohfed::LogLine(
        "SIGHUP: nothing to reload; certificates are re-read "
        "by their file watcher");
  });
  ohfed::NotifyStopping();
  metrics->reset();
  (*agent)->Shutdown(absl::Seconds(5));
  agent->reset();
  ohfed::LogLine("stopped");
  return 0;
}
