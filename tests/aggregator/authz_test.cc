// Authz (issue 9) as a plain class: scopes nest through the registry,
// requests and breakdowns must lie inside the caller's scope, an empty scope
// means the caller's own, and ingest and query are separate rights. The
// certificate identities here are injected (what PeerIdentityOf would
// return); the gRPC matrix is authz_matrix_test.cc.
#include "aggregator/authz.h"

#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::testing::StatusIs;
using Code = absl::StatusCode;

// England: region Y56 (London) > ICS QKK (South East London) > trust RJ1;
// region Y63 > ICS QF7 > trust RCU.
class AuthzTest : public ::testing::Test {
 protected:
  AuthzTest()
      : tokens_(*TokenTable::Parse(
            *TokensFileLine("ics", "ics:QKK", "SEL lead") + "\n" +
                *TokensFileLine("region", "region:Y56", "") + "\n" +
                *TokensFileLine("national", "national", "") + "\n" +
                *TokensFileLine("trust", "trust:RJ1", "") + "\n",
            "tokens", *Registry::England())),
        tls_({.tokens = &tokens_, .insecure = false},
             Registry::England().get()),
        loopback_({.tokens = &tokens_, .insecure = true},
                  Registry::England().get()),
        open_({.tokens = nullptr, .insecure = true},
              Registry::England().get()) {}

  static Credentials Token(const std::string& token) {
    Credentials c;
    c.authorization = {"Bearer " + token};
    return c;
  }
  static Credentials Cert(absl::string_view cn) {
    Credentials c;
    c.peer = ParsePeerIdentity(cn);
    return c;
  }

  ReloadableTokens tokens_;
  Authz tls_, loopback_, open_;
};

TEST_F(AuthzTest, ScopesNestThroughTheRegistry) {
  auto s = [](absl::string_view text) { return *Scope::Parse(text); };
  EXPECT_TRUE(tls_.Covers(s("national"), s("trust:RCU")));
  EXPECT_TRUE(tls_.Covers(s("region:Y56"), s("ics:QKK")));
  EXPECT_TRUE(tls_.Covers(s("region:Y56"), s("trust:RJ1")));
  EXPECT_TRUE(tls_.Covers(s("ics:QKK"), s("trust:RJ1")));
  EXPECT_TRUE(tls_.Covers(s("trust:RJ1"), s("trust:RJ1")));
  EXPECT_FALSE(tls_.Covers(s("region:Y56"), s("national")));
  EXPECT_FALSE(tls_.Covers(s("region:Y56"), s("ics:QF7")));
  EXPECT_FALSE(tls_.Covers(s("region:Y56"), s("trust:RCU")));
  EXPECT_FALSE(tls_.Covers(s("ics:QKK"), s("region:Y56")));
  EXPECT_FALSE(tls_.Covers(s("ics:QKK"), s("trust:RCU")));
  EXPECT_FALSE(tls_.Covers(s("trust:RJ1"), s("trust:RJ2")));
  EXPECT_FALSE(tls_.Covers(s("region:Y56"), s("trust:NOPE")));
}

TEST_F(AuthzTest, IcsTokenSeesItsIcsAndItsTrusts) {
  EXPECT_EQ(*tls_.AuthorizeQuery(Token("ics"), "ics:QKK", "trust"), "ics:QKK");
  EXPECT_EQ(*tls_.AuthorizeQuery(Token("ics"), "trust:RJ1", ""), "trust:RJ1");
  EXPECT_EQ(*tls_.AuthorizeQuery(Token("ics"), "", "self"), "ics:QKK");
  EXPECT_THAT(tls_.AuthorizeQuery(Token("ics"), "region:Y56", ""),
              StatusIs(Code::kPermissionDenied,
                       "caller scope ics:QKK does not cover region:Y56 "
                       "(token 'SEL lead')"));
  EXPECT_THAT(tls_.AuthorizeQuery(Token("ics"), "trust:RCU", ""),
              StatusIs(Code::kPermissionDenied,
                       "caller scope ics:QKK does not cover trust:RCU"));
  EXPECT_THAT(tls_.AuthorizeQuery(Token("ics"), "", "region"),
              StatusIs(Code::kPermissionDenied,
                       "caller scope ics:QKK does not cover a breakdown by "
                       "region"));
}

