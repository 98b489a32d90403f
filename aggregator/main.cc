// ohfed-aggregator: parses flags (or a config file with the same keys),
// wires an Aggregator and runs it until SIGTERM or SIGINT.
#include <signal.h>

#include <iostream>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "aggregator/aggregator.h"
#include "common/catalogue.h"
#include "common/registry.h"

namespace {

using ohfed::aggregator::Aggregator;
using ohfed::aggregator::AggregatorOptions;

struct Flags {
  AggregatorOptions options;
  std::string http, registry_file, catalogue_file;
};

void AddFlags(CLI::App& app, Flags& f) {
  app.set_config("--config", "", "config file (TOML); every flag is a key");
  app.add_option("--listen", f.options.listen, "gRPC address HOST:PORT")->required();
  app.add_option("--data", f.options.data_dir, "data directory (RocksDB)")->required();
  app.add_option("--http", f.http, "dashboard address HOST:PORT (not built yet)");
  app.add_option("--upstream", f.options.upstream,
                 "forward unit summaries to this aggregator HOST:PORT");
  app.add_flag("--insecure", f.options.insecure,
               "plaintext gRPC; loopback addresses only");
  app.add_option("--registry", f.registry_file,
                 "organisation registry CSV (default: England, embedded)");
  app.add_option("--catalogue", f.catalogue_file,
                 "measure catalogue CSV (default: embedded)");
  app.add_flag("--rebuild-rollups", f.options.rebuild_rollups,
               "recompute every rollup from the unit summaries at start-up");
}

// Loads --registry and --catalogue into the store options.
bool LoadReferenceData(Flags& f) {
  if (!f.registry_file.empty()) {
    auto r = ohfed::Registry::LoadFile(f.registry_file);
    if (!r.ok()) {
      std::cerr << "ohfed-aggregator: " << r.status().message() << "\n";
      return false;
    }
    f.options.store.registry = std::make_shared<ohfed::RegistryHistory>(*r);
    std::cerr << "ohfed-aggregator: registry " << (*r)->version() << " from "
              << f.registry_file << "\n";
  }
  if (!f.catalogue_file.empty()) {
    auto c = ohfed::Catalogue::LoadFile(f.catalogue_file);
    if (!c.ok()) {
      std::cerr << "ohfed-aggregator: " << c.status().message() << "\n";
      return false;
    }
    f.options.store.catalogue = *c;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ohfed aggregator: ingests trust summaries, keeps rollups, "
               "answers queries, forwards upstream"};
  Flags flags;
  AddFlags(app, flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "ohfed-aggregator: " << e.what() << "\n";
    return 2;
  }
  if (!LoadReferenceData(flags)) return 1;
  if (!flags.http.empty()) {
    std::cerr << "ohfed-aggregator: --http " << flags.http
              << " ignored: the web dashboard is not built yet\n";
  }
  // Block the stop signals in every thread (gRPC's and RocksDB's inherit the
  // mask) so that only sigwait below receives them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGHUP);  // reload is a later issue; never die of it
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  auto aggregator = Aggregator::Start(flags.options);
  if (!aggregator.ok()) {
    std::cerr << "ohfed-aggregator: " << aggregator.status().message() << "\n";
    return 1;
  }
  int sig = 0;
  while (sigwait(&stop, &sig) == 0 && sig == SIGHUP) {
    std::cerr << "ohfed-aggregator: SIGHUP ignored: reload is not supported yet\n";
  }
  std::cerr << "ohfed-aggregator: " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
            << ", shutting down\n";
  (*aggregator)->Shutdown(absl::Seconds(5));
  aggregator->reset();
  std::cerr << "ohfed-aggregator: stopped\n";
  return 0;
}
