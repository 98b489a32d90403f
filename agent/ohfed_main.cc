// ohfed: the command line for OH managers (agent commands, agent/cli.h) and
// for anyone querying an aggregator (`ohfed query`, common/query_client.h).
#include <CLI/CLI.hpp>

#include <string>

#include "agent/cli.h"
#include "common/query_client.h"

int main(int argc, char** argv) {
  CLI::App app{"ohfed: record your OH service's staffing and activity, send "
               "anonymised summaries to the ohfed aggregator, and query it."};
  app.require_subcommand(1);
  // One line on stderr for usage errors too.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("ohfed: ") + e.what() + " (see ohfed --help)\n";
  });
  ohfed::agent::AddAgentCommands(app);
  ohfed::AddQueryCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
