#include "cli/token_command.h"

#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/token.h"

namespace ohfed {
namespace {

struct TokenFlags {
  std::string scope;
  std::string name;
};

// The two lines `token new` prints.
absl::StatusOr<std::string> NewTokenLines(const TokenFlags& f) {
  OHFED_ASSIGN_OR_RETURN(std::string token, NewToken());
  OHFED_ASSIGN_OR_RETURN(std::string line,
                         TokensFileLine(token, f.scope, f.name));
  return absl::StrCat(token, "\n", line, "\n");
}

}  // namespace

void AddTokenCommand(CLI::App& app) {
  CLI::App* token = app.add_subcommand(
      "token", "bearer tokens for query callers (ICS leads, regions)");
  token->require_subcommand(1);
  auto flags = std::make_shared<TokenFlags>();
  CLI::App* make = token->add_subcommand(
      "new",
      "print a fresh token, then the line to add to the aggregator's "
      "--tokens file (which holds only the token's hash)");
  make->add_option("--scope", flags->scope,
                   "what the token may read: national, region:CODE, "
                   "ics:CODE or trust:CODE")
      ->required();
  make->add_option("--name", flags->name,
                   "whose token it is, kept in the tokens file and shown in "
                   "refusals");
  make->callback([flags] {
    absl::StatusOr<std::string> out = NewTokenLines(*flags);
    if (!out.ok()) {
      std::cerr << "ohfed token new: " << out.status().message() << "\n";
      bool usage = out.status().code() == absl::StatusCode::kInvalidArgument;
      throw CLI::RuntimeError(usage ? 2 : 1);
    }
    std::cout << *out << std::flush;
  });
}

}  // namespace ohfed
