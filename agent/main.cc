// ohfed-agent: the trust agent daemon (SPEC §10).
//
//   ohfed-agent --trust CODE --data DIR --aggregator HOST:PORT
//               [--socket PATH] [--config FILE]
//               (--tls-cert FILE --tls-key FILE --tls-ca FILE | --insecure)
//
// Every flag is also a key of the config file (trust = "RJ1"; cli/config.h).
// Runs until SIGTERM or SIGINT, then shuts down cleanly and exits 0
// (common/signals.h). SIGHUP reads the flags and config file again and puts
// the log format and retry backoff in force; other keys need a restart
// (cli/config_reload.h).
#include <CLI/CLI.hpp>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/agent.h"
#include "agent/agent_metrics.h"
#include "cli/config.h"
#include "cli/config_reload.h"
#include "common/clock.h"
#include "common/data_dir.h"
#include "common/log.h"
#include "common/memory_trim.h"
#include "common/mutex_mode.h"
#include "common/reference_files.h"
#include "common/signals.h"
#include "common/transport.h"
#include "common/version.h"
#include "daemon/notify.h"
#include "daemon/reflection.h"

namespace {

struct Flags {
  ohfed::agent::AgentOptions options;
  std::string metrics_address;
  std::vector<std::string> registry;  // files or folders
  int initial_backoff_ms = 200, max_backoff_seconds = 30;
};

// The keys SIGHUP puts in force; any other that changed needs a restart.
const std::set<std::string> kLiveKeys = {"log-format", "initial-backoff-ms",
                                         "max-backoff-seconds"};

void AddFlags(CLI::App& app, Flags& f) {
  ohfed::agent::AgentOptions& options = f.options;
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
  app.add_option("--registry", f.registry,
                 "organisation registry CSV files or folders --trust is "
                 "checked against, for a trust newer than this release "
                 "(default: England, embedded)");
  app.add_option("--metrics", f.metrics_address,
                 "serve Prometheus metrics on http://HOST:PORT/metrics");
  app.add_flag("--insecure", options.insecure,
               "plaintext to the aggregator; loopback addresses only");
  app.add_option("--tls-cert", options.tls_cert,
                 "this trust's certificate (PEM; its identity is trust:CODE)");
  app.add_option("--tls-key", options.tls_key, "its private key (PEM)");
  app.add_option("--tls-ca", options.tls_ca,
                 "CA certificate(s) the aggregator's certificate is checked "
                 "against (PEM)");
  app.add_option("--initial-backoff-ms", f.initial_backoff_ms,
                 "first wait before retrying the aggregator after a failure; "
                 "doubles on each failure")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-backoff-seconds", f.max_backoff_seconds,
                 "longest wait between retries of the aggregator")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  ohfed::AddLogFormatOption(app);
  ohfed::AddConfigFile(app);
  app.set_version_flag("--version",
                       absl::StrCat("ohfed-agent ", ohfed::Version()));
}

// SIGHUP: the command line and config file again.
absl::Status Reload(ohfed::ConfigReloader& config, int argc, char** argv,
                    ohfed::agent::Agent& agent) {
  CLI::App app;
  Flags next;
  AddFlags(app, next);
  return config.Reload(app, argc, argv, [&] {
    if (ohfed::Uploader* uploader = agent.uploader()) {
      uploader->SetBackoff(absl::Milliseconds(next.initial_backoff_ms),
                           absl::Seconds(next.max_backoff_seconds));
    }
    ohfed::LogLine(absl::StrCat("reload: retry backoff ",
                                next.initial_backoff_ms, " ms doubling to ",
                                next.max_backoff_seconds, " s"));
    return absl::OkStatus();
  });
}

}  // namespace

int main(int argc, char** argv) {
  ohfed::UseReleaseMutexMode();  // common/mutex_mode.h
  // Before any thread exists, so that none of them takes the signals, nor
  // keeps a malloc arena of its own (common/memory_trim.h).
  const sigset_t signals = ohfed::BlockStopSignals();
  ohfed::LimitMallocArenas(2);

  CLI::App app{
      "ohfed-agent: records a trust's OH staffing and activity and "
      "sends anonymised summaries to an ohfed aggregator."};
  Flags flags;
  AddFlags(app, flags);
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("ohfed-agent: ") + e.what() + " (see --help)\n";
  });
  ohfed::agent::AgentOptions& options = flags.options;
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
  absl::StatusOr<std::shared_ptr<const ohfed::RegistryHistory>> registry =
      ohfed::LoadRegistryHistory(flags.registry);
  if (!registry.ok()) {
    ohfed::LogError(registry.status().message());
    return 1;
  }
  options.registry = *registry;
  options.uploader.initial_backoff =
      absl::Milliseconds(flags.initial_backoff_ms);
  options.uploader.max_backoff = absl::Seconds(flags.max_backoff_seconds);
  ohfed::EnableDiscovery();  // health and reflection (daemon/reflection.h)
  auto agent = ohfed::agent::Agent::Start(options);
  if (!agent.ok()) {
    ohfed::LogError(agent.status().message());
    return ohfed::ExitCodeFor(agent.status());
  }
  auto metrics = ohfed::agent::ServeAgentMetrics(flags.metrics_address,
                                                 agent->get(), *clock);
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
  // Start-up touched far more than idling will use.
  ohfed::TrimMemory();
  // Certificates rotate by themselves (their file watcher); SIGHUP re-reads
  // the configuration.
  ohfed::ConfigReloader config(app, kLiveKeys);
  ohfed::WaitForStopSignal(signals, [&] {
    ohfed::ReloadAndNotify([&] { return Reload(config, argc, argv, **agent); });
  });
  ohfed::NotifyStopping();
  metrics->reset();
  (*agent)->Shutdown(absl::Seconds(5));
  agent->reset();
  ohfed::LogLine("stopped");
  return 0;
}
