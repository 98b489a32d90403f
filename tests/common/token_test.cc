// Bearer tokens (issue 9): fresh random tokens, their SHA-256 hashes, the
// tokens file (only hashes, malformed lines refused naming the line) and
// lookup. `ohfed token new` is tested in tests/cli/token_command_test.cc.
#include "common/token.h"

#include <set>

#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::StatusIs;
using ::ohfed::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

const Registry& England() { return *Registry::England(); }

TEST(TokenTest, FreshTokensAreLongUrlSafeAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<std::string> t = NewToken();
    OHFED_ASSERT_OK(t);
    // "ohfed_" + 43 base64url characters = 256 bits.
    EXPECT_THAT(*t, MatchesRegex("ohfed_[A-Za-z0-9_-]{43}"));
    EXPECT_TRUE(seen.insert(*t).second) << *t;
  }
}

TEST(TokenTest, HashIsSha256) {
  // FIPS 180-2's example for "abc".
  EXPECT_EQ(HashToken("abc"),
            "sha256:"
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TokenTest, FileLineHoldsTheHashNotTheToken) {
  absl::StatusOr<std::string> line =
      TokensFileLine("ohfed_secret", "ics:qkk", "SEL lead");
  OHFED_ASSERT_OK(line);
  EXPECT_EQ(*line, HashToken("ohfed_secret") + " ics:QKK SEL lead");
  EXPECT_THAT(*line, ::testing::Not(HasSubstr("secret")));
  EXPECT_THAT(TokensFileLine("t", "county:X", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, "malformed scope"));
  EXPECT_THAT(
      TokensFileLine("t", "national", "a\nb"),
      StatusIs(absl::StatusCode::kInvalidArgument, "control character"));
}

TEST(TokenTest, TableFindsTheTokenItsScopeAndName) {
  const std::string text =
      "# query tokens\n\n" + *TokensFileLine("tok-a", "ics:QKK", "SEL lead") +
      "\n" + *TokensFileLine("tok-b", "region:Y56", "") + "\n";
  absl::StatusOr<TokenTable> table = TokenTable::Parse(text, "t", England());
  OHFED_ASSERT_OK(table);
  EXPECT_EQ(table->size(), 2u);
  const TokenEntry* a = table->Find("tok-a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->scope.ToString(), "ics:QKK");
  EXPECT_EQ(a->name, "SEL lead");
  const TokenEntry* b = table->Find("tok-b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->scope.ToString(), "region:Y56");
  EXPECT_EQ(b->name, "");
  EXPECT_EQ(table->Find("tok-c"), nullptr);
  EXPECT_EQ(table->Find(""), nullptr);
  EXPECT_EQ(table->Find(HashToken("tok-a")), nullptr);  // the hash is no token
}

TEST(TokenTest, MalformedLinesAreRefusedNamingTheLine) {
  const std::string good = *TokensFileLine("tok-a", "national", "") + "\n";
  struct Case {
    std::string line, error;
  };
  for (const Case& c : std::vector<Case>{
           {"ohfed_plaintexttoken national", "is not a token hash"},
           {"sha256:ABC national", "is not a token hash"},
           {HashToken("x"), "expected 'sha256:HEX SCOPE [NAME]'"},
           {HashToken("x") + " county:X", "malformed scope"},
           {HashToken("x") + " ics:ZZZ9", "ZZZ9"},  // not in the registry
           {HashToken("tok-a") + " ics:QKK", "listed twice"},
       }) {
    absl::StatusOr<TokenTable> table =
        TokenTable::Parse(good + c.line + "\n", "tokens.txt", England());
    EXPECT_THAT(table, StatusIs(absl::StatusCode::kInvalidArgument,
                                "tokens file tokens.txt line 2: "))
        << c.line;
    EXPECT_THAT(std::string(table.status().message()), HasSubstr(c.error));
  }
}

TEST(TokenTest, LoadAndReadTokenFile) {
  TempDir dir;
  EXPECT_THAT(
      TokenTable::Load(dir.File("missing"), England()),
      StatusIs(absl::StatusCode::kUnavailable, "cannot read tokens file"));
  OHFED_EXPECT_OK(TokenTable::Load(
      dir.Write("tokens", *TokensFileLine("t", "national", "") + "\n"),
      England()));
  absl::StatusOr<std::string> t =
      ReadTokenFile(dir.Write("tok", "  ohfed_x \n"));
  OHFED_ASSERT_OK(t);
  EXPECT_EQ(*t, "ohfed_x");
  EXPECT_THAT(ReadTokenFile(dir.Write("empty", "\n")),
              StatusIs(absl::StatusCode::kInvalidArgument, "has no token"));
  EXPECT_THAT(
      ReadTokenFile(dir.File("missing")),
      StatusIs(absl::StatusCode::kUnavailable, "cannot read token file"));
}

}  // namespace
}  // namespace ohfed
