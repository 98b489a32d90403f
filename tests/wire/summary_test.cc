// Crafted summaries that are well-formed protobuf but must not be stored:
// overflowing or fractional distributions, revisions from the future,
// non-canonical or unfinished periods, unknown catalogue versions, and
// reasons that would echo what the peer sent without bound.
#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "aggregator/codec.h"
#include "tests/wire/wire_fixture.h"

namespace ohfed::aggregator::wire {
namespace {

using ::ohfed::aggregator::testing::AddDistribution;
using ::ohfed::aggregator::testing::Summary;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const char kWait[] = "activity.wait_days.immunisation";
const char kImm[] = "activity.count.immunisation";

class SummaryWireTest : public WireTest {
 protected:
  void SetUp() override { Start(); }

  uint64_t Held() { return aggregator_->store().stats().units_held; }
};

// Point: bucket counts overflow; buckets are whole days in range, capped.
TEST_F(SummaryWireTest, BucketCountsThatOverflowAreRejected) {
  v1::UnitSummary s = Summary("RJ1", "2026-03", 1, {});
  // 2^63 + 2^63 wraps to 0 in unchecked uint64 arithmetic: a summary that
  // claims 0 events would pass.
  AddDistribution(&s, kWait, {{3, uint64_t{1} << 63}, {4, uint64_t{1} << 63}});
  s.mutable_cells(0)->set_value(0);
  EXPECT_EQ(RejectReason(s),
            "bucket counts of measure 'activity.wait_days.immunisation' "
            "overflow: more than 9007199254740992 events");
  EXPECT_EQ(Held(), 0u);
}

TEST_F(SummaryWireTest, BucketValuesAreWholeDaysInRange) {
  v1::UnitSummary fractional = Summary("RJ1", "2026-03", 1, {});
  AddDistribution(&fractional, kWait, {{2.5, 1}});
  EXPECT_EQ(RejectReason(fractional),
            "bucket value 2.5 of measure 'activity.wait_days.immunisation' is "
            "not a whole number of days");
  v1::UnitSummary beyond = Summary("RJ1", "2026-03", 1, {});
  AddDistribution(&beyond, kWait, {{366, 1}});
  EXPECT_EQ(RejectReason(beyond),
            "value 366 out of range [0, 365] for measure "
            "'activity.wait_days.immunisation'");
  v1::UnitSummary twice = Summary("RJ1", "2026-03", 1, {});
  AddDistribution(&twice, kWait, {{7, 1}, {7, 2}});
  EXPECT_EQ(RejectReason(twice),
            "bucket value 7 of measure 'activity.wait_days.immunisation' "
            "appears more than once");
  EXPECT_EQ(Held(), 0u);
}

TEST_F(SummaryWireTest, DistinctBucketsPerCellAreCapped) {
  // A bucket for every whole day of the range is the most there can be.
  v1::UnitSummary full = Summary("RJ1", "2026-03", 1, {});
  std::vector<std::pair<double, uint64_t>> every_day;
  for (int d = 0; d <= 365; ++d) every_day.push_back({d, 1});
  AddDistribution(&full, kWait, every_day);
  EXPECT_EQ(SendOne(full).outcome(), v1::OUTCOME_ACCEPTED);
  // Many fractional buckets (the probe sent a million) never get as far as
  // the per-bucket checks, let alone the store.
  v1::UnitSummary many = Summary("RJ1", "2026-04", 1, {});
  std::vector<std::pair<double, uint64_t>> fractions;
  for (int i = 0; i < 20000; ++i) fractions.push_back({i * 0.01, 1});
  AddDistribution(&many, kWait, fractions);
  EXPECT_EQ(RejectReason(many),
            "20000 buckets exceed the limit of 366 for measure "
            "'activity.wait_days.immunisation' (one per whole number of days "
            "from 0 to 365)");
  EXPECT_EQ(Held(), 1u);
}

// Point: a revision far ahead of the receiver's clock would freeze the unit.
TEST_F(SummaryWireTest, RevisionMoreThanADayAheadIsRejected) {
  const uint64_t now_ms = absl::ToUnixMillis(WireNow());
  EXPECT_THAT(
      RejectReason(Summary("RJ1", "2026-03",
                           std::numeric_limits<uint64_t>::max(), {{kImm, 1}})),
      StartsWith("revision 18446744073709551615 is more than a day ahead of "
                 "this aggregator's clock"));
  const uint64_t day_ms = 24 * 3600 * 1000;
  EXPECT_THAT(
      RejectReason(Summary("RJ1", "2026-03", now_ms + day_ms + 1, {{kImm, 1}})),
      HasSubstr("more than a day ahead"));
  // Within a day of skew is fine.
  EXPECT_EQ(SendOne(Summary("RJ1", "2026-03", now_ms + day_ms, {{kImm, 1}}))
                .outcome(),
            v1::OUTCOME_ACCEPTED);
  EXPECT_EQ(Held(), 1u);
}

// Point: only canonical periods that have ended.
TEST_F(SummaryWireTest, PeriodsMustBeCanonical) {
  const std::string why = "a summary is for a month (YYYY-MM) or a year (YYYY)";
  EXPECT_EQ(RejectReason(Summary("RJ1", " 2004-07", 1, {{kImm, 1}})),
            absl::StrCat("malformed period ' 2004-07': ", why));
  EXPECT_EQ(RejectReason(Summary("RJ1", "2004-07\n", 1, {{kImm, 1}})),
            absl::StrCat("malformed period '2004-07\\n': ", why));
  EXPECT_EQ(RejectReason(
                Summary("RJ1", " 2018", 1, {{"profile.seqohs_accredited", 1}})),
            absl::StrCat("malformed period ' 2018': ", why));
  EXPECT_EQ(RejectReason(Summary("RJ1", "2026-Q1", 1, {{kImm, 1}})),
            absl::StrCat("malformed period '2026-Q1': ", why));
  EXPECT_EQ(Held(), 0u);
}

TEST_F(SummaryWireTest, YearsOutOfRangeAreNamedAsSuch) {
  for (const char* period : {"0000-07", "9999-01", "0000", "9999"}) {
    EXPECT_EQ(RejectReason(Summary("RJ1", period, 1, {})),
              absl::StrCat("malformed period '", period,
                           "': year must be 1900 to 2999"));
  }
  EXPECT_EQ(RejectReason(Summary("RJ1", "2026-13", 1, {})),
            "malformed period '2026-13': month must be 01 to 12");
}

TEST_F(SummaryWireTest, OnlyMonthsThatHaveEndedWithADaysTolerance) {
  // Now is 2026-11-26 12:00 UTC.
  EXPECT_EQ(RejectReason(Summary("RJ1", "2999-12", 1, {{kImm, 1}})),
            "period '2999-12' has not ended: a month is accepted from "
            "2999-12-31T00:00:00Z (a day before it ends)");
  EXPECT_EQ(RejectReason(Summary("RJ1", "2027-02", 1, {{kImm, 1}})),
            "period '2027-02' has not ended: a month is accepted from "
            "2027-02-28T00:00:00Z (a day before it ends)");
  EXPECT_EQ(RejectReason(Summary("RJ1", "2026-11", 1, {{kImm, 1}})),
            "period '2026-11' has not ended: a month is accepted from "
            "2026-11-30T00:00:00Z (a day before it ends)");
  EXPECT_EQ(SendOne(Summary("RJ1", "2026-10", 1, {{kImm, 1}})).outcome(),
            v1::OUTCOME_ACCEPTED);
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 11, 30, 0, 0, 0),
                             absl::UTCTimeZone()));
  EXPECT_EQ(SendOne(Summary("RJ1", "2026-11", 1, {{kImm, 1}})).outcome(),
            v1::OUTCOME_ACCEPTED);
  EXPECT_EQ(Held(), 2u);
}

