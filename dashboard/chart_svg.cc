// Inline SVG charts: the contract is in dashboard/chart_svg.h.
#include "dashboard/chart_svg.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace ohfed::dashboard {
namespace {

constexpr double kWidth = 720;
constexpr char kText[] = "#212b32";  // 15:1 on white
constexpr char kGrid[] = "#d8dde0";
constexpr char kBandFill[] = "#009639";
constexpr char kBandEdge[] = "#006747";
// NHS blue, pink, green, purple, dark red: each at least 5:1 on white.
constexpr const char* kColours[] = {"#005eb8", "#ae2573", "#006747", "#330072",
                                    "#8a1538"};
constexpr const char* kDashes[] = {"", "6 3", "2 3", "8 3 2 3", "1 2"};
constexpr size_t kMaxLabel = 44;  // characters of a bar label before "..."

std::string Num(double v) { return absl::StrFormat("%.1f", v); }

const char* Colour(size_t series) {
  return kColours[series % (sizeof(kColours) / sizeof(kColours[0]))];
}
const char* Dash(size_t series) {
  return kDashes[series % (sizeof(kDashes) / sizeof(kDashes[0]))];
}

// The cell at (row, column), or an empty one if the row is short.
const Cell& At(const Table& table, size_t row, int column) {
  static const Cell* empty = new Cell();
  const auto& cells = table.rows[row];
  if (column < 0 || static_cast<size_t>(column) >= cells.size()) return *empty;
  return cells[column];
}

// Whether the cell has a value the axis (from zero) can show: not
// suppressed, present, finite and not negative. Any other is a gap.
bool Drawable(const Cell& cell) {
  return !cell.suppressed && cell.value && std::isfinite(*cell.value) &&
         *cell.value >= 0;
}

// The value columns the table has, in the chart's order.
std::vector<int> Columns(const Chart& chart, const Table& table) {
  std::vector<int> out;
  for (int c : chart.value_columns) {
    if (c >= 0 && static_cast<size_t>(c) < table.columns.size()) {
      out.push_back(c);
    }
  }
  return out;
}

// The column's header; "" for a column the table lacks.
std::string Header(const Table& table, int column) {
  if (column < 0 || static_cast<size_t>(column) >= table.columns.size()) {
    return "";
  }
  return table.columns[column].header;
}

bool AnySuppressed(const Table& table, const std::vector<int>& columns) {
  for (size_t r = 0; r < table.rows.size(); ++r) {
    for (int c : columns) {
      if (At(table, r, c).suppressed) return true;
    }
  }
  return false;
}

// An axis from 0 to a round maximum with round steps (1, 2 or 5 x 10^k).
struct Axis {
  double max = 1, step = 1;
};
Axis NiceAxis(double max_value) {
  if (!(max_value > 0)) return {};
  double raw = max_value / 5;
  double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  return {std::ceil(max_value / step) * step, step};
}

// The largest value drawn (and the band's top), for the axis.
double MaxValue(const Chart& chart, const Table& table,
                const std::vector<int>& columns) {
  double max = chart.band ? chart.band->high : 0;
  for (size_t r = 0; r < table.rows.size(); ++r) {
    for (int c : columns) {
      const Cell& cell = At(table, r, c);
      if (Drawable(cell)) max = std::max(max, *cell.value);
    }
  }
  return max;
}

std::string TickLabel(double v) {
  if (v == std::floor(v)) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%g", v);
}

std::string Truncated(const std::string& label) {
  if (label.size() <= kMaxLabel) return label;
  size_t cut = kMaxLabel - 3;
  // Do not cut a UTF-8 sequence in two.
  while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return label.substr(0, cut) + "...";
}

std::string TextElement(double x, double y, absl::string_view text,
                        absl::string_view extra = "") {
  return absl::StrCat("<text x=\"", Num(x), "\" y=\"", Num(y), "\" fill=\"",
                      kText, "\"", extra.empty() ? "" : " ", extra, ">",
                      XmlEscape(text), "</text>");
}

// What a cell says in the text equivalent.
std::string Said(const Cell& cell) {
  if (cell.suppressed) return "* (suppressed)";
  if (cell.text.empty()) return "no data";
  return cell.text;
}

std::string Describe(const Chart& chart, const Table& table,
                     const std::vector<int>& columns) {
  std::vector<std::string> parts;
  parts.push_back(
      absl::StrCat(chart.kind == Chart::Kind::kBar ? "Bar chart" : "Line chart",
                   " of ", chart.y_label.empty() ? "values" : chart.y_label,
                   " by ", Header(table, chart.label_column), "."));
  for (int c : columns) {
    std::vector<std::string> figures;
    for (size_t r = 0; r < table.rows.size(); ++r) {
      figures.push_back(absl::StrCat(At(table, r, chart.label_column).text,
                                     ": ", Said(At(table, r, c))));
    }
    parts.push_back(absl::StrCat(Header(table, c), ": ",
                                 absl::StrJoin(figures, "; "), "."));
  }
  if (chart.band) {
    parts.push_back(absl::StrCat(
        "Shaded band from ", TickLabel(chart.band->low), " to ",
        TickLabel(chart.band->high), ": ", chart.band->label, "."));
  }
  return absl::StrJoin(parts, " ");
}

std::string Open(const Chart& chart, const Table& table,
                 const std::vector<int>& columns, double height) {
  std::string id = XmlEscape(chart.id);
  return absl::StrCat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"",
      Num(kWidth), "\" height=\"", Num(height), "\" viewBox=\"0 0 ",
      Num(kWidth), " ", Num(height), "\" aria-labelledby=\"", id, "-title ", id,
      "-desc\" font-family=\"sans-serif\" font-size=\"12\">", "<title id=\"",
      id, "-title\">", XmlEscape(chart.title), "</title>", "<desc id=\"", id,
      "-desc\">", XmlEscape(Describe(chart, table, columns)), "</desc>",
      "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>");
}

