// The primary rule and secondary suppression on small hand-made tables
// (common/disclosure.h). The end-to-end audit is in
// tests/aggregator/disclosure_audit_test.cc.
#include "common/disclosure.h"

#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::StatusIs;

TEST(DisclosureTest, PrimaryRuleDefaults) {
  DisclosureOptions o;
  EXPECT_FALSE(ApplyPrimaryRule(o, 0).suppressed);
  EXPECT_EQ(ApplyPrimaryRule(o, 0).value, 0);
  for (int v = 1; v <= 7; ++v) EXPECT_TRUE(ApplyPrimaryRule(o, v).suppressed);
  EXPECT_EQ(ApplyPrimaryRule(o, 8).value, 10);
  EXPECT_EQ(ApplyPrimaryRule(o, 12).value, 10);
  EXPECT_EQ(ApplyPrimaryRule(o, 13).value, 15);
  EXPECT_EQ(ApplyPrimaryRule(o, 1234).value, 1235);
  EXPECT_FALSE(ApplyPrimaryRule(o, 8).suppressed);
}

TEST(DisclosureTest, ThresholdsAreConfiguration) {
  DisclosureOptions o;
  o.suppress_max = 2;
  o.rounding_base = 10;
  EXPECT_TRUE(ApplyPrimaryRule(o, 2).suppressed);
  EXPECT_EQ(ApplyPrimaryRule(o, 3).value, 0);    // 3 rounds to 0 tens
  EXPECT_EQ(ApplyPrimaryRule(o, 15).value, 20);  // halves up
  o.rounding_base = 0;
  EXPECT_THAT(CheckDisclosureOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, "rounding_base"));
  EXPECT_TRUE(CheckDisclosureOptions(DisclosureOptions()).ok());
}

// An exact total 20 = a + b with a = 3 (primary) and b = 17 published as 15
// ([13, 17]) puts a in [3, 7]: the heuristic keeps a margin over the 5
// values the audit asks for (a primary cell keeps all of [1, 7]), so b is
// suppressed too; without secondary suppression it is not.
TEST(DisclosureTest, SecondarySuppressionAddsAComplement) {
  Table t;
  t.values = {20, 3, 17};
  t.exact = {true, false, false};
  t.equations = {{0, {1, 2}}};
  DisclosureOptions o;
  o.secondary = false;
  EXPECT_EQ(ProtectTable(t, o), (std::vector<bool>{false, true, false}));
  o.secondary = true;
  EXPECT_EQ(ProtectTable(t, o), (std::vector<bool>{false, true, true}));
}

// Rounding alone can hide a small cell: 25 ([23, 27]) less 20 ([18, 22])
// leaves a in [1, 9], all of [1, 7]; nothing more is suppressed.
TEST(DisclosureTest, RoundingAloneCanProtect) {
  Table t;
  t.values = {23, 3, 20};
  t.exact = {false, false, false};
  t.equations = {{0, {1, 2}}};
  EXPECT_EQ(ProtectTable(t, DisclosureOptions()),
            (std::vector<bool>{false, true, false}));
}

TEST(DisclosureTest, ExactCellsAreNeverSuppressed) {
  Table t;
  t.values = {5, 3, 2};  // national 5 = 3 + 2
  t.exact = {true, false, false};
  t.equations = {{0, {1, 2}}};
  std::vector<bool> p = ProtectTable(t, DisclosureOptions());
  EXPECT_EQ(p, (std::vector<bool>{false, true, true}));
}

// A cell a part of the table hid on its own (a = 12, secondary in its
// region) stays hidden in the whole and is protected there: an exact 40
// less b and c, each published to within [13, 17], would put a in
// [8, 14]; the smaller of them becomes its complement.
TEST(DisclosureTest, PresetCellsStayHiddenAndAreProtected) {
  Table t;
  t.values = {40, 12, 13, 15};
  t.exact = {true, false, false, false};
  t.equations = {{0, {1, 2, 3}}};
  EXPECT_EQ(ProtectTable(t, DisclosureOptions()),
            (std::vector<bool>{false, false, false, false}));
  t.preset = {false, true, false, false};
  EXPECT_EQ(ProtectTable(t, DisclosureOptions()),
            (std::vector<bool>{false, true, true, false}));
}

// The calendar year Y = Q1 + S and the financial year FY = S + Q1' share
// S, April to December, which nobody publishes. Propagating through S
// (internal: unknown to the attacker) pins Q1 = 2 to [1, 6], too narrow for
// the margin, so the year is hidden too; S itself is never suppressed.
TEST(DisclosureTest, InternalCellsLetPropagationCombineTwoEquations) {
  Table t;
  t.values = {57, 2, 55, 69, 14};  // Y, Q1, S, FY, Q1'
  t.exact = std::vector<bool>(5, false);
  t.internal = {false, false, true, false, false};
  t.equations = {{0, {1, 2}}, {3, {2, 4}}};
  EXPECT_EQ(ProtectTable(t, DisclosureOptions()),
            (std::vector<bool>{true, true, false, false, false}));
}

TEST(DisclosureTest, PatternIsDeterministic) {
  Table t;
  t.values = {40, 3, 12, 13, 12};
  t.exact = {false, false, false, false, false};
  t.equations = {{0, {1, 2, 3, 4}}};
  EXPECT_EQ(ProtectTable(t, DisclosureOptions()),
            ProtectTable(t, DisclosureOptions()));
}

}  // namespace
}  // namespace ohfed
