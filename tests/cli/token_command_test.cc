// `ohfed token new`'s two lines (issue 9): the token, then the line for
// the aggregator's tokens file.
#include "cli/token_command.h"

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/registry.h"
#include "common/token.h"
#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::testing::MatchesRegex;

const Registry& England() { return *Registry::England(); }

// `ohfed token new`: the token, then a line a tokens file accepts and that
// maps that very token to the scope.
TEST(TokenCommandTest, PrintsTokenThenItsTokensFileLine) {
  CLI::App app("ohfed");
  AddTokenCommand(app);
  std::ostringstream out;
  auto* old = std::cout.rdbuf(out.rdbuf());
  std::vector<std::string> args = {"SEL", "--name", "region:y56", "--scope",
                                   "new", "token"};  // reversed for CLI11
  int exit_code = 0;
  try {
    app.parse(args);
  } catch (const CLI::Error& e) {
    exit_code = e.get_exit_code();
  }
  std::cout.rdbuf(old);
  ASSERT_EQ(exit_code, 0);
  std::istringstream lines(out.str());
  std::string token, line, rest;
  ASSERT_TRUE(std::getline(lines, token));
  ASSERT_TRUE(std::getline(lines, line));
  EXPECT_FALSE(std::getline(lines, rest));
  EXPECT_THAT(token, MatchesRegex("ohfed_[A-Za-z0-9_-]{43}"));
  absl::StatusOr<TokenTable> table = TokenTable::Parse(line, "out", England());
  OHFED_ASSERT_OK(table);
  const TokenEntry* entry = table->Find(token);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->scope.ToString(), "region:Y56");
  EXPECT_EQ(entry->name, "SEL");
}

}  // namespace
}  // namespace ohfed