// Legend entries along the top: a swatch (line or block) and the header.
std::string Legend(const Table& table, const std::vector<int>& columns,
                   bool lines, double y) {
  std::string out;
  double x = 10;
  for (size_t s = 0; s < columns.size(); ++s) {
    if (lines) {
      absl::StrAppend(
          &out, "<line x1=\"", Num(x), "\" y1=\"", Num(y - 4), "\" x2=\"",
          Num(x + 24), "\" y2=\"", Num(y - 4), "\" stroke=\"", Colour(s),
          "\" stroke-width=\"2.5\"",
          *Dash(s) ? absl::StrCat(" stroke-dasharray=\"", Dash(s), "\"") : "",
          "/>");
    } else {
      absl::StrAppend(&out, "<rect x=\"", Num(x), "\" y=\"", Num(y - 10),
                      "\" width=\"12\" height=\"12\" fill=\"", Colour(s),
                      "\"/>");
    }
    std::string header = Header(table, columns[s]);
    absl::StrAppend(&out, TextElement(x + 30, y, header));
    x += 40 + 6.5 * static_cast<double>(header.size());
    if (x > kWidth - 150 && s + 1 < columns.size()) {  // next line
      x = 10;
      y += 16;
    }
  }
  return out;
}

// Rows of the legend Legend() will use (it wraps when full).
int LegendLines(const Table& table, const std::vector<int>& columns) {
  int lines = 1;
  double x = 10;
  for (size_t s = 0; s < columns.size(); ++s) {
    x += 40 + 6.5 * static_cast<double>(Header(table, columns[s]).size());
    if (x > kWidth - 150 && s + 1 < columns.size()) {
      x = 10;
      ++lines;
    }
  }
  return lines;
}

// ---------------------------------------------------------------- bars --

// The band's label above it: from its left edge, or ending at its right
// edge when it would run off the chart.
std::string BandLabel(double x0, double x1, double y,
                      const std::string& label) {
  double width = 6.5 * static_cast<double>(label.size());
  if (x0 + width <= kWidth - 4) return TextElement(x0, y, label);
  return TextElement(std::min(x1, kWidth - 4), y, label, "text-anchor=\"end\"");
}

