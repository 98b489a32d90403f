// The daemons' config file (SPEC §9): every command-line flag is also a key,
// written `key = value` one per line (TOML: strings in double quotes,
// numbers and true/false bare, `#` comments), e.g.
//
//   listen = "127.0.0.1:7400"
//   data = "/var/lib/ohfed"
//   insecure = true
//
// A misspelt key or a line that is not `key = value` is refused at start,
// naming the file, the line and the key, rather than silently ignored.
#ifndef OHFED_CLI_CONFIG_H_
#define OHFED_CLI_CONFIG_H_

#include <CLI/CLI.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ohfed {

// Adds --config FILE to `app` with the strict reader above. Parse errors are
// thrown as CLI::ConfigError from app.parse(), like any other flag error.
void AddConfigFile(CLI::App& app);

// Adds --log-format text|json|journal (key log-format, or the environment
// variable OHFED_LOG_FORMAT, which the systemd units set; a config file key
// wins over it), which sets the daemon's log format (common/log.h) as it is
// parsed.
void AddLogFormatOption(CLI::App& app);

// Checks one config file's text line by line; kInvalidArgument naming the
// first bad line ("line 3: expected key = value, got: ...").
absl::Status CheckConfigSyntax(absl::string_view text);

}  // namespace ohfed

#endif  // OHFED_CLI_CONFIG_H_
