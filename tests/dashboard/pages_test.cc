// The dashboard's pages against the real query engine over a small
// in-memory view with known figures (tests/dashboard/fake_source.h).
#include "dashboard/pages.h"

#include <string>
#include <vector>

#include "dashboard/chart_svg.h"
#include "tests/dashboard/fake_source.h"
#include "tests/testing/testing.h"

namespace ohfed::dashboard {
namespace {

using ::ohfed::dashboard::testing::FakeSource;
using ::ohfed::testing::StatusIs;
using ::testing::ElementsAre;

absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}
int64_t Ms(const char* rfc3339) { return absl::ToUnixMillis(At(rfc3339)); }

const Table* FindTable(const Page& page, const std::string& id) {
  for (const Section& s : page.sections) {
    for (const Table& t : s.tables) {
      if (t.id == id) return &t;
    }
  }
  return nullptr;
}

const Chart* FindChart(const Page& page, const std::string& id) {
  for (const Section& s : page.sections) {
    for (const Chart& c : s.charts) {
      if (c.id == id) return &c;
    }
  }
  return nullptr;
}

// The row whose first cell reads `label`; fails the test if there is none.
const std::vector<Cell>& Row(const Table& table, const std::string& label) {
  for (const auto& row : table.rows) {
    if (!row.empty() && row[0].text == label) return row;
  }
  ADD_FAILURE() << "no row '" << label << "' in table " << table.id;
  static const std::vector<Cell> empty(16);
  return empty;
}

// Column `header`'s index; fails the test if there is none.
size_t Col(const Table& table, const std::string& header) {
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (table.columns[i].header == header) return i;
  }
  ADD_FAILURE() << "no column '" << header << "' in table " << table.id;
  return 0;
}

std::string Text(const Table& table, const std::string& row,
                 const std::string& column) {
  return Row(table, row)[Col(table, column)].text;
}

const Period kMarch = Period::OfMonth(Month::Of(2026, 3));

// The test registry (tests/aggregator/query_fake_view.h): North (R1) holds
// ICS One (I1: T1, T2) and ICS Two (I2: T3); South (R2) holds ICS Three
// (I3: T4, T5). March 2026, seen on 1 May 2026:
//   consultant WTE  T1 2, T2 1, T3 3, T4 0;  T5 has not reported
//   specialist OH nurse WTE  T1 4, T2 2, T4 6;  vacant consultant T1 1
//   staff served (2026)  T1 20000, T2 15000, T3 60000, T4 10000
//   T2's March arrived late; T2 missed February; T5 last sent 2025-12 and
//   has been silent since January.
//   immunisations  T1 3, T2 20, T3 12, T4 40; management referral waits
//   T1: 6 of 5 days, 4 of 20 days
//   Covid risk assessment, strategic, host (2026): T1, T2, T4 yes, T3 no;
//   no involvement, other trusts: T1 no; SEQOHS accredited: T1 yes, T2 no
class PagesTest : public ::testing::Test {
 protected:
  PagesTest() : source_(At("2026-05-01T00:00:00Z")) {
    auto& v = source_.view();
    const std::string mar = "2026-03";
    Staff("T1", 2, 4);
    v.Set("T1", mar, "staffing.vacant_wte.consultant_om", 1);
    Staff("T2", 1, 2);
    Staff("T3", 3, std::nullopt);
    Staff("T4", 0, 6);
    int i = 0;
    for (const char* t : {"T1", "T2", "T3", "T4"}) {
      v.Set(t, "2026", "profile.staff_served",
            std::vector<double>{20000, 15000, 60000, 10000}[i++]);
    }
    v.SetReceived("T2", mar, Ms("2026-04-20T00:00:00Z"),
                  Ms("2026-04-20T00:00:00Z"), 1);
    for (const char* t : {"T1", "T3", "T4"}) {
      v.Set(t, "2026-02", "staffing.wte.consultant_om", 1);
    }
    v.Set("T5", "2025-12", "staffing.wte.consultant_om", 1);
    v.SetLastReceived("T5", Ms("2026-01-10T00:00:00Z"));
    for (const char* t : {"T1", "T2", "T3", "T4"}) {
      v.SetLastReceived(t, Ms("2026-04-20T00:00:00Z"));
    }
    i = 0;
    for (const char* t : {"T1", "T2", "T3", "T4"}) {
      v.Set(t, mar, "activity.count.immunisation",
            std::vector<double>{3, 20, 12, 40}[i]);
      v.Set(t, "2026", "profile.covid.risk_assessment.strategic.host",
            std::vector<double>{1, 1, 0, 1}[i++]);
    }
    v.SetBuckets("T1", mar, "activity.wait_days.management_referral",
                 {{5, 6}, {20, 4}});
    v.Set("T1", "2026", "profile.covid.risk_assessment.none.other", 0);
    v.Set("T1", "2026", "profile.seqohs_accredited", 1);
    v.Set("T2", "2026", "profile.seqohs_accredited", 0);
  }
  void Staff(const std::string& trust, double consultants,
             std::optional<double> nurses) {
    source_.view().Set(trust, "2026-03", "staffing.wte.consultant_om",
                       consultants);
    if (nurses) {
      source_.view().Set(trust, "2026-03", "staffing.wte.nurse_specialist_oh",
                         *nurses);
    }
  }
  Page Build(const Scope& scope, const Period& period = kMarch) {
    auto page = BuildPage(source_, scope, period);
    EXPECT_THAT(page, ::ohfed::testing::IsOk());
    return page.ok() ? *page : Page();
  }

