// Every reason an incoming summary is refused, with the reason text the
// sender shows to its user.
#include "aggregator/validation.h"

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "common/csv.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::AddDistribution;
using ::ohfed::aggregator::testing::Summary;
using ::ohfed::testing::StatusIs;

class ValidationTest : public ::testing::Test {
 protected:
  absl::Status Check(const v1::UnitSummary& s) {
    return ValidateSummary(s, CatalogueVersions(Catalogue::Default()),
                           registry_, now_);
  }
  RegistryHistory registry_{Registry::England()};
  const absl::Time now_ = absl::FromCivil(
      absl::CivilSecond(2026, 11, 26, 12, 0, 0), absl::UTCTimeZone());
};

TEST_F(ValidationTest, AcceptsWellFormedMonthAndYear) {
  v1::UnitSummary month = Summary(
      "RJ1", "2026-03", 1,
      {{"activity.count.immunisation", 12}, {"staffing.wte.admin", 2.5}});
  AddDistribution(&month, "activity.wait_days.immunisation", {{3, 2}, {10, 1}});
  OHFED_EXPECT_OK(Check(month));
  OHFED_EXPECT_OK(Check(Summary(
      "RJ1", "2026", 4,
      {{"profile.seqohs_accredited", 1}, {"profile.staff_served", 15000}})));
}

TEST_F(ValidationTest, UnknownTrust) {
  EXPECT_THAT(
      Check(Summary("ZZZ", "2026-03", 1, {})),
      StatusIs(absl::StatusCode::kInvalidArgument, "unknown trust 'ZZZ'"));
}

TEST_F(ValidationTest, TrustIsLookedUpInTheRegistryOfThePeriod) {
  // A later registry version adds trust "NEW1"; earlier months do not know it.
  std::string csv = absl::StrCat(
      "# version: v2\n# effective_from: 2026-01\n",
      "region_code,region_name,ics_code,ics_name,trust_code,trust_name\n",
      "Y56,London,QKK,South East London,RJ1,Guy's\n",
      "Y56,London,QKK,South East London,NEW1,New Trust\n");
  auto v2 = Registry::Parse(csv, "v2");
  OHFED_ASSERT_OK(v2);
  OHFED_ASSERT_OK(registry_.Add(*v2));
  OHFED_EXPECT_OK(Check(Summary("NEW1", "2026-02", 1, {})));
  EXPECT_THAT(
      Check(Summary("NEW1", "2025-12", 1, {})),
      StatusIs(absl::StatusCode::kInvalidArgument, "unknown trust 'NEW1'"));
}

TEST_F(ValidationTest, UnknownMeasure) {
  EXPECT_THAT(
      Check(Summary("RJ1", "2026-03", 1, {{"x.y", 1}})),
      StatusIs(absl::StatusCode::kInvalidArgument, "unknown measure 'x.y'"));
}

