// Completeness and timeliness against an in-memory View.
#include "aggregator/query_completeness.h"

#include <string>
#include <vector>

#include "common/query_rows.h"
#include "tests/aggregator/query_fake_view.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::FakeView;
using ::ohfed::testing::StatusIs;

constexpr char kImm[] = "activity.count.immunisation";

int64_t Ms(const char* rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return absl::ToUnixMillis(t);
}

absl::Time At(const char* rfc3339) { return absl::FromUnixMillis(Ms(rfc3339)); }

class CompletenessTest : public ::testing::Test {
 protected:
  CompletenessTest() {
    // T1: Feb and Mar on time (deadline: end of the 15th of the next month).
    Put("T1", "2026-02", "2026-03-15T23:00:00Z", 2);
    Put("T1", "2026-03", "2026-04-10T09:00:00Z", 3);
    // T2: March one second after the deadline.
    Put("T2", "2026-03", "2026-04-16T00:00:01Z", 1);
    // T3: only January, last heard 1 March.
    Put("T3", "2026-01", "2026-02-10T00:00:00Z", 1);
    view_.SetLastReceived("T3", Ms("2026-03-01T00:00:00Z"));
    // T5: December 2025, last heard 10 January; T4 never.
    Put("T5", "2025-12", "2026-01-10T00:00:00Z", 1);
  }
  void Put(const std::string& trust, const std::string& month,
           const char* received, uint64_t revision) {
    view_.Set(trust, month, kImm, 1);
    view_.SetReceived(trust, month, Ms(received), Ms(received), revision);
    view_.SetLastReceived(trust,
                          std::max(view_.LastReceived(trust), Ms(received)));
  }
  v1::CompletenessResponse Run(const std::string& scope,
                               const std::string& period, absl::Time now) {
    v1::CompletenessRequest req;
    req.set_scope(scope);
    req.set_period(period);
    auto resp = RunCompleteness(view_, req, now);
    EXPECT_THAT(resp, ::ohfed::testing::IsOk());
    return resp.ok() ? *resp : v1::CompletenessResponse();
  }
  // A later registry version: from 2026-03 T2 has merged into T1.
  void MergeT2IntoT1From2026_03() {
    view_.AddLaterVersion(::ohfed::aggregator::testing::TestRegistryFrom2026_03(
        "R1,North,I1,ICS One,T2,Trust Two\n", ""));
  }
  FakeView view_;
};

// From 2026-03 T2 has merged into T1: March expects one trust in I1, and
// February still expects both.
TEST_F(CompletenessTest, ExpectedFollowsTheRegistryInEffectEachMonth) {
  MergeT2IntoT1From2026_03();
  auto resp = Run("ics:I1", "2026-02:2026-03", At("2026-04-20T00:00:00Z"));
  ASSERT_EQ(resp.periods_size(), 2);
  EXPECT_EQ(resp.periods(0).expected(), 2u);
  EXPECT_EQ(resp.periods(1).expected(), 1u);
  ASSERT_EQ(resp.periods(1).trusts_size(), 1);
  EXPECT_EQ(resp.periods(1).trusts(0).trust(), "T1");
}

TEST_F(CompletenessTest, CountsReportedAndOnTimePerMonth) {
  auto resp = Run("national", "2026-02:2026-03", At("2026-04-20T00:00:00Z"));
  EXPECT_EQ(resp.scope(), "national");
  EXPECT_EQ(resp.scope_name(), "England");
  ASSERT_EQ(resp.periods_size(), 2);
  const v1::PeriodCompleteness& feb = resp.periods(0);
  EXPECT_EQ(feb.period(), "2026-02");
  EXPECT_EQ(feb.expected(), 5u);
  EXPECT_EQ(feb.reported(), 1u);
  EXPECT_EQ(feb.on_time(), 1u);
  const v1::PeriodCompleteness& mar = resp.periods(1);
  EXPECT_EQ(mar.period(), "2026-03");
  EXPECT_EQ(mar.reported(), 2u);
  EXPECT_EQ(mar.on_time(), 1u);  // T2 was one second late
  ASSERT_EQ(mar.trusts_size(), 5);
  const v1::TrustCompleteness& t2 = mar.trusts(1);
  EXPECT_EQ(t2.trust(), "T2");
  EXPECT_EQ(t2.trust_name(), "Trust Two");
  EXPECT_EQ(t2.ics(), "I1");
  EXPECT_EQ(t2.region(), "R1");
  EXPECT_TRUE(t2.reported());
  EXPECT_FALSE(t2.on_time());
  EXPECT_EQ(t2.revision(), 1u);
  EXPECT_EQ(t2.last_received_unix_ms(), Ms("2026-04-16T00:00:01Z"));
  EXPECT_EQ(mar.trusts(0).revision(), 3u);
  EXPECT_FALSE(mar.trusts(3).reported());
  EXPECT_EQ(mar.trusts(3).revision(), 0u);
  EXPECT_EQ(mar.trusts(3).last_received_unix_ms(), 0);
}