  FakeSource source_;
};

const Scope kNational = Scope::National();
const Scope kNorth{Scope::Level::kRegion, "R1"};
const Scope kIcsOne{Scope::Level::kIcs, "I1"};
const Scope kIcsTwo{Scope::Level::kIcs, "I2"};
const Scope kTrustThree{Scope::Level::kTrust, "T3"};

TEST_F(PagesTest, WorkforceTableHasTotalsMeansServicesAndVacancies) {
  Page page = Build(kNational);
  const Table* t = FindTable(page, "workforce");
  ASSERT_NE(t, nullptr);
  const char* consultants =
      "Consultant occupational physicians (accredited specialists)";
  EXPECT_EQ(Text(*t, consultants, "Total WTE in post"), "6.0");
  EXPECT_EQ(Text(*t, consultants, "Mean WTE per reporting service"), "1.50");
  EXPECT_EQ(Text(*t, consultants, "Services reporting"), "4");
  EXPECT_EQ(Text(*t, consultants, "Vacant WTE"), "1.0");
  // Only three services reported specialist nurses: the mean is over them.
  EXPECT_EQ(Text(*t, "Specialist OH nurses", "Total WTE in post"), "12.0");
  EXPECT_EQ(Text(*t, "Specialist OH nurses", "Mean WTE per reporting service"),
            "4.00");
  EXPECT_EQ(Text(*t, "Specialist OH nurses", "Services reporting"), "3");
  // No service reported general nurses: blank, not zero.
  EXPECT_EQ(Text(*t, "General nurses", "Total WTE in post"), "");
  EXPECT_EQ(Text(*t, "General nurses", "Services reporting"), "");
  EXPECT_EQ(t->rows.size(), 12u);
}

TEST_F(PagesTest, WorkforceTableFollowsTheScope) {
  Page page = Build(kIcsOne);
  const Table* t = FindTable(page, "workforce");
  ASSERT_NE(t, nullptr);
  const char* consultants =
      "Consultant occupational physicians (accredited specialists)";
  EXPECT_EQ(Text(*t, consultants, "Total WTE in post"), "3.0");
  EXPECT_EQ(Text(*t, consultants, "Mean WTE per reporting service"), "1.50");
  EXPECT_EQ(Text(*t, consultants, "Services reporting"), "2");
}

TEST_F(PagesTest, IcsPageShowsItsTrustsWorkforceSideBySide) {
  Page page = Build(kIcsOne);
  const Table* t = FindTable(page, "workforce_by_trust");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->columns[0].header, "Trust");
  ASSERT_EQ(t->rows.size(), 3u);  // T1, T2, the ICS
  EXPECT_EQ(Text(*t, "Trust One", "Consultant OM"), "2.0");
  EXPECT_EQ(Text(*t, "Trust Two", "Specialist OH nurses"), "2.0");
  EXPECT_EQ(Text(*t, "All ICS One", "Specialist OH nurses"), "6.0");
  EXPECT_EQ(Text(*t, "Trust Two", "General nurses"), "");
  EXPECT_EQ(Row(*t, "Trust One")[0].href, "/scope/trust/T1?period=2026-03");
  Page national = Build(kNational);
  const Table* regions = FindTable(national, "workforce_by_region");
  ASSERT_NE(regions, nullptr);
  EXPECT_EQ(Text(*regions, "South", "Specialist OH nurses"), "6.0");
  EXPECT_EQ(FindTable(Build(kTrustThree), "workforce_by_trust"), nullptr);
}

