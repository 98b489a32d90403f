// Draws dashboard pages (dashboard/page_model.h) as HTML from the templates
// in dashboard/templates/ (mustache, via mstch), and each Table as CSV.
//
// Every string from data reaches the HTML through mustache's escaping ({{ }}
// escapes & < > " '); the only unescaped insertions are the charts' SVG
// (dashboard/chart_svg.h escapes its text) and attribute lists built here
// from fixed words. Pages need no JavaScript and load nothing external.
#ifndef OHFED_DASHBOARD_RENDER_H_
#define OHFED_DASHBOARD_RENDER_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/period.h"
#include "dashboard/page_model.h"

namespace ohfed::dashboard {

// What surrounds a page besides its figures.
struct Chrome {
  std::string visitor;        // "token 'ICS lead'"; empty: nobody
  std::string visitor_scope;  // "ics:QOQ"
  bool signed_in = false;     // offer "Sign out" (a POST form)
  std::string home;           // the visitor's own page, or empty
  // The latest complete month: the period picker offers periods up to it.
  Month latest = Month::Of(2026, 1);
};

std::string RenderPageHtml(const Page& page, const Chrome& chrome);

// The login form; `error` (may be empty) says why the last try failed.
// `session_lifetime` is told to the person signing in.
std::string RenderLoginHtml(absl::string_view error,
                            absl::Duration session_lifetime);

// An error page: "403 Not your scope", the reason, and a way on.
std::string RenderErrorHtml(int status, absl::string_view title,
                            absl::string_view message, const Chrome& chrome);

// The table as CSV (RFC 4180: CRLF line ends; fields with a comma, quote or
// line break quoted, quotes doubled): the header row, then every row as the
// page shows it (a suppressed figure is "*"). A field a spreadsheet would
// take for a formula (starting with = + - @, tab or CR, unless it is a plain
// number such as -2.5) gets a leading ' so it is shown as text.
std::string RenderTableCsv(const Table& table);

// The field as RenderTableCsv writes it.
std::string CsvField(absl::string_view text);

}  // namespace ohfed::dashboard

#endif  // OHFED_DASHBOARD_RENDER_H_
