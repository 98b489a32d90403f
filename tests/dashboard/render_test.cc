// The dashboard's HTML and CSV (dashboard/render.h): escaping, `*` for
// suppressed figures, real table markup, marks with a legend, and CSV that
// a spreadsheet cannot turn into a formula.
#include "dashboard/render.h"

#include "dashboard/templates.h"
#include "tests/testing/testing.h"

namespace ohfed::dashboard {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Cell Figure(std::string text, double value) {
  Cell c;
  c.text = std::move(text);
  c.value = value;
  return c;
}

Cell Suppressed() {
  Cell c;
  c.text = "*";
  c.suppressed = true;
  return c;
}

Cell Label(std::string text, std::string href = "") {
  Cell c;
  c.text = std::move(text);
  c.href = std::move(href);
  return c;
}

Page SamplePage() {
  Page page;
  page.scope = Scope{Scope::Level::kIcs, "QOQ"};
  page.period = Period::OfMonth(Month::Of(2026, 9));
  page.title = "NHS Humber and North Yorkshire ICB";
  page.breadcrumbs = {{"England", "/scope/national?period=2026-09"},
                      {"North East and Yorkshire", "/scope/region/Y63"},
                      {"NHS Humber and North Yorkshire ICB", ""}};
  page.status.expected = 5;
  page.status.reported = 3;
  page.status.text = "3 of 5 trusts have reported 2026-09";
  Section s;
  s.id = "workforce";
  s.heading = "Workforce";
  s.intro = "WTE in post by staff group.";
  Table t;
  t.id = "table1";
  t.caption = "Table 1: workforce";
  t.columns = {{"Trust", false}, {"Consultant WTE", true}, {"Nurses", true}};
  t.rows.push_back({Label("York", "/scope/trust/RCB?period=2026-09"),
                    Figure("1.5", 1.5), Suppressed()});
  t.note = "Mean over reporting services.";
  s.tables.push_back(t);
  page.sections.push_back(s);
  return page;
}

Chrome SampleChrome() {
  Chrome chrome;
  chrome.visitor = "token 'ICS lead'";
  chrome.visitor_scope = "ics:QOQ";
  chrome.signed_in = true;
  chrome.latest = Month::Of(2026, 10);
  return chrome;
}

TEST(RenderTest, TemplatesAreCompiledIn) {
  for (const char* name :
       {"page.html", "login.html", "error.html", "header.html", "style.css"}) {
    EXPECT_FALSE(TemplateText(name).empty()) << name;
  }
  EXPECT_TRUE(TemplateText("missing.html").empty());
}

TEST(RenderTest, EveryStringFromDataIsEscaped) {
  Page page = SamplePage();
  page.title = "<script>alert(1)</script>";
  page.status.text = "a & b";
  page.breadcrumbs[0].label = "<i>England</i>";
  page.sections[0].heading = "\"quoted\" <h>";
  page.sections[0].tables[0].caption = "<caption>";
  page.sections[0].tables[0].rows[0][0].text = "<b onmouseover=x>";
  page.sections[0].tables[0].rows[0][0].href = "/x\"><script>";
  Chrome chrome = SampleChrome();
  chrome.visitor = "token '<img src=x>'";
  const std::string html = RenderPageHtml(page, chrome);
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<b onmouseover")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("<i>")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
  EXPECT_THAT(html, HasSubstr("a &amp; b"));
  EXPECT_THAT(html, HasSubstr("&quot;quoted&quot; &lt;h&gt;"));
}

TEST(RenderTest, SuppressedFigureIsAStarWithANote) {
  const std::string html = RenderPageHtml(SamplePage(), SampleChrome());
  EXPECT_THAT(html,
              HasSubstr("<td class=\"num suppressed\"><abbr title=\"suppressed "
                        "by disclosure control\">*</abbr></td>"));
  EXPECT_THAT(html, HasSubstr("id=\"suppression-note\""));

  Page none = SamplePage();
  none.sections[0].tables[0].rows[0][2] = Figure("2", 2);
  EXPECT_THAT(RenderPageHtml(none, SampleChrome()),
              Not(HasSubstr("id=\"suppression-note\"")));
}

TEST(RenderTest, TablesHaveCaptionsHeaderCellsAndRightAlignedFigures) {
  const std::string html = RenderPageHtml(SamplePage(), SampleChrome());
  EXPECT_THAT(html, HasSubstr("<caption>Table 1: workforce</caption>"));
  EXPECT_THAT(html, HasSubstr("<th scope=\"col\">Trust</th>"));
  EXPECT_THAT(html, HasSubstr("<th scope=\"col\" class=\"num\">Consultant "
                              "WTE</th>"));
  EXPECT_THAT(html,
              HasSubstr("<th scope=\"row\"><a href=\"&#x2F;scope&#x2F;trust&#"
                        "x2F;RCB?period=2026-09\">York</a></th>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"num\">1.5</td>"));
  // The CSV of the same table, for the page's scope and period.
  EXPECT_THAT(html, HasSubstr("href=\"&#x2F;scope&#x2F;ics&#x2F;QOQ&#x2F;"
                              "table1.csv?period=2026-09\""));
  EXPECT_THAT(html, HasSubstr("<p class=\"note\">Mean over reporting "
                              "services.</p>"));
}

TEST(RenderTest, PageCarriesStatusBreadcrumbPickerAndSignOut) {
  const std::string html = RenderPageHtml(SamplePage(), SampleChrome());
  EXPECT_THAT(html, HasSubstr("3 of 5 trusts have reported 2026-09"));
  EXPECT_THAT(html, HasSubstr("class=\"status partial\""));
  EXPECT_THAT(html, HasSubstr("<span aria-current=\"page\">NHS Humber and "
                              "North Yorkshire ICB</span>"));
  EXPECT_THAT(html, HasSubstr("<form class=\"picker\" method=\"get\""));
  EXPECT_THAT(html, HasSubstr("<option value=\"2026-09\" selected>"));
  for (const char* option : {"value=\"2026-Q3\"", "value=\"2026\"",
                             "value=\"FY2026\"", "value=\"2026-10\""}) {
    EXPECT_THAT(html, HasSubstr(option));
  }
  EXPECT_THAT(html, HasSubstr("<form method=\"post\" action=\"/logout\">"));
  // Self-contained: no scripts, no external anything.
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("http://")));
  EXPECT_THAT(html, Not(HasSubstr("https://")));
  EXPECT_THAT(html, Not(HasSubstr("{{")));
}