TEST_F(PagesTest, StaffPerConsultantAndGapByRegionAndIcs) {
  Page page = Build(kNational);
  const Table* regions = FindTable(page, "consultants_by_region");
  ASSERT_NE(regions, nullptr);
  // North: 95,000 staff over 6 WTE; the gap is 95000/17500 - 6.
  EXPECT_EQ(Text(*regions, "North", "Staff per consultant"), "15833");
  EXPECT_EQ(Text(*regions, "North", "Consultant gap WTE"), "-0.6");
  EXPECT_EQ(Text(*regions, "North", "Trusts with at least 3 consultant WTE"),
            "1 of 3");
  // South's only reporting trust has no consultant at all.
  EXPECT_EQ(Text(*regions, "South", "Staff per consultant"), "no consultant");
  EXPECT_EQ(Text(*regions, "South", "Consultant gap WTE"), "0.6");
  EXPECT_EQ(Text(*regions, "All England", "Staff per consultant"), "17500");
  EXPECT_EQ(Text(*regions, "All England", "Consultant gap WTE"), "0.0");
  EXPECT_EQ(Text(*regions, "All England", "NHS staff served"), "105000");
  EXPECT_EQ(Row(*regions, "North")[0].href, "/scope/region/R1?period=2026-03");

  const Table* icss = FindTable(page, "consultants_by_ics");
  ASSERT_NE(icss, nullptr);
  EXPECT_EQ(Text(*icss, "ICS One", "Staff per consultant"), "11667");
  EXPECT_EQ(Text(*icss, "ICS One", "Consultant gap WTE"), "-1.0");
  EXPECT_EQ(Text(*icss, "ICS Two", "Staff per consultant"), "20000");
  EXPECT_EQ(Text(*icss, "ICS Two", "Consultant gap WTE"), "0.4");
  EXPECT_EQ(Row(*icss, "ICS Two")[0].href, "/scope/ics/I2?period=2026-03");

  const Chart* chart = FindChart(page, "consultants_by_region_chart");
  ASSERT_NE(chart, nullptr);
  EXPECT_EQ(chart->table_id, "consultants_by_region");
  ASSERT_TRUE(chart->band.has_value());
  EXPECT_EQ(chart->band->low, 15000);
  EXPECT_EQ(chart->band->high, 20000);
  ASSERT_EQ(chart->value_columns.size(), 1u);
  EXPECT_EQ(regions->columns[chart->value_columns[0]].header,
            "Staff per consultant");
}

TEST_F(PagesTest, StaffServedIsTheLatestReturnAsTheRatioUsesIt) {
  // Trust Five last returned its headcount in 2024, with consultants then.
  source_.view().Set("T5", "2024", "profile.staff_served", 5000);
  Page page = Build(kNational);
  const Table* regions = FindTable(page, "consultants_by_region");
  ASSERT_NE(regions, nullptr);
  EXPECT_EQ(Text(*regions, "South", "NHS staff served"), "15000");
  EXPECT_EQ(Text(*regions, "All England", "NHS staff served"), "110000");
}

TEST_F(PagesTest, IcsPageComparesItsTrustsSideBySide) {
  Page page = Build(kIcsOne);
  const Table* t = FindTable(page, "consultants_by_trust");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->rows.size(), 3u);  // T1, T2, the ICS
  EXPECT_EQ(Text(*t, "Trust One", "Staff per consultant"), "10000");
  EXPECT_EQ(Text(*t, "Trust Two", "Staff per consultant"), "15000");
  EXPECT_EQ(Text(*t, "Trust One", "Consultant OM WTE"), "2.00");
  EXPECT_EQ(Text(*t, "All ICS One", "Staff per consultant"), "11667");
  EXPECT_EQ(Row(*t, "Trust Two")[0].href, "/scope/trust/T2?period=2026-03");
  EXPECT_EQ(FindTable(page, "consultants_by_region"), nullptr);
}

TEST_F(PagesTest, TrustPageShowsItself) {
  Page page = Build(kTrustThree);
  const Table* t = FindTable(page, "consultants");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->rows.size(), 1u);
  EXPECT_EQ(Text(*t, "Trust Three", "Staff per consultant"), "20000");
  EXPECT_EQ(Text(*t, "Trust Three", "Trusts with at least 3 consultant WTE"),
            "1 of 1");
}