std::string BarChart(const Chart& chart, const Table& table,
                     const std::vector<int>& columns) {
  const double left = 300, right = kWidth - 70;
  const double legend_h =
      columns.size() > 1 ? 16.0 * LegendLines(table, columns) + 8 : 0;
  const double top = 10 + legend_h + (chart.band ? 22 : 0);
  const double series_h = 14;
  const double row_h =
      std::max(22.0, series_h * static_cast<double>(columns.size()) + 8);
  const double plot_h = row_h * static_cast<double>(table.rows.size());
  const double height = top + plot_h + 50;
  Axis axis = NiceAxis(MaxValue(chart, table, columns));
  auto x_of = [&](double v) { return left + (right - left) * v / axis.max; };

  std::string out = Open(chart, table, columns, height);
  if (columns.size() > 1) {
    absl::StrAppend(&out, Legend(table, columns, /*lines=*/false, 24));
  }
  if (chart.band) {
    double x0 = x_of(chart.band->low), x1 = x_of(chart.band->high);
    absl::StrAppend(&out, "<g class=\"band\"><rect x=\"", Num(x0), "\" y=\"",
                    Num(top), "\" width=\"", Num(x1 - x0), "\" height=\"",
                    Num(plot_h), "\" fill=\"", kBandFill,
                    "\" fill-opacity=\"0.15\" stroke=\"", kBandEdge,
                    "\" stroke-dasharray=\"4 2\"/>",
                    BandLabel(x0, x1, top - 6, chart.band->label), "</g>");
  }
  // Value axis: grid lines and tick labels below the plot.
  for (double v = 0; v <= axis.max + axis.step / 2; v += axis.step) {
    double x = x_of(v);
    absl::StrAppend(&out, "<line x1=\"", Num(x), "\" y1=\"", Num(top),
                    "\" x2=\"", Num(x), "\" y2=\"", Num(top + plot_h),
                    "\" stroke=\"", kGrid, "\"/>",
                    TextElement(x, top + plot_h + 16, TickLabel(v),
                                "text-anchor=\"middle\""));
  }
  absl::StrAppend(&out, TextElement((left + right) / 2, top + plot_h + 38,
                                    chart.y_label, "text-anchor=\"middle\""));
  for (size_t r = 0; r < table.rows.size(); ++r) {
    double y = top + row_h * static_cast<double>(r);
    const std::string& label = At(table, r, chart.label_column).text;
    absl::StrAppend(&out, "<text x=\"", Num(left - 8), "\" y=\"",
                    Num(y + row_h / 2 + 4), "\" fill=\"", kText,
                    "\" text-anchor=\"end\"><title>", XmlEscape(label),
                    "</title>", XmlEscape(Truncated(label)), "</text>");
    for (size_t s = 0; s < columns.size(); ++s) {
      const Cell& cell = At(table, r, columns[s]);
      double bar_y = y + 4 + series_h * static_cast<double>(s);
      if (!Drawable(cell)) {
        // A gap, labelled: "*" for suppressed, the cell's words otherwise.
        std::string note = cell.suppressed     ? "* (suppressed)"
                           : cell.text.empty() ? "no data"
                                               : cell.text;
        absl::StrAppend(
            &out, TextElement(left + 4, bar_y + series_h - 3, note,
                              cell.suppressed ? "class=\"suppressed\"" : ""));
        continue;
      }
      double w = std::max(0.0, x_of(*cell.value) - left);
      absl::StrAppend(
          &out, "<rect x=\"", Num(left), "\" y=\"", Num(bar_y), "\" width=\"",
          Num(w), "\" height=\"", Num(series_h - 2), "\" fill=\"", Colour(s),
          "\"/>", TextElement(left + w + 4, bar_y + series_h - 3, cell.text));
    }
  }
  absl::StrAppend(&out, "<line x1=\"", Num(left), "\" y1=\"", Num(top),
                  "\" x2=\"", Num(left), "\" y2=\"", Num(top + plot_h),
                  "\" stroke=\"", kText, "\"/></svg>");
  return out;
}

// --------------------------------------------------------------- lines --