// After the store was damaged and recovered (CompletenessResponse.warning),
// the page says so in an alert above everything else; otherwise nothing.
TEST(RenderTest, RecoveryWarningIsShownOnlyWhenSet) {
  Page page = SamplePage();
  EXPECT_THAT(RenderPageHtml(page, SampleChrome()),
              Not(HasSubstr("recovery-warning")));
  page.status.warning = "the store was damaged & recovered at 2026-11-20";
  page.status.unconfirmed = 2;
  const std::string html = RenderPageHtml(page, SampleChrome());
  EXPECT_THAT(html, HasSubstr("<div class=\"warning\" role=\"alert\" "
                              "id=\"recovery-warning\">"));
  EXPECT_THAT(html, HasSubstr("<strong>Warning: these figures may be "
                              "incomplete.</strong> This aggregator"));
  EXPECT_THAT(html, HasSubstr("2 of the 5 trusts here have not yet resent "
                              "what was lost"));
  EXPECT_THAT(html, HasSubstr("the store was damaged &amp; recovered at "
                              "2026-11-20"));
  EXPECT_LT(html.find("recovery-warning"), html.find("reporting-status"));
}

TEST(RenderTest, StepsToThePreviousAndNextPeriodStopAtTheLatest) {
  Page page = SamplePage();
  EXPECT_THAT(RenderPageHtml(page, SampleChrome()),
              HasSubstr("QOQ?period=2026-10\" rel=\"next\">"));
  page.period = Period::OfMonth(Month::Of(2026, 10));
  const std::string html = RenderPageHtml(page, SampleChrome());
  EXPECT_THAT(html, HasSubstr("QOQ?period=2026-09\" rel=\"prev\">"));
  EXPECT_THAT(html, Not(HasSubstr("rel=\"next\"")));
}