TEST_F(AuthzTest, RegionTokenMayBreakItsRegionDownButNotLookUp) {
  EXPECT_EQ(*tls_.AuthorizeQuery(Token("region"), "region:Y56", "trust"),
            "region:Y56");
  EXPECT_EQ(*tls_.AuthorizeQuery(Token("region"), "ics:QKK", "trust"),
            "ics:QKK");
  EXPECT_THAT(tls_.AuthorizeQuery(Token("region"), "national", "region"),
              StatusIs(Code::kPermissionDenied,
                       "caller scope region:Y56 does not cover national"));
  EXPECT_THAT(tls_.AuthorizeQuery(Token("region"), "region:Y63", ""),
              StatusIs(Code::kPermissionDenied,
                       "caller scope region:Y56 does not cover region:Y63"));
}

// A regional aggregator's suppression pattern protects its region alone; a
// caller who also sees the exact national figure must not combine the two.
TEST_F(AuthzTest, RegionalAggregatorRefusesCallersWiderThanItsCoverage) {
  Authz regional({.tokens = &tokens_,
                  .insecure = false,
                  .coverage = *Scope::Parse("region:Y56")},
                 Registry::England().get());
  EXPECT_THAT(regional.AuthorizeQuery(Token("national"), "region:Y56", ""),
              StatusIs(Code::kPermissionDenied,
                       "sees national, more than this aggregator covers "
                       "(region:Y56)"));
  EXPECT_THAT(regional.AuthorizeQuery(Cert("national"), "ics:QKK", ""),
              StatusIs(Code::kPermissionDenied, "certificate national"));
  EXPECT_EQ(*regional.AuthorizeQuery(Token("region"), "", "ics"), "region:Y56");
  EXPECT_EQ(*regional.AuthorizeQuery(Token("ics"), "trust:RJ1", ""),
            "trust:RJ1");
  Authz ics_level({.tokens = &tokens_,
                   .insecure = false,
                   .coverage = *Scope::Parse("ics:QKK")},
                  Registry::England().get());
  EXPECT_THAT(ics_level.AuthorizeQuery(Token("region"), "ics:QKK", ""),
              StatusIs(Code::kPermissionDenied, "sees region:Y56"));
  EXPECT_EQ(*ics_level.AuthorizeQuery(Token("ics"), "", ""), "ics:QKK");
}

TEST_F(AuthzTest, NationalTokenSeesEverythingAndEmptyMeansCoverage) {
  EXPECT_EQ(*tls_.AuthorizeQuery(Token("national"), "", "region"), "");
  EXPECT_EQ(*tls_.AuthorizeQuery(Token("national"), "trust:RCU", ""),
            "trust:RCU");
}

TEST_F(AuthzTest, TokenRefusals) {
  EXPECT_THAT(tls_.AuthorizeQuery(Credentials{}, "ics:QKK", ""),
              StatusIs(Code::kUnauthenticated, "a query needs a bearer token"));
  EXPECT_THAT(tls_.AuthorizeQuery(Token("wrong"), "ics:QKK", ""),
              StatusIs(Code::kUnauthenticated, "unknown bearer token"));
  Credentials basic;
  basic.authorization = {"Basic aWNz"};
  EXPECT_THAT(tls_.AuthorizeQuery(basic, "", ""),
              StatusIs(Code::kUnauthenticated, "must be 'Bearer TOKEN'"));
  Credentials two;
  two.authorization = {"Bearer ics", "Bearer national"};
  EXPECT_THAT(tls_.AuthorizeQuery(two, "", ""),
              StatusIs(Code::kUnauthenticated, "more than one"));
  Authz no_tokens({.tokens = nullptr, .insecure = false},
                  Registry::England().get());
  EXPECT_THAT(no_tokens.AuthorizeQuery(Token("ics"), "", ""),
              StatusIs(Code::kUnauthenticated, "accepts no bearer tokens"));
  // A wrong token is not rescued by a certificate beside it.
  Credentials both = Token("wrong");
  both.peer = ParsePeerIdentity("national");
  EXPECT_THAT(tls_.AuthorizeQuery(both, "", ""),
              StatusIs(Code::kUnauthenticated, "unknown bearer token"));
}