TEST_F(SummaryWireTest, AYearIsAcceptedOnceItHasBegun) {
  const char kSeqohs[] = "profile.seqohs_accredited";
  EXPECT_EQ(SendOne(Summary("RJ1", "2026", 1, {{kSeqohs, 1}})).outcome(),
            v1::OUTCOME_ACCEPTED);
  EXPECT_EQ(RejectReason(Summary("RJ1", "2027", 1, {{kSeqohs, 1}})),
            "period '2027' has not begun: a year is accepted from "
            "2026-12-31T00:00:00Z (a day before it starts)");
}

// Point: catalogue_version is checked and recorded with the unit.
TEST_F(SummaryWireTest, CatalogueVersionMustBeOneTheAggregatorKnows) {
  v1::UnitSummary s = Summary("RJ1", "2026-03", 1, {{kImm, 1}});
  s.set_catalogue_version("1999.0");
  EXPECT_EQ(RejectReason(s),
            "unknown catalogue version '1999.0': this aggregator knows "
            "'2026.1'");
  s.set_catalogue_version("");
  EXPECT_EQ(RejectReason(s),
            "missing catalogue version: this aggregator knows '2026.1'");
  s.set_catalogue_version(std::string("\x01\x02garbage\x7f", 10));
  EXPECT_EQ(RejectReason(s),
            "unknown catalogue version '\\x01\\x02garbage\\x7f': this "
            "aggregator knows '2026.1'");
  EXPECT_EQ(Held(), 0u);

  s.set_catalogue_version("2026.1");
  ASSERT_EQ(SendOne(s).outcome(), v1::OUTCOME_ACCEPTED);
  absl::StatusOr<std::string> value = StoredUnitValue("RJ1", "2026-03");
  OHFED_ASSERT_OK(value);
  auto record = DecodeUnit("unit", *value);
  OHFED_ASSERT_OK(record);
  EXPECT_EQ(record->summary.catalogue_version(), "2026.1");
}

// Point: reasons echo at most a bounded prefix of what was sent.
TEST_F(SummaryWireTest, ReasonsEchoABoundedPrefix) {
  const std::string long_code(250, 'Q');  // within the 256-byte field limit
  v1::UnitSummary unknown_trust = Summary(long_code, "2026-03", 1, {});
  v1::UnitSummary bad_period = Summary("RJ1", long_code, 1, {});
  v1::UnitSummary unknown_measure =
      Summary("RJ1", "2026-03", 1, {{long_code, 1}});
  v1::UnitSummary bad_version = Summary("RJ1", "2026-03", 1, {});
  bad_version.set_catalogue_version(long_code);
  for (const v1::UnitSummary& s :
       {unknown_trust, bad_period, unknown_measure, bad_version}) {
    const std::string reason = RejectReason(s);
    EXPECT_THAT(reason, HasSubstr(std::string(60, 'Q') + "..."));
    EXPECT_LE(reason.size(), 160u) << reason;
  }
  // The ack still names what it answers, cut at a character boundary so it
  // stays valid UTF-8 (an odd-length prefix before two-byte characters).
  v1::UnitSummary wide = Summary("R" + std::string(150, 'x') +
                                     "\xC3\xA9"
                                     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                                     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                                     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                                     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                                     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                                     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                                     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                                     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                                     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                                     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
                                     "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9",
                                 "2026-03", 1, {});
  ASSERT_GT(wide.trust().size(), 256u);
  EXPECT_THAT(RejectReason(wide), HasSubstr("longer than 256 bytes"));
}

}  // namespace
}  // namespace ohfed::aggregator::wire