TEST_F(CompletenessTest, SyncStates) {
  // 20 April: March is due. T1, T2 current; T3 heard 50 days ago: behind;
  // T4 never and T5 100 days ago: silent.
  auto resp = Run("national", "2026-03", At("2026-04-20T00:00:00Z"));
  std::vector<std::string> states;
  for (const auto& t : resp.periods(0).trusts())
    states.push_back(t.sync_state());
  EXPECT_THAT(states, ::testing::ElementsAre("current", "current", "behind",
                                             "silent", "silent"));
  // 10 April: March is not yet due, February is; T2 has not sent February
  // but has sent March, so it is current too.
  auto early = Run("ics:I1", "2026-03", At("2026-04-10T00:00:00Z"));
  ASSERT_EQ(early.periods(0).trusts_size(), 2);
  EXPECT_EQ(early.periods(0).expected(), 2u);
  EXPECT_EQ(early.periods(0).trusts(0).sync_state(), "current");
  EXPECT_EQ(early.periods(0).trusts(1).sync_state(), "current");
  // 1 June: April's data is due (May's only from 16 June); T3 last spoke
  // 92 days ago.
  auto later = Run("region:R1", "2026-03", At("2026-06-01T00:00:00Z"));
  for (const auto& t : later.periods(0).trusts()) {
    EXPECT_NE(t.sync_state(), "current") << t.trust();
  }
  EXPECT_EQ(later.periods(0).trusts(0).sync_state(), "behind");  // T1: April 10
  EXPECT_EQ(later.periods(0).trusts(2).sync_state(), "silent");  // T3
}

TEST_F(CompletenessTest, RejectsBadInput) {
  v1::CompletenessRequest req;
  req.set_scope("ics:ZZZ");
  req.set_period("2026-03");
  EXPECT_THAT(RunCompleteness(view_, req, absl::Now()),
              StatusIs(absl::StatusCode::kNotFound, "'ZZZ'"));
  req.set_scope("nation");
  EXPECT_THAT(RunCompleteness(view_, req, absl::Now()),
              StatusIs(absl::StatusCode::kInvalidArgument, "scope: "));
  req.set_scope("national");
  req.set_period("FY26");
  EXPECT_THAT(RunCompleteness(view_, req, absl::Now()),
              StatusIs(absl::StatusCode::kInvalidArgument, "period: "));
}

