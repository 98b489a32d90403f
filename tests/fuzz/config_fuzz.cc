// Fuzz target: the daemons' config file reader (cli/config.h): the strict
// `key = value` check, then CLI11's TOML reader, applied to an app with the
// daemons' kinds of flags (strings, checked integers, booleans, the log
// format). The input is the config file. Properties: nothing crashes and
// nothing but a CLI11 error is thrown (a daemon reports those in one line);
// a file the syntax check refuses is refused by the parse too.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "cli/config.h"
#include "common/log.h"
#include "tests/fuzz/fuzz_check.h"

namespace ohfed {
namespace {

// A scratch file, in a directory made once per process.
const std::string& ConfigPath() {
  static const std::string* path = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string dir =
        std::string(tmp && *tmp ? tmp : "/tmp") + "/ohfed-config-fuzz-XXXXXX";
    if (mkdtemp(dir.data()) == nullptr) std::abort();
    return new std::string(dir + "/daemon.conf");
  }();
  return *path;
}

struct Flags {
  std::string listen, data, covers, upstream, tls_cert, metrics;
  bool insecure = false, rebuild = false;
  int idle = 60, streams = 16, delay = 0, suppress = 7;
};

void AddFlags(CLI::App& app, Flags& f) {
  AddConfigFile(app);
  app.add_option("--listen", f.listen);
  app.add_option("--data", f.data);
  app.add_option("--covers", f.covers);
  app.add_option("--upstream", f.upstream);
  app.add_option("--tls-cert", f.tls_cert);
  app.add_option("--metrics", f.metrics);
  app.add_flag("--insecure", f.insecure);
  app.add_flag("--rebuild-rollups", f.rebuild);
  app.add_option("--stream-idle-timeout", f.idle)->check(CLI::PositiveNumber);
  app.add_option("--max-streams-per-peer", f.streams)
      ->check(CLI::PositiveNumber);
  app.add_option("--group-commit-delay-ms", f.delay)
      ->check(CLI::Range(0, 1000));
  app.add_option("--suppress-max", f.suppress)->check(CLI::NonNegativeNumber);
  AddLogFormatOption(app);
}

}  // namespace
}  // namespace ohfed

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ohfed;  // NOLINT: a fuzz entry point
  const std::string text(reinterpret_cast<const char*>(data), size);
  const bool syntax_ok = CheckConfigSyntax(text).ok();
  {
    std::ofstream out(ConfigPath(), std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.good()) std::abort();
  }
  CLI::App app{"fuzz"};
  Flags flags;
  AddFlags(app, flags);
  const std::string config = ConfigPath();
  const char* argv[] = {"daemon", "--config", config.c_str()};
  bool parsed = true;
  try {
    app.parse(3, argv);
  } catch (const CLI::Error&) {
    parsed = false;
  }
  FUZZ_CHECK(syntax_ok || !parsed, text.substr(0, 200));
  SetLogFormat(LogFormat::kText);
  return 0;
}
