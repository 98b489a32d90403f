// The activity section: what services did in the period (events, services
// reporting, waits from referral to first appointment), and monthly trends
// of the main activities and of the waits' median and 90th percentile.
// Activity is disclosive: below national level the source has already
// rounded or suppressed it, and a suppressed month is a "*" gap.
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
  absl::StatusOr<Answers> period =
      Ask(ctx, ctx.scope, ctx.period, ctx.scope.level, kActivity);
  if (!period.ok()) return period.status();
  std::vector<Month> months = TrendMonths(ctx.period);
  std::vector<Answers> monthly;
  for (Month m : months) {
    absl::StatusOr<Answers> a =
        Ask(ctx, ctx.scope, Period::OfMonth(m), ctx.scope.level, kActivity);
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
  AddTrend(ctx, months, monthly, "activity_trend", "Activity", ActivitySeries(),
           0, "events", section);
  AddTrend(ctx, months, monthly, "waits_trend", "Waiting times", WaitSeries(),
           1, "days from referral to first appointment", section);
  return section;
}

}  // namespace ohfed::dashboard::internal