// With a tokens file, loopback plaintext is no excuse: tokens are required.
TEST_F(AuthzTest, TokensFileMakesLoopbackQueriesNeedATokenToo) {
  EXPECT_FALSE(loopback_.open());
  EXPECT_THAT(loopback_.AuthorizeQuery(Credentials{}, "", ""),
              StatusIs(Code::kUnauthenticated, "a query needs a bearer token"));
  EXPECT_EQ(*loopback_.AuthorizeQuery(Token("ics"), "", ""), "ics:QKK");
}

TEST_F(AuthzTest, OpenModeIsTodaysBehaviour) {
  EXPECT_TRUE(open_.open());
  EXPECT_EQ(*open_.AuthorizeQuery(Credentials{}, "national", "trust"),
            "national");
  EXPECT_EQ(*open_.AuthorizeQuery(Credentials{}, "", ""), "");
  OHFED_EXPECT_OK(open_.AuthorizeSubmit(Credentials{}));
  OHFED_EXPECT_OK(open_.AuthorizeFeedback(Credentials{}, "RJ1"));
}

TEST_F(AuthzTest, CertificatesThatMayQuery) {
  EXPECT_THAT(tls_.AuthorizeQuery(Cert("trust:RJ1"), "trust:RJ1", ""),
              StatusIs(Code::kPermissionDenied,
                       "certificate trust:RJ1 may submit for its trust but "
                       "not query"));
  EXPECT_EQ(*tls_.AuthorizeQuery(Cert("region:Y56"), "", "trust"),
            "region:Y56");
  EXPECT_THAT(tls_.AuthorizeQuery(Cert("region:Y56"), "region:Y63", ""),
              StatusIs(Code::kPermissionDenied,
                       "caller scope region:Y56 does not cover region:Y63 "
                       "(certificate region:Y56)"));
  EXPECT_EQ(*tls_.AuthorizeQuery(Cert("national"), "region:Y63", ""),
            "region:Y63");
  Credentials stranger;
  stranger.peer = absl::PermissionDeniedError("not an ohfed identity");
  EXPECT_THAT(tls_.AuthorizeQuery(stranger, "", ""),
              StatusIs(Code::kPermissionDenied, "not an ohfed identity"));
}

TEST_F(AuthzTest, TokensNeverSubmit) {
  for (const Authz* authz : {&tls_, &loopback_, &open_}) {
    EXPECT_THAT(authz->AuthorizeSubmit(Token("national")),
                StatusIs(Code::kPermissionDenied,
                         "a bearer token may query but not submit"));
    EXPECT_THAT(authz->AuthorizeFeedback(Token("ics"), "RJ1"),
                StatusIs(Code::kPermissionDenied,
                         "a bearer token may query but not submit"));
  }
}

TEST_F(AuthzTest, IngestNeedsACertificateOverTls) {
  EXPECT_THAT(tls_.AuthorizeSubmit(Credentials{}),
              StatusIs(Code::kUnauthenticated, "ingest needs the trust's"));
  OHFED_EXPECT_OK(loopback_.AuthorizeSubmit(Credentials{}));  // plaintext
  OHFED_EXPECT_OK(tls_.AuthorizeSubmit(Cert("trust:RJ1")));
  OHFED_EXPECT_OK(tls_.AuthorizeSubmit(Cert("region:Y56")));
}

TEST_F(AuthzTest, FeedbackOnlyForTrustsTheCertificateCovers) {
  OHFED_EXPECT_OK(tls_.AuthorizeFeedback(Cert("trust:RJ1"), "RJ1"));
  EXPECT_THAT(tls_.AuthorizeFeedback(Cert("trust:RJ1"), "RJ2"),
              StatusIs(Code::kPermissionDenied,
                       "caller scope trust:RJ1 does not cover trust:RJ2"));
  OHFED_EXPECT_OK(tls_.AuthorizeFeedback(Cert("region:Y56"), "RJ2"));
  EXPECT_THAT(tls_.AuthorizeFeedback(Cert("region:Y56"), "RCU"),
              StatusIs(Code::kPermissionDenied,
                       "caller scope region:Y56 does not cover trust:RCU"));
  EXPECT_THAT(tls_.AuthorizeFeedback(Credentials{}, "RJ1"),
              StatusIs(Code::kUnauthenticated, "ingest needs"));
}

}  // namespace
}  // namespace ohfed::aggregator
