// ohfed-aggregator: parses flags (or a config file with the same keys),
// wires an Aggregator and runs it until SIGTERM or SIGINT. SIGHUP reads the
// flags and config file again and puts in force what can change live
// (cli/config_reload.h, Aggregator::Reload).
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "aggregator/aggregator.h"
#include "aggregator/aggregator_metrics.h"
#include "aggregator/heap_keeper.h"
#include "aggregator/heap_populate.h"
#include "cli/config.h"
#include "cli/config_reload.h"
#include "common/catalogue.h"
#include "common/clock.h"
#include "common/data_dir.h"
#include "common/disclosure.h"
#include "common/log.h"
#include "common/memory_trim.h"
#include "common/mutex_mode.h"
#include "common/reference_files.h"
#include "common/registry.h"
#include "common/rocksdb_util.h"
#include "common/signals.h"
#include "common/transport.h"
#include "common/version.h"
#include "daemon/notify.h"
#include "daemon/reflection.h"
#include "dashboard/server.h"

namespace {

using ohfed::aggregator::Aggregator;
using ohfed::aggregator::AggregatorOptions;

struct Flags {
  AggregatorOptions options;
  std::string http, metrics;
  std::vector<std::string> registry, catalogue;  // files or folders
  int stream_idle_seconds = 60;
  int upstream_initial_backoff_ms = 200, upstream_max_backoff_seconds = 30;
  int upstream_holds_check_seconds = 300;
  int group_commit_delay_ms = 0;
};

void AddFlags(CLI::App& app, Flags& f) {
  ohfed::AddConfigFile(app);
  app.set_version_flag("--version",
                       absl::StrCat("ohfed-aggregator ", ohfed::Version()));
  app.add_option("--listen", f.options.listen, "gRPC address HOST:PORT")
      ->required();
  app.add_option("--data", f.options.data_dir, "data directory (RocksDB)")
      ->required();
  app.add_option("--http", f.http,
                 "serve the web dashboard on HOST:PORT (HTTPS with the "
                 "--tls-* files; plain HTTP with --insecure on loopback, "
                 "which then needs --tokens)");
  app.add_option("--metrics", f.metrics,
                 "serve Prometheus metrics on http://HOST:PORT/metrics");
  app.add_option("--upstream", f.options.upstream,
                 "forward unit summaries to this aggregator HOST:PORT");
  app.add_option("--covers", f.options.covers,
                 "what this aggregator covers: region:CODE or ics:CODE "
                 "(default: the whole registry)");
  app.add_flag("--insecure", f.options.insecure,
               "plaintext gRPC; loopback addresses only");
  app.add_option("--tls-cert", f.options.tls_cert,
                 "serving certificate (PEM), valid for the --listen host");
  app.add_option("--tls-key", f.options.tls_key, "its private key (PEM)");
  app.add_option("--tls-ca", f.options.tls_ca,
                 "CA certificate(s) that clients' and the upstream's "
                 "certificates must be signed by (PEM)");
  app.add_option("--upstream-tls-cert", f.options.upstream_tls_cert,
                 "certificate presented to --upstream, e.g. this region's "
                 "(region:CODE) (default: --tls-cert)");
  app.add_option("--upstream-tls-key", f.options.upstream_tls_key,
                 "its private key (default: --tls-key)");
  app.add_option("--tokens", f.options.tokens_file,
                 "query tokens file (lines from `ohfed token new`); with it "
                 "queries need a token or a certificate even on loopback");
  app.add_option("--registry", f.registry,
                 "organisation registry CSV files or folders of them, one "
                 "version per file by its effective_from month (default: "
                 "England, embedded); re-read on SIGHUP");
  app.add_option("--catalogue", f.catalogue,
                 "measure catalogue CSV files or folders: the newest version "
                 "is used, older ones and the embedded one stay accepted "
                 "(default: embedded); re-read on SIGHUP");
  app.add_option("--stream-idle-timeout", f.stream_idle_seconds,
                 "seconds an ingest stream may wait for its next batch, or "
                 "for its peer to take its acks, before it is ended")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-streams-per-peer",
                 f.options.ingest.max_streams_per_peer,
                 "ingest streams open at once from one peer address")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--group-commit-delay-ms", f.group_commit_delay_ms,
                 "milliseconds a commit waits for others to share its fsync "
                 "(0: none; a few ms helps under many concurrent streams)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  app.add_option("--query-answers-kept", f.options.query_answers_kept,
                 "light-query and completeness answers kept until the data "
                 "changes, to answer a repeated query without computing it "
                 "(0: compute every answer)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  app.add_option("--upstream-initial-backoff-ms", f.upstream_initial_backoff_ms,
                 "first wait before retrying --upstream after a failure; "
                 "doubles on each failure")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--upstream-max-backoff-seconds",
                 f.upstream_max_backoff_seconds,
                 "longest wait between retries of --upstream")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--upstream-holds-check-seconds",
                 f.upstream_holds_check_seconds,
                 "how often to ask --upstream what it holds of each trust, "
                 "to resend what a damaged upstream store lost (also after "
                 "every reconnection)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  // Disclosure control (SPEC §7); config keys are the flag names.
  ohfed::DisclosureOptions& d = f.options.store.disclosure;
  app.add_option("--suppress-max", d.suppress_max,
                 "below national, disclosive counts 1..N are shown as *")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--rounding-base", d.rounding_base,
                 "below national, larger disclosive counts are rounded to "
                 "the nearest multiple of this")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--min-events", d.min_events,
                 "below national, a mean, median or percentile built on "
                 "fewer events is shown as *")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  ohfed::AddLogFormatOption(app);
  app.add_flag("--rebuild-rollups", f.options.rebuild_rollups,
               "recompute every rollup from the unit summaries at start-up "
               "(every start does; kept for scripts that pass it)");
}