TEST_F(PagesTest, BreadcrumbsRunFromEnglandToThePage) {
  auto labels = [](const Page& p) {
    std::vector<std::string> out;
    for (const Crumb& c : p.breadcrumbs) out.push_back(c.label + " " + c.href);
    return out;
  };
  EXPECT_THAT(labels(Build(kNational)), ElementsAre("England "));
  EXPECT_THAT(labels(Build(kNorth)),
              ElementsAre("England /scope/national?period=2026-03", "North "));
  EXPECT_THAT(
      labels(Build(kTrustThree)),
      ElementsAre("England /scope/national?period=2026-03",
                  "North /scope/region/R1?period=2026-03",
                  "ICS Two /scope/ics/I2?period=2026-03", "Trust Three "));
  Page page = Build(kIcsTwo);
  EXPECT_EQ(page.title, "ICS Two");
  EXPECT_EQ(page.breadcrumbs.size(), 3u);
}

TEST_F(PagesTest, StatusSaysAPartialMonthIsPartial) {
  Page page = Build(kNational);
  EXPECT_EQ(page.status.expected, 5);
  EXPECT_EQ(page.status.reported, 4);
  EXPECT_EQ(page.status.text,
            "4 of 5 trusts have reported 2026-03 (3 on time); the figures "
            "are partial until the rest report.");
  Page ics = Build(kIcsOne);
  EXPECT_EQ(ics.status.text,
            "2 of 2 trusts have reported 2026-03 (1 on time); the figures "
            "are complete.");
}

TEST_F(PagesTest, StatusOfAQuarterCountsTrustsReportingSomeMonths) {
  Page page = Build(kNational, *Period::Parse("2026-Q1"));
  // T1, T3, T4 reported February and March, T2 March only; nobody January.
  EXPECT_EQ(page.status.reported, 0);
  EXPECT_EQ(page.status.partial, 4);
  EXPECT_EQ(page.status.text,
            "0 of 5 trusts have reported every month of 2026-Q1 and 4 some "
            "of it; the figures are partial until the rest report.");
}

TEST_F(PagesTest, CompletenessGridMarksEachTrustMonth) {
  Page page = Build(kNational);
  const Table* grid = FindTable(page, "completeness_grid");
  ASSERT_NE(grid, nullptr);
  // Twelve months to March 2026, one row per trust.
  ASSERT_EQ(grid->columns.size(), 13u);
  EXPECT_EQ(grid->columns[1].header, "2025-04");
  EXPECT_EQ(grid->columns[12].header, "2026-03");
  ASSERT_EQ(grid->rows.size(), 5u);
  auto cell = [&](const std::string& trust, const std::string& month) {
    return Row(*grid, trust)[Col(*grid, month)];
  };
  EXPECT_EQ(cell("Trust One", "2026-03").mark, "on-time");
  EXPECT_EQ(cell("Trust One", "2026-03").text, "On time");
  EXPECT_EQ(cell("Trust Two", "2026-03").mark, "late");
  EXPECT_EQ(cell("Trust Two", "2026-03").text, "Late");
  EXPECT_EQ(cell("Trust Two", "2026-02").mark, "missing");
  EXPECT_EQ(cell("Trust Two", "2026-02").text, "Missing");
  EXPECT_EQ(cell("Trust Five, Ltd", "2026-03").mark, "silent");
  EXPECT_EQ(cell("Trust Five, Ltd", "2026-03").text, "Silent");
  EXPECT_EQ(cell("Trust Five, Ltd", "2025-12").mark, "on-time");
  EXPECT_EQ(Row(*grid, "Trust Three")[0].href,
            "/scope/trust/T3?period=2026-03");
}

TEST_F(PagesTest, CompletenessCountsPerChildUnit) {
  Page page = Build(kNational);
  const Table* t = FindTable(page, "completeness_counts");
  ASSERT_NE(t, nullptr);
  auto counts = [&](const std::string& unit) {
    std::vector<std::string> out;
    for (const Cell& c : Row(*t, unit)) out.push_back(c.text);
    return out;
  };
  EXPECT_THAT(counts("North"), ElementsAre("North", "3", "2", "1", "0", "0"));
  EXPECT_THAT(counts("South"), ElementsAre("South", "2", "1", "0", "0", "1"));
  EXPECT_THAT(counts("All England"),
              ElementsAre("All England", "5", "3", "1", "0", "1"));
  EXPECT_EQ(Row(*t, "South")[0].href, "/scope/region/R2?period=2026-03");
}

