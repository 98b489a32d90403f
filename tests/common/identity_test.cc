// Certificate common names as ohfed identities (common/identity.h).
#include "common/identity.h"

#include "tests/testing/testing.h"

namespace ohfed {
namespace {

TEST(PeerIdentity, ParsesTheThreeKinds) {
  auto t = ParsePeerIdentity("trust:RJ1");
  OHFED_ASSERT_OK(t);
  EXPECT_EQ(t->kind, PeerIdentity::Kind::kTrust);
  EXPECT_EQ(t->code, "RJ1");
  EXPECT_EQ(t->ToString(), "trust:RJ1");
  auto r = ParsePeerIdentity("region:Y56");
  OHFED_ASSERT_OK(r);
  EXPECT_EQ(r->kind, PeerIdentity::Kind::kRegion);
  EXPECT_EQ(r->ToString(), "region:Y56");
  auto n = ParsePeerIdentity("national");
  OHFED_ASSERT_OK(n);
  EXPECT_EQ(n->kind, PeerIdentity::Kind::kNational);
  EXPECT_EQ(n->ToString(), "national");
}

TEST(PeerIdentity, RefusesAnythingElse) {
  for (const char* bad : {"", "RJ1", "trust:", "trust:rj1", "trust:RJ1 ",
                          "ics:QKK", "region:Y56/x", "National", "localhost"}) {
    auto id = ParsePeerIdentity(bad);
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(id.status().message(),
                ::testing::HasSubstr("is not an ohfed identity"))
        << bad;
  }
}

}  // namespace
}  // namespace ohfed
