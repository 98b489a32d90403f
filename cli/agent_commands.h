// The `ohfed` command line for a trust's OH manager (SPEC §10): drives the
// local agent over its unix socket with the AgentControl service.
//
//   ohfed [--agent SOCKET] import staffing|activity|profile FILE
//                          [--skip-invalid] [--accept-outliers]
//   ohfed [--agent SOCKET] set PERIOD MEASURE VALUE | unset PERIOD MEASURE
//   ohfed [--agent SOCKET] retract PERIOD | confirm PERIOD
//   ohfed [--agent SOCKET] sync [--timeout SECONDS]
//   ohfed [--agent SOCKET] status | periods | show PERIOD | help
//
// `status` lists periods in time order, a year after its months; `show`
// marks values entered by hand with "[set]" and explains the mark below.
// The long help on import files is printed by `help` and `import --help`
// only. Output goes to stdout; every failure prints one line on stderr and
// throws CLI::RuntimeError with a non-zero exit code.
#ifndef OHFED_CLI_AGENT_COMMANDS_H_
#define OHFED_CLI_AGENT_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace ohfed::agent {

// Where the agent's socket is when --agent and OHFED_AGENT_SOCKET are unset.
inline constexpr char kDefaultSocket[] = "/var/lib/ohfed/agent.sock";

// Adds --agent, the agent subcommands, `help` and the top-level help text.
void AddAgentCommands(CLI::App& app);

}  // namespace ohfed::agent

#endif  // OHFED_CLI_AGENT_COMMANDS_H_
