// Inline SVG charts: structure, accessibility, escaping, the band and the
// "*" gap of a suppressed value.
#include "dashboard/chart_svg.h"

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "tests/testing/testing.h"

namespace ohfed::dashboard {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

// Whether `xml` is well-formed enough for a browser's XML parser: every
// element closed in order, attribute values quoted, and '&' only in the
// entities XmlEscape writes. Returns "" or what is wrong.
std::string CheckWellFormed(const std::string& xml) {
  std::vector<std::string> open;
  for (size_t i = 0; i < xml.size(); ++i) {
    if (xml[i] == '&') {
      bool entity = false;
      for (const char* e : {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"}) {
        entity = entity || xml.compare(i, strlen(e), e) == 0;
      }
      if (!entity) return "bare & at " + std::to_string(i);
      continue;
    }
    if (xml[i] == '>') return "bare > at " + std::to_string(i);
    if (xml[i] != '<') continue;
    size_t end = i + 1;
    char quote = 0;
    for (; end < xml.size(); ++end) {
      char c = xml[end];
      if (quote != 0) {
        if (c == quote) quote = 0;
        if (c == '<') return "< in an attribute at " + std::to_string(end);
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        break;
      }
    }
    if (end == xml.size()) return "unclosed tag at " + std::to_string(i);
    std::string tag = xml.substr(i + 1, end - i - 1);
    std::string name = tag.substr(0, tag.find_first_of(" /"));
    if (tag[0] == '/') {
      name = tag.substr(1);
      if (open.empty() || open.back() != name) return "mismatched </" + name;
      open.pop_back();
    } else if (tag.back() != '/') {
      open.push_back(name);
    }
    i = end;
  }
  return open.empty() ? "" : "unclosed <" + open.back();
}

// Staff per consultant by unit: A 16000, B suppressed, C "no consultant",
// D 25000, and a name that needs escaping.
Table RatioTable() {
  Table t;
  t.id = "ratios";
  t.caption = "Ratios";
  t.columns = {{"Unit", false}, {"Staff per consultant", true}};
  auto value = [](const char* text, double v) {
    Cell c;
    c.text = text;
    c.value = v;
    return c;
  };
  Cell star;
  star.text = "*";
  star.suppressed = true;
  Cell words;
  words.text = "no consultant";
  t.rows = {{{"A"}, value("16000", 16000)},
            {{"B"}, star},
            {{"C"}, words},
            {{"D <&> \"E\" 'F'"}, value("25000", 25000)}};
  return t;
}

Chart RatioChart() {
  Chart c;
  c.kind = Chart::Kind::kBar;
  c.id = "ratios_chart";
  c.title = "Staff per consultant & <more>";
  c.table_id = "ratios";
  c.value_columns = {1};
  c.y_label = "staff per consultant";
  c.band = Chart::Band{15000, 20000, "15,000-20,000: a good ratio"};
  return c;
}

TEST(ChartSvgTest, BarChartIsAnAccessibleImage) {
  std::string svg = RenderChartSvg(RatioChart(), RatioTable());
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_TRUE(
      absl::StartsWith(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""))
      << svg.substr(0, 80);
  EXPECT_THAT(svg, HasSubstr("role=\"img\""));
  EXPECT_THAT(
      svg,
      HasSubstr("aria-labelledby=\"ratios_chart-title ratios_chart-desc\""));
  EXPECT_THAT(svg, HasSubstr("<title id=\"ratios_chart-title\">Staff per "
                             "consultant &amp; &lt;more&gt;</title>"));
  // The text equivalent lists every figure, "*" as suppressed.
  EXPECT_THAT(svg, HasSubstr("<desc id=\"ratios_chart-desc\">Bar chart of "
                             "staff per consultant by Unit. Staff per "
                             "consultant: A: 16000; B: * (suppressed); C: no "
                             "consultant; D &lt;&amp;&gt; &quot;E&quot; "
                             "&#39;F&#39;: 25000."));
  EXPECT_THAT(svg, Not(HasSubstr("<more>")));
  EXPECT_THAT(svg, Not(HasSubstr("\"E\"")));
  // No external assets: the only URL is the SVG namespace.
  EXPECT_EQ(Count(svg, "http"), 1);
  EXPECT_THAT(svg, Not(HasSubstr("href")));
}

TEST(ChartSvgTest, BarChartDrawsTheBand) {
  std::string svg = RenderChartSvg(RatioChart(), RatioTable());
  ASSERT_EQ(Count(svg, "<g class=\"band\">"), 1);
  EXPECT_THAT(svg, HasSubstr(">15,000-20,000: a good ratio</text>"));
  // The axis runs to 25,000 (the largest bar): 15,000 to 20,000 is a fifth
  // of the 350-pixel plot from x = 300 + 210.
  EXPECT_THAT(svg, HasSubstr("<rect x=\"510.0\" y=\"32.0\" width=\"70.0\""));
  Chart no_band = RatioChart();
  no_band.band.reset();
  EXPECT_EQ(Count(RenderChartSvg(no_band, RatioTable()), "class=\"band\""), 0);
}

TEST(ChartSvgTest, SuppressedBarIsALabelledGapNotZero) {
  std::string svg = RenderChartSvg(RatioChart(), RatioTable());
  // Two bars (A and D); B is a "*" label and C says why it has none.
  EXPECT_EQ(Count(svg, "fill=\"#005eb8\"/>"), 2);
  EXPECT_EQ(Count(svg, "class=\"suppressed\">* (suppressed)</text>"), 1);
  EXPECT_THAT(svg, HasSubstr(">no consultant</text>"));
  EXPECT_THAT(svg, Not(HasSubstr("width=\"0.0\"")));
}

TEST(ChartSvgTest, NegativeBarIsItsTextNotABar) {
  Table t = RatioTable();
  t.rows[0][1].text = "-1.5";
  t.rows[0][1].value = -1.5;
  std::string svg = RenderChartSvg(RatioChart(), t);
  EXPECT_EQ(Count(svg, "fill=\"#005eb8\"/>"), 1);  // D only
  EXPECT_THAT(svg, HasSubstr(">-1.5</text>"));
  EXPECT_EQ(CheckWellFormed(svg), "");
}

Table MonthTable() {
  Table t;
  t.id = "trend";
  t.columns = {
      {"Month", false}, {"Referrals", true}, {"Self <referrals>", true}};
  const char* months[] = {"2026-01", "2026-02", "2026-03", "2026-04"};
  for (int i = 0; i < 4; ++i) {
    Cell a, b;
    a.text = b.text = std::to_string(10 * (i + 1));
    a.value = b.value = 10 * (i + 1);
    if (i == 1) {  // February's referrals are suppressed
      a = Cell();
      a.text = "*";
      a.suppressed = true;
    }
    t.rows.push_back({Cell{months[i]}, a, b});
  }
  return t;
}

Chart MonthChart() {
  Chart c;
  c.kind = Chart::Kind::kLine;
  c.id = "trend_chart";
  c.title = "Referrals by month";
  c.table_id = "trend";
  c.value_columns = {1, 2};
  c.y_label = "events";
  return c;
}

TEST(ChartSvgTest, LineChartBreaksAtASuppressedMonth) {
  std::string svg = RenderChartSvg(MonthChart(), MonthTable());
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_THAT(svg, HasSubstr("role=\"img\""));
  // Referrals: January alone, then March-April; self-referrals unbroken.
  EXPECT_EQ(Count(svg, "<polyline"), 2);
  EXPECT_EQ(Count(svg, "<circle"), 7);
  EXPECT_THAT(svg, HasSubstr("<title>Referrals, 2026-02: suppressed</title>*"
                             "</text>"));
  EXPECT_THAT(svg, HasSubstr(">* suppressed by disclosure control</text>"));
  EXPECT_THAT(svg, HasSubstr("Referrals: 2026-01: 10; 2026-02: * "
                             "(suppressed); 2026-03: 30; 2026-04: 40."));
  // The legend names both series, escaped.
  EXPECT_THAT(svg, HasSubstr(">Self &lt;referrals&gt;</text>"));
  EXPECT_THAT(svg, HasSubstr(">2026-03</text>"));
}

TEST(ChartSvgTest, LineChartWithoutSuppressionHasNoStarNote) {
  Table t = MonthTable();
  t.rows[1][1] = t.rows[1][2];
  std::string svg = RenderChartSvg(MonthChart(), t);
  EXPECT_EQ(Count(svg, "<polyline"), 2);
  EXPECT_EQ(Count(svg, "<circle"), 8);
  EXPECT_THAT(svg, Not(HasSubstr("suppressed")));
}

TEST(ChartSvgTest, EmptyTableStillDrawsAnImage) {
  Table t = MonthTable();
  t.rows.clear();
  std::string svg = RenderChartSvg(MonthChart(), t);
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_THAT(svg, HasSubstr("role=\"img\""));
  Chart bars = RatioChart();
  Table r = RatioTable();
  r.rows.clear();
  EXPECT_EQ(CheckWellFormed(RenderChartSvg(bars, r)), "");
}

TEST(XmlEscapeTest, EscapesMarkupAndDropsControlCharacters) {
  EXPECT_EQ(XmlEscape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
  EXPECT_EQ(XmlEscape(std::string("x\x01y\nz", 5)), "x y\nz");
  EXPECT_EQ(XmlEscape("Trust Five, Ltd é"), "Trust Five, Ltd é");
}

}  // namespace
}  // namespace ohfed::dashboard