TEST_F(ValidationTest, ValueOutOfRange) {
  EXPECT_THAT(
      Check(Summary("RJ1", "2026", 1, {{"profile.seqohs_accredited", 7}})),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "value 7 out of range [0, 1] for measure "
               "'profile.seqohs_accredited'"));
  EXPECT_THAT(Check(Summary("RJ1", "2026-03", 1, {{"staffing.wte.admin", -1}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "value -1 out of range [0, 1000]"));
}

TEST_F(ValidationTest, CountMustBeWholeAndFinite) {
  EXPECT_THAT(
      Check(
          Summary("RJ1", "2026-03", 1, {{"activity.count.immunisation", 1.5}})),
      StatusIs(absl::StatusCode::kInvalidArgument, "not a whole number"));
  EXPECT_THAT(
      Check(
          Summary("RJ1", "2026-03", 1, {{"staffing.wte.admin", std::nan("")}})),
      StatusIs(absl::StatusCode::kInvalidArgument, "not a finite number"));
}

TEST_F(ValidationTest, MalformedPeriods) {
  EXPECT_THAT(Check(Summary("RJ1", "2026-13", 1, {})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "malformed period '2026-13'"));
  EXPECT_THAT(Check(Summary("RJ1", "2026-Q1", 1, {})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "malformed period '2026-Q1'"));
  EXPECT_THAT(Check(Summary("RJ1", "", 1, {})),
              StatusIs(absl::StatusCode::kInvalidArgument, "period"));
  // Only the canonical month and year forms; the reason names the form for
  // anything else, and the range for numbers in the right form.
  const std::string why = "a summary is for a month (YYYY-MM) or a year (YYYY)";
  for (const char* text : {"2026-1a", "2o26", "fy2025", "FY2025", "2026-q1",
                           "2025-01:2025-02", "2026-03 "}) {
    EXPECT_THAT(Check(Summary("RJ1", text, 1, {})),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         absl::StrCat("malformed period '", text, "': ", why)));
  }
  EXPECT_THAT(
      Check(Summary("RJ1", "1800-03", 1, {})),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "malformed period '1800-03': year must be 1900 to 2999"));
  EXPECT_THAT(Check(Summary("RJ1", "2026-13", 1, {})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "malformed period '2026-13': month must be 01 to 12"));
}

// A month is accepted from a day before it ends, a year from a day before
// it starts, whatever the receiver's clock: checked against those instants
// worked out here, a second either side of each, for months of every
// length, the years' ends and the ends of the years a period may name,
// and clocks beyond them. ReceiptClock works the limit out once per batch
// as a month; its answers and reasons must be those of the instants.
TEST(ReceiptClockTest, PeriodsAreAcceptedFromADayBeforeTheyEndOrBegin) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  auto from_of = [&](absl::string_view text) {
    int y = 0, m = 0;
    if (text.size() == 4) {  // a day before the year starts
      EXPECT_TRUE(absl::SimpleAtoi(text, &y));
      return absl::FromCivil(absl::CivilDay(y, 1, 1), utc) - absl::Hours(24);
    }
    EXPECT_TRUE(absl::SimpleAtoi(text.substr(0, 4), &y));
    EXPECT_TRUE(absl::SimpleAtoi(text.substr(5), &m));
    return absl::FromCivil(absl::CivilMonth(y, m) + 1, utc) - absl::Hours(24);
  };
  std::vector<std::string> periods = {"1900", "1900-01", "2999", "2999-12",
                                      "2024", "2026",    "2027"};
  for (int year : {2024, 2026}) {
    for (int month = 1; month <= 12; ++month) {
      periods.push_back(absl::StrFormat("%d-%02d", year, month));
    }
  }
  std::vector<absl::Time> clocks = {
      absl::InfinitePast(), absl::InfiniteFuture(),
      absl::FromCivil(absl::CivilSecond(1850, 6, 1, 0, 0, 0), utc),
      absl::FromCivil(absl::CivilSecond(3100, 6, 1, 0, 0, 0), utc)};
  for (const std::string& p : periods) {
    for (int s : {-1, 0, 1}) clocks.push_back(from_of(p) + absl::Seconds(s));
  }
  for (const absl::Time now : clocks) {
    const ReceiptClock clock(now);
    for (const std::string& p : periods) {
      SCOPED_TRACE(absl::StrCat(p, " at ", absl::FormatTime(now, utc)));
      absl::StatusOr<Period> parsed = ParseSummaryPeriod(p);
      ASSERT_TRUE(parsed.ok()) << parsed.status();
      const absl::Status checked = clock.CheckPeriod(*parsed, p);
      EXPECT_EQ(checked.ok(), now >= from_of(p));
      EXPECT_EQ(CheckSummaryPeriod(p, now).status(), checked);
      if (checked.ok()) continue;
      EXPECT_EQ(
          checked.message(),
          absl::StrCat("period '", p, "' has not ",
                       p.size() == 4 ? "begun: a year" : "ended: a month",
                       " is accepted from ",
                       absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", from_of(p), utc),
                       p.size() == 4 ? " (a day before it starts)"
                                     : " (a day before it ends)"));
    }
  }
}

