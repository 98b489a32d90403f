// The activity section: what services did in the period (events, services
// reporting, waits from referral to first appointment), and monthly trends
// of the main activities and of the waits' median and 90th percentile.
// Activity is disclosive: below national level the source has already
// rounded or suppressed it, and a suppressed month is a "*" gap.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dashboard/pages_internal.h"

namespace ohfed::dashboard::internal {
namespace {

constexpr char kActivity[] = "activity";
constexpr char kCount[] = "activity.count.";
constexpr char kWait[] = "activity.wait_days.";
constexpr char kStaffSeen[] = "activity.staff_seen";

struct Series {
  std::string measure, stat, header;
};

// The trends: the main flows, and the waits of the two referral routes.
std::vector<Series> ActivitySeries() {
  return {{kStaffSeen, "sum", "Staff seen"},
          {"activity.count.management_referral", "sum", "Management referrals"},
          {"activity.count.self_referral", "sum", "Self-referrals"},
          {"activity.count.pre_placement", "sum", "Pre-placement assessments"},
          {"activity.count.immunisation", "sum", "Immunisations"}};
}
std::vector<Series> WaitSeries() {
  return {{"activity.wait_days.management_referral", "median",
           "Management referral wait, median days"},
          {"activity.wait_days.management_referral", "p90",
           "Management referral wait, 90th percentile days"},
          {"activity.wait_days.self_referral", "median",
           "Self-referral wait, median days"},
          {"activity.wait_days.self_referral", "p90",
           "Self-referral wait, 90th percentile days"}};
}

// A month, calendar quarter, calendar year or financial year, however it
// was written: the periods the query engine publishes disclosive measures
// for below national level (aggregator/disclosure_pattern.h's rule; the
// dashboard asks rather than fails).
bool IsStandardPeriod(const Period& p) {
  const int first = p.first().month();
  switch (p.months()) {
    case 1:
      return true;
    case 3:
      return first % 3 == 1;
    case 12:
      return first == 1 || first == 4;
    default:
      return false;
  }
}

// One month of the trends: only the measures and statistics they show.
// Below national each disclosive measure in a query costs the engine a
// secondary-suppression pattern, so the trends do not ask for the whole
// "activity" prefix every month.
absl::StatusOr<Answers> AskMonth(const PageContext& ctx, Month month,
                                 const std::vector<Series>& series) {
  v1::QueryResponse all;
  std::vector<std::string> asked;
  for (const Series& s : series) {
    if (std::find(asked.begin(), asked.end(), s.measure) != asked.end()) {
      continue;
    }
    asked.push_back(s.measure);
    std::vector<std::string> stats;
    for (const Series& t : series) {
      if (t.measure == s.measure) stats.push_back(t.stat);
    }
    absl::StatusOr<v1::QueryResponse> one =
        AskRows(ctx, ctx.scope, Period::OfMonth(month), ctx.scope.level,
                s.measure, stats);
    if (!one.ok()) return one.status();
    all.MergeFrom(*one);
  }
  return Answers(all);
}

Table PeriodTable(const PageContext& ctx, const Answers& a) {
  const Catalogue& catalogue = ctx.source.catalogue();
  Table table;
  table.id = "activity";
  table.caption = absl::StrCat("OH activity, ", ctx.registry.NameOf(ctx.scope),
                               ", ", ctx.period.ToString());
  table.columns = {{"Activity", false},
                   {"Events", true},
                   {"Services reporting", true},
                   {"Wait, median days", true},
                   {"Wait, 90th percentile days", true}};
  const std::string unit = UnitKey(ctx.scope);
  for (const Measure* m : catalogue.WithPrefix("activity.count")) {
    std::string activity = m->code.substr(sizeof(kCount) - 1);
    std::string wait = absl::StrCat(kWait, activity);
    const v1::Row* sum = a.Find(unit, m->code, "sum");
    table.rows.push_back({TextCell(ShortLabel(catalogue, wait)),
                          FigureCell(sum, 0), UnitsCell(sum),
                          FigureCell(a.Find(unit, wait, "median"), 1),
                          FigureCell(a.Find(unit, wait, "p90"), 1)});
  }
  const v1::Row* seen = a.Find(unit, kStaffSeen, "sum");
  table.rows.push_back({TextCell("Distinct staff seen (summed over months)"),
                        FigureCell(seen, 0), UnitsCell(seen), Cell(), Cell()});
  table.note =
      "Below national level counts of 1-7 are shown as * and others rounded "
      "to the nearest 5; waits built on fewer than 8 events are shown as *.";
  return table;
}

// A table of one row per month and a line chart of its series.
void AddTrend(const PageContext& ctx, const std::vector<Month>& months,
              const std::vector<Answers>& answers, const std::string& id,
              const std::string& what, const std::vector<Series>& series,
              int decimals, const std::string& y_label, Section& section) {
  const std::string name = ctx.registry.NameOf(ctx.scope);
  Table table;
  table.id = id;
  table.caption =
      absl::StrCat(what, " by month, ", name, ", ", months.front().ToString(),
                   " to ", months.back().ToString());
  table.columns.push_back({"Month", false});
  Chart chart;
  chart.kind = Chart::Kind::kLine;
  chart.id = absl::StrCat(id, "_chart");
  chart.title = absl::StrCat(what, " by month, ", name);
  chart.table_id = id;
  chart.y_label = y_label;
  for (const Series& s : series) {
    chart.value_columns.push_back(static_cast<int>(table.columns.size()));
    table.columns.push_back({s.header, true});
  }
  const std::string unit = UnitKey(ctx.scope);
  for (size_t i = 0; i < months.size(); ++i) {
    std::vector<Cell> row = {TextCell(months[i].ToString())};
    for (const Series& s : series) {
      row.push_back(
          FigureCell(answers[i].Find(unit, s.measure, s.stat), decimals));
    }
    table.rows.push_back(std::move(row));
  }
  section.tables.push_back(std::move(table));
  section.charts.push_back(std::move(chart));
}

}  // namespace

absl::StatusOr<Section> ActivitySection(const PageContext& ctx) {
  // Below national, activity is published for months, quarters, years and
  // financial years only (SPEC §7): an arbitrary range could be subtracted
  // from another to recover a suppressed month. Its trends still show.
  const bool published = ctx.scope.level == Scope::Level::kNational ||
                         IsStandardPeriod(ctx.period);
  absl::StatusOr<Answers> period = Answers();
  if (published) {
    period = Ask(ctx, ctx.scope, ctx.period, ctx.scope.level, kActivity);
  }
  if (!period.ok()) return period.status();
  std::vector<Month> months = TrendMonths(ctx.period);
  std::vector<Series> series = ActivitySeries();
  std::vector<Series> waits = WaitSeries();
  series.insert(series.end(), waits.begin(), waits.end());
  std::vector<Answers> monthly;
  for (Month m : months) {
    absl::StatusOr<Answers> a = AskMonth(ctx, m, series);
    if (!a.ok()) return a.status();
    monthly.push_back(*std::move(a));
  }

  Section section;
  section.id = "activity";
  section.heading = "Activity and waiting times";
  section.intro =
      "What services did, and how long staff waited from referral to their "
      "first appointment, over the period and month by month.";
  section.tables.push_back(PeriodTable(ctx, *period));
  if (!published) {
    section.tables.back().rows.clear();
    section.tables.back().note =
        "Below national level activity is published for a month, quarter, "
        "year or financial year only; choose one of those to see it.";
  }
  AddTrend(ctx, months, monthly, "activity_trend", "Activity", ActivitySeries(),
           0, "events", section);
  AddTrend(ctx, months, monthly, "waits_trend", "Waiting times", WaitSeries(),
           1, "days from referral to first appointment", section);
  return section;
}

}  // namespace ohfed::dashboard::internal