// The keys SIGHUP puts in force (Aggregator::Reload); any other that
// changed is logged as needing a restart.
const std::set<std::string> kLiveKeys = {"registry",
                                         "catalogue",
                                         "tokens",
                                         "log-format",
                                         "suppress-max",
                                         "rounding-base",
                                         "min-events",
                                         "upstream-initial-backoff-ms",
                                         "upstream-max-backoff-seconds"};

// --registry and --catalogue, then the durations, into the options.
absl::Status FinishOptions(Flags& f) {
  absl::Status loaded = ohfed::aggregator::LoadReferenceData(
      f.registry, f.catalogue, f.options.store);
  if (!loaded.ok()) return loaded;
  f.options.ingest.idle_timeout = absl::Seconds(f.stream_idle_seconds);
  f.options.store.group_commit_delay =
      absl::Milliseconds(f.group_commit_delay_ms);
  f.options.uploader.initial_backoff =
      absl::Milliseconds(f.upstream_initial_backoff_ms);
  f.options.uploader.max_backoff =
      absl::Seconds(f.upstream_max_backoff_seconds);
  f.options.uploader.holds_check_every =
      absl::Seconds(f.upstream_holds_check_seconds);
  return absl::OkStatus();
}

// SIGHUP: the command line and config file again.
absl::Status Reload(ohfed::ConfigReloader& config, int argc, char** argv,
                    Aggregator& aggregator) {
  CLI::App app;
  Flags next;
  AddFlags(app, next);
  return config.Reload(app, argc, argv, [&] {
    absl::Status s = FinishOptions(next);
    return s.ok() ? aggregator.Reload(next.options) : s;
  });
}

}  // namespace