// A month's numbers are read without Month::Parse when in its range; every
// other month goes to it: the same period or the same refusal either way,
// at each end of the years and months a period may name.
TEST(ParseSummaryPeriodTest, MonthsAsMonthParseReadsThem) {
  for (const char* year : {"0000", "1899", "1900", "1901", "2026", "2998",
                           "2999", "3000", "9999"}) {
    for (const char* month : {"00", "01", "09", "10", "12", "13", "99"}) {
      const std::string text = absl::StrCat(year, "-", month);
      SCOPED_TRACE(text);
      absl::StatusOr<Period> read = ParseSummaryPeriod(text);
      absl::StatusOr<Month> parsed = Month::Parse(text);
      EXPECT_EQ(read.status(), parsed.status());
      if (read.ok() && parsed.ok()) {
        EXPECT_EQ(read->kind(), Period::Kind::kMonth);
        EXPECT_EQ(read->first(), *parsed);
        EXPECT_EQ(read->last(), *parsed);
      }
    }
  }
}

// SummaryMonth as it was: Period::Parse (lenient about blanks), then a
// month or a year.
absl::StatusOr<Month> SummaryMonthByParse(absl::string_view text) {
  absl::StatusOr<Period> p = Period::Parse(text);
  if (!p.ok()) return p.status();
  if (p->kind() == Period::Kind::kMonth || p->kind() == Period::Kind::kYear) {
    return p->first();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("malformed period '", Echo(text),
                   "': a summary is for a month (YYYY-MM) or a year (YYYY)"));
}

// The index finds a held unit's nodes with SummaryMonth, which reads a
// canonical month directly: the month, or the refusal, Period::Parse
// gives, for months at each end of the years and months, years, other
// periods, blanks and signs.
TEST(SummaryMonthTest, GivesWhatPeriodParseGives) {
  std::vector<std::string> texts = {"",
                                    "2026",
                                    " 2026",
                                    "2026-Q1",
                                    "2026-q1",
                                    "FY2026",
                                    "2026-07:2026-08",
                                    " 2026-07",
                                    "2026-07 ",
                                    "2026-7",
                                    "2026-007",
                                    "+026-07",
                                    "2026-+7",
                                    "2026-0a",
                                    "20x6-07",
                                    "2026/07",
                                    "2026-07-01",
                                    "1899",
                                    "3000",
                                    "2999",
                                    "1900"};
  for (const char* year : {"0000", "1899", "1900", "1901", "2026", "2998",
                           "2999", "3000", "9999"}) {
    for (const char* month : {"00", "01", "09", "10", "12", "13", "99"}) {
      texts.push_back(absl::StrCat(year, "-", month));
    }
  }
  for (const std::string& text : texts) {
    SCOPED_TRACE(text);
    absl::StatusOr<Month> got = SummaryMonth(text);
    absl::StatusOr<Month> want = SummaryMonthByParse(text);
    EXPECT_EQ(got.status(), want.status());
    if (got.ok() && want.ok()) EXPECT_EQ(*got, *want);
  }
}

