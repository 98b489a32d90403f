// What one dashboard page shows, independent of how it is drawn (issue 12).
//
// dashboard/pages.h builds a Page from query answers (dashboard/
// query_source.h); dashboard/render.h draws it as HTML from the templates in
// dashboard/templates/, and each Table as CSV. Both sides meet only here, so
// the figures on the page, in its charts and in its CSV downloads are the
// same values, and a suppressed cell is `*` in all three.
#ifndef OHFED_DASHBOARD_PAGE_MODEL_H_
#define OHFED_DASHBOARD_PAGE_MODEL_H_

#include <optional>
#include <string>
#include <vector>

#include "common/period.h"
#include "common/registry.h"

namespace ohfed::dashboard {

// One table cell. `text` is what the page and the CSV show: "*" for a
// suppressed figure, "" for no data, otherwise the formatted value.
struct Cell {
  std::string text;
  bool suppressed = false;
  // The unformatted figure, for charts; absent when suppressed or missing.
  std::optional<double> value;
  // A link one level down (a region, ICS or trust page), or empty.
  std::string href;
  // A state the page styles and names in a legend, e.g. the completeness
  // grid's "on-time", "late", "missing", "silent"; empty for plain figures.
  // The text still says it (colour is never the only signal).
  std::string mark;
};

struct Column {
  std::string header;
  bool numeric = false;  // right-aligned; charts read numeric columns
};

// A real table: caption, header cells, and rows whose first cell is the row
// header (a unit or a category). `id` is unique on the page and names its
// CSV download ("<id>.csv").
struct Table {
  std::string id;
  std::string caption;
  std::vector<Column> columns;
  std::vector<std::vector<Cell>> rows;
  std::string note;  // e.g. what "*" means, what a mean is over
};

// A simple chart drawn from one Table (its text equivalent on the page);
// dashboard/chart_svg.h draws it as inline SVG. A suppressed value is drawn
// as a labelled "*" gap, never as zero.
struct Chart {
  enum class Kind { kBar, kLine };
  Kind kind = Kind::kBar;
  std::string id;
  std::string title;
  std::string table_id;            // the Table holding the same figures
  int label_column = 0;            // category (bar) or period (line) labels
  std::vector<int> value_columns;  // one series each
  std::string y_label;
  // A reference band drawn across the chart, e.g. 15,000-20,000 staff per
  // consultant.
  struct Band {
    double low = 0, high = 0;
    std::string label;
  };
  std::optional<Band> band;
};

struct Section {
  std::string id;  // anchor
  std::string heading;
  std::string intro;  // one or two sentences on what is shown
  std::vector<Table> tables;
  std::vector<Chart> charts;
};

// How complete the shown period is, on every page, so that a partial month
// is never mistaken for a low one.
struct ReportingStatus {
  int expected = 0;  // trusts in scope
  int reported = 0;  // trusts that reported every month of the period
  int partial = 0;   // reported some months of it
  std::string text;  // e.g. "118 of 207 trusts have reported 2026-09"
  // Set while this aggregator's store was damaged and recovered and some
  // trusts in scope have not yet resent what was lost
  // (CompletenessResponse.warning): shown prominently, the figures may be
  // missing or out of date, and never called complete.
  std::string warning;
  int unconfirmed = 0;  // trusts in scope not yet confirmed since then
};

struct Crumb {
  std::string label;
  std::string href;  // empty for the current page
};

struct Page {
  Scope scope;
  Period period = Period::OfMonth(Month::Of(2026, 1));
  std::string title;  // e.g. "England", "Humber and North Yorkshire ICB"
  std::vector<Crumb> breadcrumbs;  // national first, the page last
  ReportingStatus status;
  std::vector<Section> sections;
};

// Paths, shared by the builder (links) and the server (routes):
//   /                                  the caller's own scope's page
//   /scope/national?period=P
//   /scope/region/CODE?period=P, /scope/ics/CODE?..., /scope/trust/CODE?...
//   /scope/<level>/<code>/<table-id>.csv?period=P
// `period` as common/period.h parses it (month, quarter, year, financial
// year); absent: the latest complete month.
std::string PagePath(const Scope& scope, const Period& period);
std::string CsvPath(const Scope& scope, const Period& period,
                    const std::string& table_id);

}  // namespace ohfed::dashboard

#endif  // OHFED_DASHBOARD_PAGE_MODEL_H_