// Issue 8: one summary row per region or ICS instead of every trust.
TEST_F(CompletenessTest, ByRegionOrIcsGivesOneRowPerUnit) {
  v1::CompletenessRequest req;
  req.set_scope("national");
  req.set_period("2026-03");
  req.set_by("region");
  auto resp = RunCompleteness(view_, req, At("2026-04-20T00:00:00Z"));
  OHFED_ASSERT_OK(resp);
  ASSERT_EQ(resp->periods_size(), 1);
  const v1::PeriodCompleteness& mar = resp->periods(0);
  EXPECT_EQ(mar.trusts_size(), 0);
  EXPECT_EQ(mar.expected(), 5u);
  EXPECT_EQ(mar.reported(), 2u);
  EXPECT_EQ(mar.on_time(), 1u);
  ASSERT_EQ(mar.units_size(), 2);
  EXPECT_EQ(mar.units(0).unit(), "R1");
  EXPECT_EQ(mar.units(0).unit_name(), "North");
  EXPECT_EQ(mar.units(0).expected(), 3u);
  EXPECT_EQ(mar.units(0).reported(), 2u);  // T1 on time, T2 late
  EXPECT_EQ(mar.units(0).on_time(), 1u);
  EXPECT_EQ(mar.units(1).unit(), "R2");
  EXPECT_EQ(mar.units(1).expected(), 2u);
  EXPECT_EQ(mar.units(1).reported(), 0u);

  req.set_scope("region:R1");
  req.set_by("ics");
  resp = RunCompleteness(view_, req, At("2026-04-20T00:00:00Z"));
  OHFED_ASSERT_OK(resp);
  ASSERT_EQ(resp->periods(0).units_size(), 2);
  EXPECT_EQ(resp->periods(0).units(0).unit(), "I1");
  EXPECT_EQ(resp->periods(0).units(0).reported(), 2u);
  EXPECT_EQ(resp->periods(0).units(1).unit(), "I2");
  EXPECT_EQ(resp->periods(0).units(1).expected(), 1u);
  EXPECT_EQ(resp->periods(0).units(1).reported(), 0u);

  req.set_scope("ics:I1");
  req.set_by("region");
  EXPECT_THAT(RunCompleteness(view_, req, absl::Now()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "by: level 'region' is above scope 'ics:I1'"));
  req.set_by("national");
  EXPECT_THAT(RunCompleteness(view_, req, absl::Now()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "expected trust, ics or region"));
}

// By unit, too, each month counts the trusts of the registry in effect
// that month (the units and their trusts are worked out once per registry
// version, not once per month).
TEST_F(CompletenessTest, ByUnitFollowsTheRegistryInEffectEachMonth) {
  MergeT2IntoT1From2026_03();
  v1::CompletenessRequest req;
  req.set_scope("national");
  req.set_period("2026-01:2026-04");
  req.set_by("region");
  auto resp = RunCompleteness(view_, req, At("2026-04-20T00:00:00Z"));
  OHFED_ASSERT_OK(resp);
  ASSERT_EQ(resp->periods_size(), 4);
  const std::vector<uint32_t> r1_expected = {3, 3, 2, 2};
  for (int m = 0; m < 4; ++m) {
    const v1::PeriodCompleteness& p = resp->periods(m);
    ASSERT_EQ(p.units_size(), 2) << p.period();
    EXPECT_EQ(p.units(0).unit(), "R1");
    EXPECT_EQ(p.units(0).expected(), r1_expected[m]) << p.period();
    EXPECT_EQ(p.units(1).expected(), 2u) << p.period();
    EXPECT_EQ(p.expected(), r1_expected[m] + 2) << p.period();
  }
  // March: T1 on time and T2's late summary, now outside the registry.
  EXPECT_EQ(resp->periods(2).units(0).reported(), 1u);

  req.set_scope("region:R1");
  req.set_by("ics");
  resp = RunCompleteness(view_, req, At("2026-04-20T00:00:00Z"));
  OHFED_ASSERT_OK(resp);
  ASSERT_EQ(resp->periods_size(), 4);
  EXPECT_EQ(resp->periods(1).units(0).unit(), "I1");
  EXPECT_EQ(resp->periods(1).units(0).expected(), 2u);  // February
  EXPECT_EQ(resp->periods(1).units(0).reported(), 1u);
  EXPECT_EQ(resp->periods(2).units(0).expected(), 1u);  // March
  EXPECT_EQ(resp->periods(2).units(0).reported(), 1u);
}

