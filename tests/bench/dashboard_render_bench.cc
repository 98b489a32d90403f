// How long the dashboard takes to draw a page as HTML and its tables as CSV
// (dashboard/render.h), apart from building it: an England-sized page with
// the completeness grid of 207 trusts x 60 months (marked cells), a Table 1
// and a few charts. Measured, not asserted: run
// build/tests/bench/dashboard_render_bench (not part of ctest).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dashboard/render.h"

namespace ohfed::dashboard {
namespace {

constexpr int kTrusts = 207;
constexpr int kMonths = 60;

Cell Text(std::string text) {
  Cell c;
  c.text = std::move(text);
  return c;
}

Table Grid() {
  Table t;
  t.id = "completeness_grid";
  t.caption = "Reporting by trust and month";
  t.columns.push_back({"Trust", false});
  for (int m = 0; m < kMonths; ++m) {
    t.columns.push_back({(Month::Of(2021, 10) + m).ToString(), false});
  }
  const char* const kMarks[] = {"on-time", "late", "missing", "silent"};
  for (int i = 0; i < kTrusts; ++i) {
    std::vector<Cell> row = {Text(absl::StrCat("Trust ", i, " NHS Trust"))};
    row[0].href = absl::StrCat("/scope/trust/R", i, "?period=2026-09");
    for (int m = 0; m < kMonths; ++m) {
      Cell c = Text(kMarks[(i + m) % 4]);
      c.mark = kMarks[(i + m) % 4];
      row.push_back(c);
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

Page EnglandSizedPage() {
  Page page;
  page.scope = Scope::National();
  page.period = Period::OfMonth(Month::Of(2026, 9));
  page.title = "England";
  page.breadcrumbs = {{"England", ""}};
  page.status.expected = kTrusts;
  page.status.reported = 180;
  page.status.text = "180 of 207 trusts have reported 2026-09";
  Section workforce;
  workforce.id = "workforce";
  workforce.heading = "Workforce";
  Table t1;
  t1.id = "workforce";
  t1.caption = "OH staffing by staff group";
  t1.columns = {{"Staff group", false}, {"Total", true}, {"Mean", true}};
  for (int g = 0; g < 12; ++g) {
    Cell total = Text("123.4"), mean = Text("1.23");
    total.value = 123.4;
    mean.value = 1.23;
    t1.rows.push_back({Text(absl::StrCat("Group ", g)), total, mean});
  }
  workforce.tables.push_back(t1);
  Chart chart;
  chart.id = "workforce_chart";
  chart.title = "Total WTE by staff group";
  chart.table_id = "workforce";
  chart.value_columns = {1};
  workforce.charts.push_back(chart);
  Section completeness;
  completeness.id = "completeness";
  completeness.heading = "Completeness and timeliness";
  completeness.tables.push_back(Grid());
  page.sections = {workforce, completeness};
  return page;
}

void BM_RenderEnglandHtml(benchmark::State& state) {
  const Page page = EnglandSizedPage();
  Chrome chrome;
  chrome.visitor = "token 'CMO'";
  chrome.visitor_scope = "national";
  chrome.latest = Month::Of(2026, 9);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string html = RenderPageHtml(page, chrome);
    bytes = html.size();
    benchmark::DoNotOptimize(html);
  }
  state.counters["html_bytes"] = static_cast<double>(bytes);
}

void BM_RenderGridCsv(benchmark::State& state) {
  const Table grid = Grid();
  for (auto _ : state) {
    std::string csv = RenderTableCsv(grid);
    benchmark::DoNotOptimize(csv);
  }
}

BENCHMARK(BM_RenderEnglandHtml)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RenderGridCsv)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ohfed::dashboard

BENCHMARK_MAIN();