std::string LineChart(const Chart& chart, const Table& table,
                      const std::vector<int>& columns) {
  const double left = 70, right = kWidth - 40;
  const double top = 16.0 * LegendLines(table, columns) + 30;
  const double plot_h = 220;
  const double height = top + plot_h + 60;
  const size_t n = table.rows.size();
  Axis axis = NiceAxis(MaxValue(chart, table, columns));
  auto x_of = [&](size_t r) {
    return n <= 1 ? (left + right) / 2
                  : left + (right - left) * static_cast<double>(r) /
                               static_cast<double>(n - 1);
  };
  auto y_of = [&](double v) { return top + plot_h - plot_h * v / axis.max; };

  std::string out = Open(chart, table, columns, height);
  absl::StrAppend(&out, Legend(table, columns, /*lines=*/true, 20));
  if (chart.band) {
    double y0 = y_of(chart.band->high), y1 = y_of(chart.band->low);
    absl::StrAppend(&out, "<g class=\"band\"><rect x=\"", Num(left), "\" y=\"",
                    Num(y0), "\" width=\"", Num(right - left), "\" height=\"",
                    Num(y1 - y0), "\" fill=\"", kBandFill,
                    "\" fill-opacity=\"0.15\" stroke=\"", kBandEdge,
                    "\" stroke-dasharray=\"4 2\"/>",
                    TextElement(left + 4, y0 + 12, chart.band->label), "</g>");
  }
  for (double v = 0; v <= axis.max + axis.step / 2; v += axis.step) {
    double y = y_of(v);
    absl::StrAppend(
        &out, "<line x1=\"", Num(left), "\" y1=\"", Num(y), "\" x2=\"",
        Num(right), "\" y2=\"", Num(y), "\" stroke=\"", kGrid, "\"/>",
        TextElement(left - 6, y + 4, TickLabel(v), "text-anchor=\"end\""));
  }
  absl::StrAppend(
      &out,
      TextElement(14, top + plot_h / 2, chart.y_label,
                  absl::StrCat("text-anchor=\"middle\" transform=\"rotate(-90 ",
                               "14 ", Num(top + plot_h / 2), ")\"")));
  // Month labels: at most about twelve, evenly.
  size_t every = std::max<size_t>(1, (n + 11) / 12);
  for (size_t r = 0; r < n; r += every) {
    absl::StrAppend(&out, TextElement(x_of(r), top + plot_h + 18,
                                      At(table, r, chart.label_column).text,
                                      "text-anchor=\"middle\""));
  }
  for (size_t s = 0; s < columns.size(); ++s) {
    std::vector<std::string> segment;  // points of the current run
    auto flush = [&] {
      if (segment.size() > 1) {
        absl::StrAppend(
            &out, "<polyline fill=\"none\" stroke=\"", Colour(s),
            "\" stroke-width=\"2.5\"",
            *Dash(s) ? absl::StrCat(" stroke-dasharray=\"", Dash(s), "\"") : "",
            " points=\"", absl::StrJoin(segment, " "), "\"/>");
      }
      segment.clear();
    };
    for (size_t r = 0; r < n; ++r) {
      const Cell& cell = At(table, r, columns[s]);
      if (!Drawable(cell)) {
        flush();
        if (cell.suppressed) {
          // The gap is labelled where the point would be, one row per series.
          absl::StrAppend(
              &out, "<text x=\"", Num(x_of(r)), "\" y=\"",
              Num(top + plot_h - 6 - 14 * static_cast<double>(s)), "\" fill=\"",
              Colour(s),
              "\" text-anchor=\"middle\" class=\"suppressed\"><title>",
              XmlEscape(Header(table, columns[s])), ", ",
              XmlEscape(At(table, r, chart.label_column).text),
              ": suppressed</title>*</text>");
        }
        continue;
      }
      double x = x_of(r), y = y_of(*cell.value);
      segment.push_back(absl::StrCat(Num(x), ",", Num(y)));
      absl::StrAppend(&out, "<circle cx=\"", Num(x), "\" cy=\"", Num(y),
                      "\" r=\"3\" fill=\"", Colour(s), "\"/>");
    }
    flush();
  }
  absl::StrAppend(&out, "<line x1=\"", Num(left), "\" y1=\"", Num(top + plot_h),
                  "\" x2=\"", Num(right), "\" y2=\"", Num(top + plot_h),
                  "\" stroke=\"", kText, "\"/>");
  if (AnySuppressed(table, columns)) {
    absl::StrAppend(&out, TextElement(right, top + plot_h + 40,
                                      "* suppressed by disclosure control",
                                      "text-anchor=\"end\""));
  }
  absl::StrAppend(&out, "</svg>");
  return out;
}

}  // namespace

std::string XmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        // Control characters are not allowed in XML 1.0 at all.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' &&
            c != '\r') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string RenderChartSvg(const Chart& chart, const Table& table) {
  std::vector<int> columns = Columns(chart, table);
  if (chart.kind == Chart::Kind::kBar) return BarChart(chart, table, columns);
  return LineChart(chart, table, columns);
}

}  // namespace ohfed::dashboard