// Cells are looked up first among the few measures after the previous
// cell's (senders list them in catalogue order), then in the catalogue:
// in any order, with gaps, each finds its own measure, and a repeat, an
// unknown code or one of another frequency is refused as before.
TEST_F(ValidationTest, CellsInAnyOrderFindTheirMeasures) {
  std::vector<std::string> monthly;
  for (const Measure& m : Catalogue::Default()->measures()) {
    if (m.frequency == Frequency::kMonth && m.type != ValueType::kDerived) {
      monthly.push_back(m.code);
    }
  }
  ASSERT_GT(monthly.size(), 20u);
  auto with = [&](const std::vector<std::string>& codes) {
    std::vector<std::pair<std::string, double>> cells;
    for (const std::string& c : codes) cells.push_back({c, 1});
    v1::UnitSummary s = Summary("RJ1", "2026-03", 1, cells);
    // Distributions hold their value in buckets.
    const std::shared_ptr<const Catalogue> catalogue = Catalogue::Default();
    for (v1::Cell& c : *s.mutable_cells()) {
      const Measure* m = catalogue->Find(c.measure());
      if (m != nullptr && m->type == ValueType::kDistribution) {
        v1::Bucket* b = c.add_buckets();
        b->set_value(2);
        b->set_count(1);
      }
    }
    return s;
  };
  std::vector<std::vector<std::string>> orders = {monthly};
  orders.push_back({monthly.rbegin(), monthly.rend()});
  for (size_t step : {2, 3, 5, 6, 7}) {  // gaps within the look-ahead, beyond
    std::vector<std::string> order;
    for (size_t i = 0; i < monthly.size(); i += step) {
      order.push_back(monthly[i]);
    }
    orders.push_back(order);
  }
  std::vector<std::string> interleaved;  // forwards and back
  for (size_t i = 0; i + 1 < monthly.size(); i += 2) {
    interleaved.push_back(monthly[i + 1]);
    interleaved.push_back(monthly[i]);
  }
  orders.push_back(interleaved);
  for (const auto& order : orders) {
    SCOPED_TRACE(absl::StrJoin(order, ","));
    OHFED_EXPECT_OK(Check(with(order)));
  }
  // The next measure's code, or one of its length, repeated or changed.
  EXPECT_THAT(Check(with({monthly[0], monthly[1], monthly[1]})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("duplicate measure '", monthly[1], "'")));
  EXPECT_THAT(Check(with({monthly[0], monthly[1], monthly[0]})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("duplicate measure '", monthly[0], "'")));
  std::string changed = monthly[1];
  changed.back() = changed.back() == 'x' ? 'y' : 'x';
  EXPECT_THAT(Check(with({monthly[0], changed})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("unknown measure '", changed, "'")));
  EXPECT_THAT(
      Check(with({monthly[0], monthly[1].substr(1)})),
      StatusIs(absl::StatusCode::kInvalidArgument,
               absl::StrCat("unknown measure '", monthly[1].substr(1), "'")));
  // An annual measure just after the last monthly one (the catalogue's
  // order) is found, and refused for a month.
  const std::vector<Measure>& all = Catalogue::Default()->measures();
  int annual_next = 0;
  for (size_t i = 0; i + 1 < all.size(); ++i) {
    if (all[i].code != monthly.back() ||
        all[i + 1].frequency != Frequency::kYear) {
      continue;
    }
    ++annual_next;
    EXPECT_THAT(Check(with({monthly.back(), all[i + 1].code})),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         absl::StrCat("measure '", all[i + 1].code,
                                      "' is annual but period '2026-03' is a "
                                      "month")));
  }
  EXPECT_EQ(annual_next, 1);
}

TEST_F(ValidationTest, RevisionZero) {
  EXPECT_THAT(
      Check(Summary("RJ1", "2026-03", 0, {})),
      StatusIs(absl::StatusCode::kInvalidArgument, "revision must be > 0"));
}

TEST_F(ValidationTest, FrequencyMustMatchPeriod) {
  EXPECT_THAT(
      Check(Summary("RJ1", "2026", 1, {{"activity.count.immunisation", 1}})),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "measure 'activity.count.immunisation' is monthly but period "
               "'2026' is a year"));
  EXPECT_THAT(
      Check(Summary("RJ1", "2026-03", 1, {{"profile.seqohs_accredited", 1}})),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "measure 'profile.seqohs_accredited' is annual but period "
               "'2026-03' is a month"));
}

