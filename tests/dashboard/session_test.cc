// Dashboard sessions (dashboard/session.h): random ids, a fixed lifetime,
// logout, a bounded table.
#include "dashboard/session.h"

#include "common/clock.h"
#include "tests/testing/testing.h"

namespace ohfed::dashboard {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1790000000);

TEST(SessionStoreTest, FindsTheTokenUntilTheLifetimeEnds) {
  FakeClock clock(kStart);
  SessionStore sessions({.lifetime = absl::Hours(8)}, &clock);
  absl::StatusOr<std::string> id = sessions.Create("token-a");
  ASSERT_THAT(id, testing::IsOk());
  EXPECT_EQ(id->size(), 43u);
  EXPECT_EQ(sessions.Find(*id), "token-a");
  clock.Advance(absl::Hours(8) - absl::Seconds(1));
  EXPECT_EQ(sessions.Find(*id), "token-a");
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(sessions.Find(*id), std::nullopt);
  EXPECT_EQ(sessions.size(), 0u);
}

TEST(SessionStoreTest, IdsAreRandomAndUnguessable) {
  FakeClock clock(kStart);
  SessionStore sessions({}, &clock);
  absl::StatusOr<std::string> a = sessions.Create("t");
  absl::StatusOr<std::string> b = sessions.Create("t");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(sessions.Find("t"), std::nullopt);
  EXPECT_EQ(sessions.Find(""), std::nullopt);
  std::string forged = *a;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(sessions.Find(forged), std::nullopt);
}

TEST(SessionStoreTest, LogoutEndsTheSession) {
  FakeClock clock(kStart);
  SessionStore sessions({}, &clock);
  std::string id = *sessions.Create("t");
  sessions.Remove(id);
  EXPECT_EQ(sessions.Find(id), std::nullopt);
  sessions.Remove(id);  // unknown ids are ignored
}

TEST(SessionStoreTest, AFullTableDropsTheOldest) {
  FakeClock clock(kStart);
  SessionStore sessions({.lifetime = absl::Hours(1), .max_sessions = 2},
                        &clock);
  std::string first = *sessions.Create("1");
  clock.Advance(absl::Minutes(1));
  std::string second = *sessions.Create("2");
  clock.Advance(absl::Minutes(1));
  std::string third = *sessions.Create("3");
  EXPECT_EQ(sessions.size(), 2u);
  EXPECT_EQ(sessions.Find(first), std::nullopt);
  EXPECT_EQ(sessions.Find(second), "2");
  EXPECT_EQ(sessions.Find(third), "3");
}

}  // namespace
}  // namespace ohfed::dashboard
