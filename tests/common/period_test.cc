#include "common/period.h"

#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::StatusIs;
using ::testing::ElementsAre;

TEST(PeriodTest, ParsesEveryForm) {
  auto m = Period::Parse("2021-03");
  OHFED_ASSERT_OK(m);
  EXPECT_EQ(m->kind(), Period::Kind::kMonth);
  EXPECT_EQ(m->first(), Month::Of(2021, 3));
  EXPECT_EQ(m->months(), 1);

  auto q = Period::Parse("2021-Q2");
  OHFED_ASSERT_OK(q);
  EXPECT_EQ(q->first(), Month::Of(2021, 4));
  EXPECT_EQ(q->last(), Month::Of(2021, 6));

  auto y = Period::Parse("2021");
  OHFED_ASSERT_OK(y);
  EXPECT_EQ(y->months(), 12);
  EXPECT_EQ(y->last(), Month::Of(2021, 12));

  auto fy = Period::Parse("FY2021");
  OHFED_ASSERT_OK(fy);
  EXPECT_EQ(fy->first(), Month::Of(2021, 4));
  EXPECT_EQ(fy->last(), Month::Of(2022, 3));

  auto r = Period::Parse("2021-Q4:FY2022");
  OHFED_ASSERT_OK(r);
  EXPECT_EQ(r->first(), Month::Of(2021, 10));
  EXPECT_EQ(r->last(), Month::Of(2023, 3));
  EXPECT_EQ(r->ToString(), "2021-10:2023-03");
}

TEST(PeriodTest, RoundTripsCanonicalText) {
  for (const char* text :
       {"2021-03", "2021-Q2", "2021", "FY2021", "2020-01:2021-02"}) {
    auto p = Period::Parse(text);
    OHFED_ASSERT_OK(p);
    EXPECT_EQ(p->ToString(), text);
  }
}

// Validation asks Period which form a summary's period is written in, rather
// than guessing from its length.
TEST(PeriodTest, KindOfNamesTheCanonicalFormOnly) {
  EXPECT_EQ(Period::KindOf("2021-03"), Period::Kind::kMonth);
  EXPECT_EQ(Period::KindOf("2021-13"), Period::Kind::kMonth);  // form only
  EXPECT_EQ(Period::KindOf("2021-Q2"), Period::Kind::kQuarter);
  EXPECT_EQ(Period::KindOf("2021"), Period::Kind::kYear);
  EXPECT_EQ(Period::KindOf("1800"), Period::Kind::kYear);
  EXPECT_EQ(Period::KindOf("FY2021"), Period::Kind::kFinancialYear);
  EXPECT_EQ(Period::KindOf("2021-Q4:FY2022"), Period::Kind::kRange);
  for (const char* text :
       {"", " 2021-03", "2021-03 ", "2021-3", "2021-1a", "20a1", "2021-q2",
        "fy2021", "FY21", "2021/03", "March 2021", "2021-03:", ":2021",
        "2021:2022:2023"}) {
    EXPECT_EQ(Period::KindOf(text), std::nullopt) << "'" << text << "'";
  }
}

TEST(PeriodTest, RejectsMalformedWithTheOffendingText) {
  EXPECT_THAT(Period::Parse("2021-13"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'2021-13': month must be 01 to 12"));
  EXPECT_THAT(Period::Parse("2021-00"),
              StatusIs(absl::StatusCode::kInvalidArgument, "'2021-00'"));
  EXPECT_THAT(
      Period::Parse("FY21"),
      StatusIs(absl::StatusCode::kInvalidArgument, "'FY21': expected FYYYYY"));
  EXPECT_THAT(Period::Parse("2021-Q5"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'2021-Q5': quarter must be Q1 to Q4"));
  EXPECT_THAT(Period::Parse("2021-02:2020-01"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'2021-02:2020-01': the range ends before it starts"));
  EXPECT_THAT(Period::Parse("2021-02:"),
              StatusIs(absl::StatusCode::kInvalidArgument, "empty period"));
  EXPECT_THAT(Period::Parse(""),
              StatusIs(absl::StatusCode::kInvalidArgument, "empty period"));
  EXPECT_THAT(Period::Parse("March 2021"),
              StatusIs(absl::StatusCode::kInvalidArgument, "'March 2021'"));
  EXPECT_THAT(Period::Parse("0999"),
              StatusIs(absl::StatusCode::kInvalidArgument, "year must be"));
  EXPECT_THAT(Month::Parse("2021-3"),
              StatusIs(absl::StatusCode::kInvalidArgument, "'2021-3'"));
}

// Found by tests/fuzz (corpus/period/fy2999_range): "2042-Q4:FY2999" was
// accepted although its canonical form, "2042-10:3000-03", was refused, and
// refused as a bad month.
TEST(PeriodTest, EveryParsedPeriodEndsInARangeYear) {
  EXPECT_THAT(Period::Parse("FY2999"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'FY2999': financial year must be FY1900 to FY2998"));
  EXPECT_THAT(Period::Parse("2042-Q4:FY2999"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "financial year must be FY1900 to FY2998"));
  EXPECT_THAT(Period::Parse("2042-10:3000-03"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "'2042-10:3000-03': year must be 1900 to 2999"));
  auto fy = Period::Parse("FY2998");
  ASSERT_TRUE(fy.ok()) << fy.status();
  EXPECT_EQ(fy->last(), Month::Of(2999, 3));
}

TEST(PeriodTest, MonthArithmeticCrossesYears) {
  Month dec = Month::Of(2021, 12);
  EXPECT_EQ((dec + 1).ToString(), "2022-01");
  EXPECT_EQ((Month::Of(2022, 1) - 13).ToString(), "2020-12");
  EXPECT_EQ(Month::Of(2022, 3) - Month::Of(2021, 4), 11);
  EXPECT_EQ(Period::Parse("FY2021")->Next().ToString(), "FY2022");
  EXPECT_EQ(Period::Parse("2021-Q1")->Previous().ToString(), "2020-Q4");
  EXPECT_EQ(Period::Parse("2021-01:2021-03")->Next().ToString(),
            "2021-04:2021-06");
}

TEST(PeriodTest, MonthsYearsAndContainment) {
  auto fy = *Period::Parse("FY2021");
  EXPECT_THAT(fy.Years(), ElementsAre(2021, 2022));
  EXPECT_EQ(fy.Months().size(), 12u);
  EXPECT_EQ(fy.Months().front().ToString(), "2021-04");
  EXPECT_TRUE(fy.Contains(Month::Of(2022, 3)));
  EXPECT_FALSE(fy.Contains(Month::Of(2022, 4)));
  EXPECT_TRUE(fy.Contains(*Period::Parse("2021-Q3")));
  EXPECT_FALSE(fy.Contains(*Period::Parse("2021")));
}

TEST(PeriodTest, OnTimeDeadlineIsEndOfThe15thOfNextMonth) {
  absl::Time deadline = OnTimeDeadline(Month::Of(2021, 12));
  absl::Time expected =
      absl::FromCivil(absl::CivilDay(2022, 1, 16), absl::UTCTimeZone());
  EXPECT_EQ(deadline, expected);
  EXPECT_EQ(Month::Containing(expected - absl::Seconds(1)), Month::Of(2022, 1));
}

}  // namespace
}  // namespace ohfed
