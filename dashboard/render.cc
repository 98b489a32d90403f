#include "dashboard/render.h"

#include <mstch/mstch.hpp>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "dashboard/chart_svg.h"
#include "dashboard/templates.h"

namespace ohfed::dashboard {
namespace {

using Node = mstch::node;

std::string Text(absl::string_view name) {
  return std::string(TemplateText(name));
}

// The partials every page shares.
std::map<std::string, std::string> Partials() {
  return {{"style", Text("style.css")}, {"header", Text("header.html")}};
}

mstch::map ChromeContext(const Chrome& chrome) {
  return mstch::map{
      {"has_visitor", !chrome.visitor.empty()}, {"visitor", chrome.visitor},
      {"visitor_scope", chrome.visitor_scope},  {"signed_in", chrome.signed_in},
      {"has_home", !chrome.home.empty()},       {"home", chrome.home}};
}

// A mark as a CSS class word: lower-case letters, digits and '-' only.
std::string MarkClass(absl::string_view mark) {
  for (char c : mark) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') {
      return "other";
    }
  }
  return std::string(mark);
}

struct Known {
  const char* mark;
  const char* label;
  const char* meaning;
};
constexpr Known kMarks[] = {
    {"on-time", "On time", "reported by the 15th of the following month"},
    {"late", "Late", "reported after the 15th of the following month"},
    {"missing", "Missing", "not reported, and the deadline has passed"},
    {"silent", "Silent",
     "the trust's agent has not been heard from for a long time"},
};

mstch::map LegendEntry(const std::string& mark) {
  for (const Known& k : kMarks) {
    if (mark == k.mark) {
      return mstch::map{{"class", MarkClass(mark)},
                        {"label", std::string(k.label)},
                        {"meaning", std::string(k.meaning)}};
    }
  }
  return mstch::map{
      {"class", MarkClass(mark)}, {"label", mark}, {"meaning", std::string()}};
}

// What the page's tables use, filled in while they are drawn.
struct PageFacts {
  std::set<std::string> marks;
  bool suppressed = false;
};

mstch::map CellContext(const Cell& cell, bool row_header, bool numeric,
                       PageFacts& facts) {
  std::string classes;
  auto add = [&classes](absl::string_view c) {
    absl::StrAppend(&classes, classes.empty() ? "" : " ", c);
  };
  if (numeric && !row_header) add("num");
  if (cell.suppressed) {
    add("suppressed");
    facts.suppressed = true;
  }
  if (!cell.mark.empty()) {
    add(absl::StrCat("mark-", MarkClass(cell.mark)));
    facts.marks.insert(cell.mark);
  }
  std::string attrs;
  if (!classes.empty()) attrs = absl::StrCat(" class=\"", classes, "\"");
  return mstch::map{{"row_header", row_header},       {"attrs", attrs},
                    {"has_href", !cell.href.empty()}, {"href", cell.href},
                    {"suppressed", cell.suppressed},  {"text", cell.text}};
}

mstch::map TableContext(const Page& page, const Table& table,
                        PageFacts& facts) {
  mstch::array columns;
  for (const Column& c : table.columns) {
    columns.push_back(mstch::map{{"header", c.header}, {"numeric", c.numeric}});
  }
  mstch::array rows;
  for (const std::vector<Cell>& row : table.rows) {
    mstch::array cells;
    for (size_t i = 0; i < row.size(); ++i) {
      const bool numeric = i < table.columns.size() && table.columns[i].numeric;
      cells.push_back(CellContext(row[i], i == 0, numeric, facts));
    }
    mstch::map r;
    r.emplace("cells", std::move(cells));
    rows.push_back(std::move(r));
  }
  // Moved in, not listed in the initialiser: a big table's rows would be
  // copied.
  mstch::map context{{"id", table.id},
                     {"caption", table.caption},
                     {"has_note", !table.note.empty()},
                     {"note", table.note},
                     {"csv_href", CsvPath(page.scope, page.period, table.id)}};
  context.emplace("columns", std::move(columns));
  context.emplace("rows", std::move(rows));
  return context;
}

mstch::map ChartContext(const Section& section, const Chart& chart) {
  const Table* table = nullptr;
  for (const Table& t : section.tables) {
    if (t.id == chart.table_id) table = &t;
  }
  static const Table kEmpty;
  return mstch::map{
      {"id", chart.id},
      {"title", chart.title},
      {"table_id", chart.table_id},
      {"table_caption", table != nullptr ? table->caption : std::string()},
      {"svg", RenderChartSvg(chart, table != nullptr ? *table : kEmpty)}};
}

mstch::map SectionContext(const Page& page, const Section& section,
                          PageFacts& facts) {
  mstch::array tables, charts;
  for (const Table& t : section.tables) {
    tables.push_back(TableContext(page, t, facts));
  }
  for (const Chart& c : section.charts) {
    charts.push_back(ChartContext(section, c));
  }
  mstch::map context{{"id", section.id},
                     {"heading", section.heading},
                     {"has_intro", !section.intro.empty()},
                     {"intro", section.intro}};
  context.emplace("tables", std::move(tables));
  context.emplace("charts", std::move(charts));
  return context;
}

// --- The period picker: recent months, quarters, years, financial years.

std::string MonthLabel(Month m) {
  static const char* const kNames[] = {
      "January", "February", "March",     "April",   "May",      "June",
      "July",    "August",   "September", "October", "November", "December"};
  return absl::StrCat(kNames[m.month() - 1], " ", m.year());
}