TEST(RenderTest, PeriodOutsideThePickerIsStillOffered) {
  Page page = SamplePage();
  page.period = *Period::Parse("2019-01:2019-06");
  EXPECT_THAT(RenderPageHtml(page, SampleChrome()),
              HasSubstr("<option value=\"2019-01:2019-06\" selected>"));
}

TEST(RenderTest, MarksAreStyledAndExplainedInAKey) {
  Page page = SamplePage();
  Cell late = Label("Late");
  late.mark = "late";
  Cell odd = Label("odd");
  odd.mark = "x\" onclick=\"y";
  page.sections[0].tables[0].rows.push_back({Label("Hull"), late, odd});
  const std::string html = RenderPageHtml(page, SampleChrome());
  EXPECT_THAT(html, HasSubstr("<td class=\"num mark-late\">Late</td>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"num mark-other\">odd</td>"));
  EXPECT_THAT(html, Not(HasSubstr("onclick=\"y")));
  EXPECT_THAT(html, HasSubstr("<span class=\"mark mark-late\">Late</span> "
                              "reported after the 15th"));
}

TEST(RenderTest, LoginAndErrorPages) {
  const std::string login = RenderLoginHtml("unknown <token>", absl::Hours(8));
  EXPECT_THAT(login, HasSubstr("<form method=\"post\" action=\"/login\""));
  EXPECT_THAT(login, HasSubstr("type=\"password\""));
  EXPECT_THAT(login, HasSubstr("unknown &lt;token&gt;"));
  EXPECT_THAT(RenderLoginHtml("", absl::Hours(8)),
              Not(HasSubstr("login-error")));

  const std::string error = RenderErrorHtml(
      403, "Not in your scope", "caller scope ics:QOQ does not cover <x>",
      SampleChrome());
  EXPECT_THAT(error, HasSubstr("<h1>Not in your scope</h1>"));
  EXPECT_THAT(error, HasSubstr("does not cover &lt;x&gt;"));
}

TEST(RenderCsvTest, SameFiguresWithStarsAndRfc4180Quoting) {
  Table t = SamplePage().sections[0].tables[0];
  t.rows.push_back({Label("Hull, \"East\""), Figure("1,234.5", 1234.5),
                    Label("line\nbreak")});
  EXPECT_EQ(RenderTableCsv(t),
            "Trust,Consultant WTE,Nurses\r\n"
            "York,1.5,*\r\n"
            "\"Hull, \"\"East\"\"\",\"1,234.5\",\"line\nbreak\"\r\n");
}

TEST(RenderCsvTest, SuppressedIsAStarWhateverItsText) {
  Table t;
  t.columns = {{"a", false}};
  Cell c = Suppressed();
  c.text = "7";
  t.rows.push_back({c});
  EXPECT_EQ(RenderTableCsv(t), "a\r\n*\r\n");
}

TEST(RenderCsvTest, FormulasAreDisarmedButNumbersKeepTheirSign) {
  EXPECT_EQ(CsvField("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
  EXPECT_EQ(CsvField("+1+1"), "'+1+1");
  EXPECT_EQ(CsvField("-2+3"), "'-2+3");
  EXPECT_EQ(CsvField("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(CsvField("\tx"), "'\tx");
  EXPECT_EQ(CsvField("-2.5"), "-2.5");
  EXPECT_EQ(CsvField("+3"), "+3");
  EXPECT_EQ(CsvField("-12%"), "-12%");
  EXPECT_EQ(CsvField("Guy's"), "Guy's");
  EXPECT_EQ(CsvField(""), "");
}

}  // namespace
}  // namespace ohfed::dashboard
