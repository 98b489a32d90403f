// Draws a dashboard Chart (dashboard/page_model.h) as inline SVG: no
// scripts, fonts or external assets, so a page works offline and without
// JavaScript.
//
// Bar charts are horizontal (one bar per table row, one colour per value
// column), so long unit names stay readable; line charts have one line per
// value column over the rows (months). Both are drawn at a fixed width with
// a value axis from zero, tick labels and the chart's y_label; a Band is a
// shaded rectangle across the plot with its label. A suppressed value
// (Cell.suppressed) is drawn as a labelled "*" gap, never as zero; a missing
// one is a gap too (a bar chart writes the cell's text, e.g. "no
// consultant", or "no data"), and so is a negative value, which an axis
// from zero cannot show (a bar chart writes its text).
//
// The SVG has role="img" and is labelled by its <title> (the chart's title)
// and <desc> (a text equivalent listing every figure), and every string
// from the chart or table is XML-escaped. Colours have at least 4.5:1
// contrast with the white background, and lines also differ in dash
// pattern, so colour is never the only signal.
#ifndef OHFED_DASHBOARD_CHART_SVG_H_
#define OHFED_DASHBOARD_CHART_SVG_H_

#include <string>

#include "absl/strings/string_view.h"
#include "dashboard/page_model.h"

namespace ohfed::dashboard {

// `table` is the Table named by chart.table_id; columns the chart names that
// the table lacks are ignored.
std::string RenderChartSvg(const Chart& chart, const Table& table);

// Escapes &, <, >, " and ' for XML text and attribute values.
std::string XmlEscape(absl::string_view text);

}  // namespace ohfed::dashboard

#endif  // OHFED_DASHBOARD_CHART_SVG_H_