TEST_F(ValidationTest, DuplicateMeasure) {
  EXPECT_THAT(Check(Summary("RJ1", "2026-03", 1,
                            {{"activity.count.immunisation", 1},
                             {"activity.count.immunisation", 2}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "duplicate measure 'activity.count.immunisation'"));
}

TEST_F(ValidationTest, DerivedMeasuresAreNotReported) {
  EXPECT_THAT(
      Check(Summary("RJ1", "2026", 1, {{"derived.staff_per_consultant", 100}})),
      StatusIs(absl::StatusCode::kInvalidArgument, "derived"));
}

TEST_F(ValidationTest, Distributions) {
  v1::UnitSummary bad_bucket = Summary("RJ1", "2026-03", 1, {});
  AddDistribution(&bad_bucket, "activity.wait_days.immunisation", {{400, 1}});
  EXPECT_THAT(Check(bad_bucket), StatusIs(absl::StatusCode::kInvalidArgument,
                                          "value 400 out of range [0, 365]"));
  v1::UnitSummary bad_total = Summary("RJ1", "2026-03", 1, {});
  AddDistribution(&bad_total, "activity.wait_days.immunisation", {{4, 3}});
  bad_total.mutable_cells(0)->set_value(5);
  EXPECT_THAT(Check(bad_total), StatusIs(absl::StatusCode::kInvalidArgument,
                                         "buckets hold 3 events"));
  v1::UnitSummary scalar_with_buckets =
      Summary("RJ1", "2026-03", 1, {{"activity.count.immunisation", 1}});
  scalar_with_buckets.mutable_cells(0)->add_buckets()->set_count(1);
  EXPECT_THAT(
      Check(scalar_with_buckets),
      StatusIs(absl::StatusCode::kInvalidArgument, "not a distribution"));
}

// Buckets need not be sorted; a repeated value is refused wherever it is,
// and a refusal names the first fault in the order sent.
// Each bucket is checked for a whole value in range, and the counts for
// at most 2^53 events in all: up to the limit exactly, then one past it
// (from either bucket), and values beyond doubles' whole numbers, infinite
// or not a number, in or out of order.
TEST_F(ValidationTest, BucketValuesAndCountsAtTheirLimits) {
  const std::string wait = "activity.wait_days.immunisation";
  const uint64_t limit = uint64_t{1} << 53;
  auto check = [&](std::vector<std::pair<double, uint64_t>> buckets) {
    v1::UnitSummary s = Summary("RJ1", "2026-03", 1, {});
    AddDistribution(&s, wait, buckets);
    return Check(s);
  };
  OHFED_EXPECT_OK(check({{3, limit}}));
  OHFED_EXPECT_OK(check({{3, limit - 5}, {4, 5}}));
  OHFED_EXPECT_OK(check({{4, 5}, {3, limit - 5}}));
  const std::string over =
      absl::StrCat("bucket counts of measure '", wait, "' overflow: more than ",
                   limit, " events");
  for (const auto& buckets :
       std::vector<std::vector<std::pair<double, uint64_t>>>{
           {{3, limit + 1}},
           {{3, limit - 5}, {4, 6}},
           {{3, 6}, {4, limit - 5}},
           {{4, 6}, {3, limit - 5}},
           {{3, ~uint64_t{0}}, {4, 2}},
           {{3, 1}, {4, ~uint64_t{0}}}}) {
    EXPECT_THAT(check(buckets),
                StatusIs(absl::StatusCode::kInvalidArgument, over));
  }
  for (const double v : {0x1p52, 0x1p53 + 2, -0x1p60, HUGE_VAL, -HUGE_VAL,
                         std::nan(""), 365.5, -0.5, -1.0, 0.25, 364.5}) {
    SCOPED_TRACE(v);
    const std::string why =
        std::isfinite(v) && v >= 0 && v <= 365
            ? absl::StrCat("bucket value ", v, " of measure '", wait,
                           "' is not a whole number of days")
            : absl::StrCat("value ", v, " out of range [0, 365] for measure '",
                           wait, "'");
    EXPECT_THAT(check({{v, 1}}),
                StatusIs(absl::StatusCode::kInvalidArgument, why));
    EXPECT_THAT(check({{1, 1}, {v, 1}}),
                StatusIs(absl::StatusCode::kInvalidArgument, why));
    EXPECT_THAT(check({{300, 1}, {2, 1}, {v, 1}}),
                StatusIs(absl::StatusCode::kInvalidArgument, why));
  }
  OHFED_EXPECT_OK(check({{-0.0, 1}, {365, 1}}));
}

TEST_F(ValidationTest, DistributionBucketsInAnyOrder) {
  v1::UnitSummary unsorted = Summary("RJ1", "2026-03", 1, {});
  AddDistribution(&unsorted, "activity.wait_days.immunisation",
                  {{7, 1}, {3, 2}, {9, 1}});
  OHFED_EXPECT_OK(Check(unsorted));
  v1::UnitSummary repeat = Summary("RJ1", "2026-03", 1, {});
  AddDistribution(&repeat, "activity.wait_days.immunisation",
                  {{5, 1}, {2, 1}, {5, 1}});
  EXPECT_THAT(Check(repeat),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "bucket value 5 of measure "
                       "'activity.wait_days.immunisation' appears more than "
                       "once"));
  v1::UnitSummary repeat_then_range = Summary("RJ1", "2026-03", 1, {});
  AddDistribution(&repeat_then_range, "activity.wait_days.immunisation",
                  {{4, 1}, {4, 1}, {400, 1}});
  EXPECT_THAT(Check(repeat_then_range),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "bucket value 4 of measure "
                       "'activity.wait_days.immunisation' appears more than "
                       "once"));
  v1::UnitSummary range_then_repeat = Summary("RJ1", "2026-03", 1, {});
  AddDistribution(&range_then_repeat, "activity.wait_days.immunisation",
                  {{400, 1}, {4, 1}, {4, 1}});
  EXPECT_THAT(
      Check(range_then_repeat),
      StatusIs(absl::StatusCode::kInvalidArgument, "value 400 out of range"));
}