// A receipt time on the row of a month the trust has not sent read as if it
// had: it is given only where the trust reported.
TEST_F(CompletenessTest, LastReceivedOnlyForTrustsThatReported) {
  auto resp = Run("ics:I2", "2026-01:2026-03", At("2026-04-20T00:00:00Z"));
  ASSERT_EQ(resp.periods_size(), 3);
  const v1::TrustCompleteness& jan = resp.periods(0).trusts(0);
  EXPECT_EQ(jan.trust(), "T3");
  EXPECT_TRUE(jan.reported());
  EXPECT_EQ(jan.last_received_unix_ms(), Ms("2026-03-01T00:00:00Z"));
  const v1::TrustCompleteness& mar = resp.periods(2).trusts(0);
  EXPECT_FALSE(mar.reported());
  EXPECT_EQ(mar.last_received_unix_ms(), 0);
  EXPECT_EQ(mar.sync_state(), "behind");  // still says it has been heard from
}

// Compact: each trust once in `trusts` with what its rows share (a trust
// renamed in a later registry twice), each month's rows as columns, and the
// tidy answer again when expanded (common/query_rows.h).
TEST_F(CompletenessTest, CompactListsEachTrustOnceAndExpandsToTheRows) {
  view_.AddLaterVersion(::ohfed::aggregator::testing::TestRegistryFrom2026_03(
      "Trust Three", "Trust 3"));
  v1::CompletenessRequest req;
  req.set_scope("national");
  req.set_period("2026-01:2026-04");
  req.set_compact(true);
  const absl::Time now = At("2026-04-20T00:00:00Z");
  auto compact = RunCompleteness(view_, req, now);
  OHFED_ASSERT_OK(compact);
  req.set_compact(false);
  auto tidy = RunCompleteness(view_, req, now);
  OHFED_ASSERT_OK(tidy);

  std::vector<std::string> entries;
  for (const v1::TrustCompleteness& t : compact->trusts()) {
    entries.push_back(t.trust() + " " + t.trust_name() + " " + t.sync_state());
    EXPECT_FALSE(t.reported());
    EXPECT_EQ(t.revision(), 0u);
  }
  EXPECT_THAT(entries, ::testing::ElementsAre(
                           "T1 Trust One current", "T2 Trust Two current",
                           "T3 Trust Three behind", "T4 Trust Four silent",
                           "T5 Trust Five, Ltd silent", "T3 Trust 3 behind"));
  ASSERT_EQ(compact->periods_size(), 4);
  const v1::PeriodCompleteness& mar = compact->periods(2);
  EXPECT_EQ(mar.trusts_size(), 0);
  EXPECT_THAT(mar.compact().trust(), ::testing::ElementsAre(0, 1, 5, 3, 4));
  EXPECT_THAT(mar.compact().reported(),
              ::testing::ElementsAre(true, true, false, false, false));
  EXPECT_THAT(mar.compact().on_time(),
              ::testing::ElementsAre(true, false, false, false, false));
  EXPECT_THAT(mar.compact().revision(), ::testing::ElementsAre(3, 1, 0, 0, 0));
  // Refusals: SerializedCompletenessTest (query_answer_cache_test.cc).
  EXPECT_EQ(mar.compact().refused_size(), 0);
  EXPECT_EQ(mar.expected(), 5u);
  EXPECT_EQ(mar.reported(), 2u);
  EXPECT_EQ(mar.on_time(), 1u);

  auto expanded = ExpandCompactCompleteness(*compact);
  OHFED_ASSERT_OK(expanded);
  EXPECT_EQ(expanded->ShortDebugString(), tidy->ShortDebugString());
  EXPECT_EQ(tidy->periods(2).trusts(2).trust_name(), "Trust 3");
}

// By region or ICS the rows are already few: `compact` changes nothing.
TEST_F(CompletenessTest, CompactByUnitIsTheTidyAnswer) {
  v1::CompletenessRequest req;
  req.set_scope("national");
  req.set_period("2026-01:2026-03");
  req.set_by("ics");
  const absl::Time now = At("2026-04-20T00:00:00Z");
  auto tidy = RunCompleteness(view_, req, now);
  req.set_compact(true);
  auto compact = RunCompleteness(view_, req, now);
  OHFED_ASSERT_OK(tidy);
  OHFED_ASSERT_OK(compact);
  EXPECT_EQ(compact->ShortDebugString(), tidy->ShortDebugString());
  EXPECT_EQ(compact->periods(0).units_size(), 3);
}

}  // namespace
}  // namespace ohfed::aggregator