TEST_F(PagesTest, CovidTableCountsYesOfAnswered) {
  Page page = Build(kNational);
  const Table* t = FindTable(page, "covid");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->rows.size(), 4u);
  ASSERT_EQ(t->columns.size(), 11u);
  const char* topic = "Covid-19 risk assessment and management of staff";
  EXPECT_EQ(Text(*t, topic, "Strategic planning, at host trust"), "3/4 (75%)");
  EXPECT_EQ(Row(*t, topic)[Col(*t, "Strategic planning, at host trust")].value,
            75);
  EXPECT_EQ(Text(*t, topic, "No involvement, at other NHS trusts"), "0/1 (0%)");
  EXPECT_EQ(Text(*t, topic, "Strategic planning, at other NHS trusts"), "");
  EXPECT_EQ(Text(*t, "Covid-19 swab testing for symptomatic staff",
                 "Strategic planning, at host trust"),
            "");

  const Table* profile = FindTable(page, "profile");
  ASSERT_NE(profile, nullptr);
  EXPECT_EQ(Text(*profile, "SEQOHS accredited", "Services answering yes"), "1");
  EXPECT_EQ(Text(*profile, "SEQOHS accredited", "Services answering"), "2");
  EXPECT_EQ(Text(*profile, "SEQOHS accredited", "Per cent yes"), "50");

  Page ics = Build(kIcsOne);
  EXPECT_EQ(Text(*FindTable(ics, "covid"), topic,
                 "Strategic planning, at host trust"),
            "2/2 (100%)");
}

TEST_F(PagesTest, ActivityAndWaitsOverThePeriodAndByMonth) {
  Page page = Build(kNational);
  const Table* t = FindTable(page, "activity");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(Text(*t, "Immunisations", "Events"), "75");
  EXPECT_EQ(Text(*t, "Immunisations", "Services reporting"), "4");
  EXPECT_EQ(Text(*t, "Management referrals", "Wait, median days"), "5.0");
  EXPECT_EQ(Text(*t, "Management referrals", "Wait, 90th percentile days"),
            "20.0");

  const Table* trend = FindTable(page, "activity_trend");
  ASSERT_NE(trend, nullptr);
  ASSERT_EQ(trend->rows.size(), 12u);
  EXPECT_EQ(trend->rows.front()[0].text, "2025-04");
  EXPECT_EQ(Text(*trend, "2026-03", "Immunisations"), "75");
  EXPECT_EQ(Text(*trend, "2026-02", "Immunisations"), "");
  const Table* waits = FindTable(page, "waits_trend");
  ASSERT_NE(waits, nullptr);
  EXPECT_EQ(
      Text(*waits, "2026-03", "Management referral wait, 90th percentile days"),
      "20.0");
  const Chart* chart = FindChart(page, "waits_trend_chart");
  ASSERT_NE(chart, nullptr);
  EXPECT_EQ(chart->kind, Chart::Kind::kLine);
  EXPECT_EQ(chart->value_columns.size(), 4u);

  // A quarter's trend is its own three months.
  Page quarter = Build(kNational, *Period::Parse("2026-Q1"));
  EXPECT_EQ(FindTable(quarter, "activity_trend")->rows.size(), 3u);
}

TEST_F(PagesTest, SuppressedFigureIsAStarWithNoValue) {
  // Trust One's 3 immunisations are below the threshold of 8.
  Page page = Build({Scope::Level::kTrust, "T1"});
  const Table* t = FindTable(page, "activity");
  ASSERT_NE(t, nullptr);
  const Cell& cell = Row(*t, "Immunisations")[Col(*t, "Events")];
  EXPECT_EQ(cell.text, "*");
  EXPECT_TRUE(cell.suppressed);
  EXPECT_FALSE(cell.value.has_value());
  const Table* trend = FindTable(page, "activity_trend");
  ASSERT_NE(trend, nullptr);
  const Cell& month = Row(*trend, "2026-03")[Col(*trend, "Immunisations")];
  EXPECT_EQ(month.text, "*");
  EXPECT_TRUE(month.suppressed);
  EXPECT_FALSE(month.value.has_value());
  // The chart drawn from the trend shows a labelled gap, not a zero.
  const Chart* chart = FindChart(page, "activity_trend_chart");
  ASSERT_NE(chart, nullptr);
  EXPECT_THAT(RenderChartSvg(*chart, *trend),
              ::testing::HasSubstr(
                  "<title>Immunisations, 2026-03: suppressed</title>*"));
  // Nationally the same figure is exact.
  Page national = Build(kNational);
  EXPECT_FALSE(
      Row(*FindTable(national, "activity"), "Immunisations")[1].suppressed);
}