int FinancialYearOf(Month m) {
  return m.month() >= 4 ? m.year() : m.year() - 1;
}

mstch::map Option(const std::string& value, const std::string& label,
                  const Period& shown) {
  return mstch::map{{"value", value},
                    {"label", label},
                    {"selected", value == shown.ToString()}};
}

mstch::array PeriodGroups(const Period& shown, Month latest) {
  bool listed = false;
  auto option = [&](const std::string& value, const std::string& label) {
    listed = listed || value == shown.ToString();
    return Option(value, label, shown);
  };
  mstch::array months, quarters, years, fys;
  for (int i = 0; i < 24; ++i) {
    Month m = latest - i;
    months.push_back(option(m.ToString(), MonthLabel(m)));
  }
  Month q = Month::Of(latest.year(), (latest.month() - 1) / 3 * 3 + 1);
  for (int i = 0; i < 8; ++i, q = q - 3) {
    quarters.push_back(
        option(absl::StrFormat("%04d-Q%d", q.year(), (q.month() - 1) / 3 + 1),
               absl::StrFormat("%04d Q%d (%s to %s)", q.year(),
                               (q.month() - 1) / 3 + 1, MonthLabel(q),
                               MonthLabel(q + 2))));
  }
  for (int i = 0; i < 5; ++i) {
    const std::string y = absl::StrCat(latest.year() - i);
    years.push_back(option(y, y));
  }
  for (int i = 0; i < 5; ++i) {
    const int fy = FinancialYearOf(latest) - i;
    fys.push_back(
        option(absl::StrCat("FY", fy),
               absl::StrFormat("FY%d (April %d to March %d)", fy, fy, fy + 1)));
  }
  mstch::array groups{
      mstch::map{{"label", std::string("Month")}, {"options", months}},
      mstch::map{{"label", std::string("Quarter")}, {"options", quarters}},
      mstch::map{{"label", std::string("Year")}, {"options", years}},
      mstch::map{{"label", std::string("Financial year (April to March)")},
                 {"options", fys}}};
  if (!listed) {
    groups.insert(
        groups.begin(),
        mstch::map{{"label", std::string("Shown")},
                   {"options", mstch::array{Option(shown.ToString(),
                                                   shown.ToString(), shown)}}});
  }
  return groups;
}

// "8 hours", "30 minutes".
std::string Lifetime(absl::Duration d) {
  const int64_t hours = absl::ToInt64Hours(d);
  if (hours >= 1) return absl::StrCat(hours, hours == 1 ? " hour" : " hours");
  return absl::StrCat(absl::ToInt64Minutes(d), " minutes");
}

std::string PathOnly(const Scope& scope, const Period& period) {
  std::string path = PagePath(scope, period);
  return path.substr(0, path.find('?'));
}

}  // namespace

std::string RenderPageHtml(const Page& page, const Chrome& chrome) {
  mstch::map context = ChromeContext(chrome);
  mstch::array crumbs;
  for (size_t i = 0; i < page.breadcrumbs.size(); ++i) {
    const Crumb& c = page.breadcrumbs[i];
    crumbs.push_back(mstch::map{{"label", c.label},
                                {"has_href", !c.href.empty()},
                                {"href", c.href},
                                {"current", i + 1 == page.breadcrumbs.size()}});
  }
  PageFacts facts;
  mstch::array sections;
  for (const Section& s : page.sections) {
    sections.push_back(SectionContext(page, s, facts));
  }
  mstch::array legend;
  for (const std::string& mark : facts.marks)
    legend.push_back(LegendEntry(mark));
  const Period previous = page.period.Previous(), next = page.period.Next();
  context.insert({
      {"title", page.title},
      {"period", page.period.ToString()},
      {"path", PathOnly(page.scope, page.period)},
      {"crumbs", crumbs},
      {"status_text", page.status.text},
      {"status_partial", page.status.reported < page.status.expected ||
                             !page.status.warning.empty()},
      {"has_warning", !page.status.warning.empty()},
      {"warning", page.status.warning},
      {"warning_unconfirmed", std::to_string(page.status.unconfirmed)},
      {"warning_expected", std::to_string(page.status.expected)},
      {"period_groups", PeriodGroups(page.period, chrome.latest)},
      {"previous", previous.ToString()},
      {"previous_href", PagePath(page.scope, previous)},
      {"has_next", next.last() <= chrome.latest},
      {"next", next.ToString()},
      {"next_href", PagePath(page.scope, next)},
      {"has_sections", !sections.empty()},
      {"has_legend", !legend.empty()},
      {"legend", legend},
      {"has_suppressed", facts.suppressed},
  });
  context.emplace("sections", std::move(sections));
  return mstch::render(Text("page.html"), context, Partials());
}

std::string RenderLoginHtml(absl::string_view error,
                            absl::Duration session_lifetime) {
  mstch::map context = ChromeContext(Chrome{});
  context.insert({{"has_error", !error.empty()},
                  {"error", std::string(error)},
                  {"lifetime", Lifetime(session_lifetime)}});
  return mstch::render(Text("login.html"), context, Partials());
}

std::string RenderErrorHtml(int status, absl::string_view title,
                            absl::string_view message, const Chrome& chrome) {
  mstch::map context = ChromeContext(chrome);
  context.insert({{"status", std::to_string(status)},
                  {"title", std::string(title)},
                  {"message", std::string(message)}});
  return mstch::render(Text("error.html"), context, Partials());
}

}  // namespace ohfed::dashboard
