// `ohfed token new --scope SCOPE [--name NAME]` (SPEC §10): prints a fresh
// bearer token on its first line and, on its second, the line for the
// aggregator's tokens file (common/token.h). The token is shown once and
// stored nowhere; the tokens-file line holds only its hash.
#ifndef OHFED_CLI_TOKEN_COMMAND_H_
#define OHFED_CLI_TOKEN_COMMAND_H_

#include <CLI/CLI.hpp>

namespace ohfed {

// Registers the `token` subcommand (with `new`) on the ohfed CLI. On
// failure it prints a one-line reason on stderr and throws CLI::RuntimeError
// with a non-zero exit code.
void AddTokenCommand(CLI::App& app);

}  // namespace ohfed

#endif  // OHFED_CLI_TOKEN_COMMAND_H_
