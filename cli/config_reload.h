// Re-reading a daemon's flags and config file on SIGHUP (issue 11).
//
// The daemon defines a fresh CLI::App exactly as at start and parses its
// command line into it again, so the file named by --config is read again as
// it is now (command-line flags still win over it). Each key's value is then
// compared with the one in force: the keys the daemon can change while
// running ("live" keys) are handed to the daemon to put in force; any other
// key that changed is logged as a warning naming it ("listen changed: needs
// a restart") and keeps its old value, as the daemon ignores it.
//
// Not thread-safe: the daemon's main thread reloads, one SIGHUP at a time.
#ifndef OHFED_CLI_CONFIG_RELOAD_H_
#define OHFED_CLI_CONFIG_RELOAD_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace ohfed {

// Every setting's raw values by key (the long flag name without "--"), as
// given on the command line or in the config file; no entry for a setting
// left at its default. --help, --version and --config are not settings.
using ConfigValues = std::map<std::string, std::vector<std::string>>;
ConfigValues ValuesOf(const CLI::App& app);

class ConfigReloader {
 public:
  // `started`: the daemon's app as parsed at start. `live`: the keys it can
  // put in force while running.
  ConfigReloader(const CLI::App& started, std::set<std::string> live);

  // One SIGHUP. `app` is a fresh app defined as at start, its flags bound to
  // fresh variables. Parses argv into it, logs a warning for each changed
  // key that is not live, then calls `apply`, which reads the fresh
  // variables and puts the live settings in force (or refuses, changing
  // nothing). On success the live keys' new values are those in force. On
  // error nothing is: the log format in force is restored (--log-format
  // takes effect as it is parsed), and the error is returned prefixed by
  // "reload refused, what was loaded before stays in force: ", naming the
  // config file and line for a malformed file, and whatever `apply` names.
  absl::Status Reload(CLI::App& app, int argc, const char* const* argv,
                      const std::function<absl::Status()>& apply);

  const ConfigValues& in_force() const { return in_force_; }

 private:
  // Warns of each key of `next` that changed but cannot be put in force.
  void WarnRestartKeys(const ConfigValues& next) const;
  void RestoreLogFormat() const;

  ConfigValues in_force_;
  const std::set<std::string> live_;
};

}  // namespace ohfed

#endif  // OHFED_CLI_CONFIG_RELOAD_H_
