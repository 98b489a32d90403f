// ohfed: the command line for OH managers (agent commands,
// cli/agent_commands.h) and for anyone querying an aggregator (`ohfed query`,
// cli/query_client.h).
#include <CLI/CLI.hpp>
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/agent_commands.h"
#include "cli/query_client.h"
#include "cli/token_command.h"
#include "common/mutex_mode.h"
#include "common/version.h"

int main(int argc, char** argv) {
  ohfed::UseReleaseMutexMode();  // common/mutex_mode.h
  CLI::App app{
      "ohfed: record your OH service's staffing and activity, send "
      "anonymised summaries to the ohfed aggregator, and query it."};
  app.require_subcommand(1);
  app.set_version_flag("--version", absl::StrCat("ohfed ", ohfed::Version()));
  // One line on stderr for usage errors too; a word where a command belongs
  // is named as an unknown command rather than an unexpected argument.
  app.failure_message([](const CLI::App* app, const CLI::Error& e) {
    std::vector<std::string> extras = app->remaining();
    if (app->get_subcommands().empty() && !extras.empty() &&
        !extras.front().empty() && extras.front()[0] != '-') {
      return absl::StrCat("ohfed: unknown command '",
                          extras.front().substr(0, 40),
                          "' (see ohfed --help)\n");
    }
    return std::string("ohfed: ") + e.what() + " (see ohfed --help)\n";
  });
  ohfed::agent::AddAgentCommands(app);
  ohfed::AddQueryCommand(app);
  ohfed::AddTokenCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