// Unknown fields go at every level, as protobuf's reflective
// DiscardUnknownFields drops them; and the levels walked are every message
// type a SubmitRequest holds (a new nested message needs adding there).
TEST(DiscardUnknownFieldsTest, DropsThemAtEveryLevelAsProtobufDoes) {
  v1::SubmitRequest request;
  v1::UnitSummary* s = request.add_summaries();
  *s = Summary("RJ1", "2026-03", 1, {{"activity.count.immunisation", 1}});
  AddDistribution(s, "activity.wait_days.immunisation", {{3, 2}});
  std::vector<google::protobuf::Message*> levels = {
      &request, s, s->mutable_cells(1),
      s->mutable_cells(1)->mutable_buckets(0)};
  for (google::protobuf::Message* m : levels) {
    m->GetReflection()->MutableUnknownFields(m)->AddVarint(99, 7);
  }
  v1::SubmitRequest expected = request;
  expected.DiscardUnknownFields();
  ASSERT_NE(request.SerializeAsString(), expected.SerializeAsString());
  DiscardUnknownFields(&request);
  EXPECT_EQ(request.SerializeAsString(), expected.SerializeAsString());

  std::set<std::string> reachable;
  std::vector<const google::protobuf::Descriptor*> todo = {
      v1::SubmitRequest::descriptor()};
  while (!todo.empty()) {
    const google::protobuf::Descriptor* d = todo.back();
    todo.pop_back();
    if (!reachable.insert(d->full_name()).second) continue;
    for (int i = 0; i < d->field_count(); ++i) {
      if (d->field(i)->message_type() != nullptr) {
        todo.push_back(d->field(i)->message_type());
      }
    }
  }
  EXPECT_EQ(reachable, (std::set<std::string>{
                           "ohfed.v1.SubmitRequest", "ohfed.v1.UnitSummary",
                           "ohfed.v1.Cell", "ohfed.v1.Bucket"}));
}

