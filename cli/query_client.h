// `ohfed query` (SPEC §6, §10): asks an aggregator's Query service and prints
// the answer as a table, CSV or JSON (cli/query_format.h).
#ifndef OHFED_CLI_QUERY_CLIENT_H_
#define OHFED_CLI_QUERY_CLIENT_H_

#include <CLI/CLI.hpp>

namespace ohfed {

// Registers the `query` subcommand on the ohfed CLI. When it runs it prints
// the answer on stdout; on failure it prints a one-line reason on stderr and
// throws CLI::RuntimeError with a non-zero exit code.
void AddQueryCommand(CLI::App& app);

}  // namespace ohfed

#endif  // OHFED_CLI_QUERY_CLIENT_H_