TEST_F(PagesTest, RangeBelowNationalShowsTrendsButNoActivityTotals) {
  // The engine refuses disclosive measures over arbitrary ranges below
  // national; the page says so instead of failing.
  Period range = *Period::Parse("2026-02:2026-03");
  Page page = Build(kNorth, range);
  const Table* t = FindTable(page, "activity");
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->rows.empty());
  EXPECT_THAT(t->note, ::testing::HasSubstr("month, quarter, year or "
                                            "financial year only"));
  EXPECT_EQ(FindTable(page, "activity_trend")->rows.size(), 2u);
  // Nationally the range is published.
  Page national = Build(kNational, range);
  EXPECT_EQ(Text(*FindTable(national, "activity"), "Immunisations", "Events"),
            "75");
  // A quarter written as a range is a quarter.
  Page quarter = Build(kNorth, *Period::Parse("2026-01:2026-03"));
  EXPECT_FALSE(FindTable(quarter, "activity")->rows.empty());
}

TEST_F(PagesTest, RegionPageLinksItsIcss) {
  Page page = Build(kNorth);
  const Table* t = FindTable(page, "consultants_by_ics");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->rows.size(), 3u);  // I1, I2, the region
  EXPECT_EQ(Row(*t, "ICS One")[0].href, "/scope/ics/I1?period=2026-03");
  EXPECT_EQ(Row(*t, "ICS Two")[0].href, "/scope/ics/I2?period=2026-03");
  EXPECT_EQ(Row(*t, "All North")[0].href, "");
  const Table* counts = FindTable(page, "completeness_counts");
  EXPECT_EQ(Row(*counts, "ICS One")[0].href, "/scope/ics/I1?period=2026-03");
  EXPECT_EQ(FindTable(page, "completeness_grid")->rows.size(), 3u);
}

TEST_F(PagesTest, UnknownScopeIsNotFound) {
  EXPECT_THAT(BuildPage(source_, {Scope::Level::kIcs, "NOPE"}, kMarch),
              StatusIs(absl::StatusCode::kNotFound, "NOPE"));
}

TEST(PagesCatalogueTest, MeasuresTheCatalogueLacksAreBlankNotAnError) {
  // An operator's catalogue with none of the activity the trends show, and
  // no Table 2 grid.
  auto catalogue = Catalogue::Parse(
      "# version: small-1\n"
      "code,label,unit,type,min,max,across_units,across_time,disclosive,"
      "frequency\n"
      "staffing.wte.consultant_om,WTE in post: consultants,wte,number,0,1000,"
      "sum,latest,no,month\n"
      "activity.count.immunisation,Number of immunisations,events,count,0,"
      "1000000,sum,sum,yes,month\n",
      "small catalogue");
  ASSERT_THAT(catalogue, ::ohfed::testing::IsOk());
  FakeSource source(At("2026-05-01T00:00:00Z"), *catalogue);
  source.view().Set("T1", "2026-03", "staffing.wte.consultant_om", 2);
  source.view().Set("T1", "2026-03", "activity.count.immunisation", 40);
  auto page = BuildPage(source, Scope::National(), kMarch);
  ASSERT_THAT(page, ::ohfed::testing::IsOk());
  const Table* workforce = FindTable(*page, "workforce");
  ASSERT_NE(workforce, nullptr);
  EXPECT_EQ(Text(*workforce, "Consultants", "Total WTE in post"), "2.0");
  const Table* trend = FindTable(*page, "activity_trend");
  ASSERT_NE(trend, nullptr);
  EXPECT_EQ(Text(*trend, "2026-03", "Immunisations"), "40");
  EXPECT_EQ(Text(*trend, "2026-03", "Management referrals"), "");
  EXPECT_TRUE(FindTable(*page, "covid")->rows.empty());
}

TEST(DefaultPeriodTest, LatestMonthWhoseDeadlineHasPassed) {
  // March's deadline is the end of 15 April.
  EXPECT_EQ(DefaultPeriod(At("2026-04-15T23:59:59Z")).ToString(), "2026-02");
  EXPECT_EQ(DefaultPeriod(At("2026-04-16T00:00:00Z")).ToString(), "2026-03");
  EXPECT_EQ(DefaultPeriod(At("2026-05-01T00:00:00Z")).ToString(), "2026-03");
  EXPECT_EQ(DefaultPeriod(At("2026-01-20T00:00:00Z")).ToString(), "2025-12");
}

}  // namespace
}  // namespace ohfed::dashboard