int main(int argc, char** argv) {
  ohfed::UseReleaseMutexMode();  // common/mutex_mode.h
  // Before any thread exists, so that none keeps a malloc arena of its own
  // that the next thread does not reuse (aggregator/heap_keeper.h measured
  // 16 arenas holding 425 MiB free after a load).
  ohfed::LimitMallocArenas(2);
  // New heap made resident in one call, not a fault a page
  // (heap_populate.h).
  ohfed::aggregator::PopulateHeapGrowth();
  CLI::App app{
      "ohfed aggregator: ingests trust summaries, keeps rollups, "
      "answers queries, forwards upstream"};
  Flags flags;
  AddFlags(app, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "ohfed-aggregator: " << e.what() << "\n";
    return 2;
  }
  ohfed::RouteGrpcLogs();
  if (absl::Status s = FinishOptions(flags); !s.ok()) {
    ohfed::LogError(s.message());
    return 1;
  }
  // OHFED_TEST_NOW (tests only, common/clock.h); ingest, queries and the
  // upstream uploader take the store's clock.
  absl::StatusOr<ohfed::Clock*> clock = ohfed::ClockFromEnvironment();
  if (!clock.ok()) {
    ohfed::LogError(clock.status().message());
    return 2;
  }
  flags.options.store.clock = *clock;
  // Before any thread exists, so that none of them takes the signals.
  const sigset_t stop = ohfed::BlockStopSignals();

  ohfed::EnableDiscovery();  // health and reflection (daemon/reflection.h)
  auto aggregator = Aggregator::Start(flags.options);
  if (!aggregator.ok()) {
    ohfed::LogError(aggregator.status().message());
    return ohfed::ExitCodeFor(aggregator.status());
  }
  auto metrics = ohfed::aggregator::ServeAggregatorMetrics(
      flags.metrics, aggregator->get(), *clock);
  auto dashboard = ohfed::dashboard::ServeDashboard(flags.http, flags.options,
                                                    **aggregator, *clock);
  absl::Status ready = !metrics.ok()     ? metrics.status()
                       : !dashboard.ok() ? dashboard.status()
                                         : absl::OkStatus();
  if (ready.ok()) {
    // Loading the store touched far more than serving keeps; then free heap
    // goes back to the system as ingest and queries leave it. Before the
    // line below, so that whoever reads the memory after it reads what
    // serving holds (tests/bench/bench.py's "empty").
    ohfed::TrimMemory();
    // Once everything serves, so that a start-up failure stays a single
    // line, and before READY=1, so that whoever waits for it finds the line.
    ohfed::LogLine(
        absl::StrCat(ohfed::Describe(*flags.options.store.registry), "; ",
                     ohfed::Describe(*flags.options.store.catalogues)));
    ready = ohfed::NotifyReadyWhenAnswering((*aggregator)->address());
  }
  if (!ready.ok()) {
    ohfed::LogError(ready.message());
    return 1;
  }
  if (std::string w = ohfed::TestClockWarning(**clock); !w.empty()) {
    ohfed::LogWarning(w);
  }
  ohfed::aggregator::SummaryStore& store = (*aggregator)->store();
  ohfed::aggregator::HeapKeeperOptions keeper;
  keeper.activity = [&store] { return store.stats().commits; };
  // While ingest goes on, the memtables' arenas are freed and taken again.
  keeper.busy_max_free_bytes =
      keeper.max_free_bytes +
      ohfed::kMaxWriteBuffers * ohfed::kServerWriteBufferBytes;
  keeper.on_quiet = [&store] {
    if (absl::Status s = store.ReleaseIdleMemory(); !s.ok()) {
      ohfed::LogWarning(s.message());
    }
    ohfed::TrimMemory();
  };
  auto heap_keeper =
      std::make_unique<ohfed::aggregator::HeapKeeper>(std::move(keeper));
  ohfed::ConfigReloader config(app, kLiveKeys);
  ohfed::WaitForStopSignal(stop, [&] {
    ohfed::ReloadAndNotify(
        [&] { return Reload(config, argc, argv, **aggregator); });
  });
  ohfed::NotifyStopping();
  heap_keeper.reset();  // its on_quiet uses the store
  dashboard->reset();
  metrics->reset();
  (*aggregator)->Shutdown(absl::Seconds(5));
  aggregator->reset();
  ohfed::LogLine("stopped");
  return 0;
}