TEST_F(ValidationTest, Limits) {
  EXPECT_THAT(Check(Summary(std::string(300, 'R'), "2026-03", 1, {})),
              StatusIs(absl::StatusCode::kInvalidArgument, "longer than 256"));
  v1::UnitSummary big = Summary("RJ1", "2026-03", 1, {});
  for (int i = 0; i < 4097; ++i) big.add_cells()->set_measure("x");
  EXPECT_THAT(Check(big),
              StatusIs(absl::StatusCode::kInvalidArgument, "limit of 4096"));
}

TEST(EchoTest, QuotesABoundedEscapedPrefix) {
  EXPECT_EQ(Echo("RJ1"), "RJ1");
  EXPECT_EQ(Echo(std::string("a\nb\xff", 4)), "a\\nb\\xff");
  const std::string echoed = Echo(std::string(1000, '\x01'));
  EXPECT_LE(echoed.size(), static_cast<size_t>(kMaxEchoBytes) + 3);
  EXPECT_EQ(echoed.substr(echoed.size() - 3), "...");
}

// For log lines: bounded, not escaped (the log escapes once), never cut
// inside a UTF-8 sequence.
TEST(BoundTest, KeepsABoundedRawPrefix) {
  EXPECT_EQ(Bound(std::string("a\nb\xff", 4)), std::string("a\nb\xff", 4));
  std::string long_text = std::string(kMaxEchoBytes - 1, 'x') + "\xc3\xa9tail";
  EXPECT_EQ(Bound(long_text), std::string(kMaxEchoBytes - 1, 'x') + "...");
}

// A newer catalogue (issue 11): the aggregator that loads it keeps
// accepting agents still on the embedded version, each summary checked
// against the measures of the version it names.
TEST_F(ValidationTest, OlderCatalogueVersionsStayAcceptedAfterANewerOne) {
  std::string text =
      *ReadFile(::ohfed::testing::SourceDir() + "/common/data/catalogue.csv");
  const std::string shipped = Catalogue::Default()->version();
  const std::string line = "# version: " + shipped;
  text.replace(text.find(line), line.size(), "# version: 2030.1");
  text +=
      "activity.count.flu_vaccination,Flu vaccinations,count,count,0,"
      "1000000,sum,sum,yes,month\n";
  auto newer = Catalogue::Parse(text, "catalogue-2030.1.csv");
  OHFED_ASSERT_OK(newer);
  CatalogueVersions versions(*newer);
  versions.AddKnown(Catalogue::Default());

  v1::UnitSummary old_agent =
      Summary("RJ1", "2026-03", 1, {{"activity.count.immunisation", 12}});
  ASSERT_EQ(old_agent.catalogue_version(), shipped);
  OHFED_EXPECT_OK(ValidateSummary(old_agent, versions, registry_, now_));
  // The new measure is not in the version the old agent names.
  v1::UnitSummary mixed = old_agent;
  mixed.mutable_cells(0)->set_measure("activity.count.flu_vaccination");
  EXPECT_THAT(ValidateSummary(mixed, versions, registry_, now_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "unknown measure 'activity.count.flu_vaccination'"));
  v1::UnitSummary new_agent = mixed;
  new_agent.set_catalogue_version("2030.1");
  OHFED_EXPECT_OK(ValidateSummary(new_agent, versions, registry_, now_));
  new_agent.set_catalogue_version("2031.1");
  EXPECT_THAT(ValidateSummary(new_agent, versions, registry_, now_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("unknown catalogue version '2031.1': this "
                                    "aggregator knows '2030.1', '",
                                    shipped, "'")));
  // Without the newer catalogue, its summaries are refused as before.
  EXPECT_THAT(Check(mixed),
              StatusIs(absl::StatusCode::kInvalidArgument, "unknown measure"));
}

}  // namespace
}  // namespace ohfed::aggregator
