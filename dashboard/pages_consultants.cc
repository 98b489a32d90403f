// The consultant section: staff per consultant, the consultant gap and
// critical mass by child unit, against the configuration paper's (seed 003)
// 15,000-20,000 NHS staff per consultant and teams of at least three.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dashboard/pages_internal.h"

namespace ohfed::dashboard::internal {
namespace {

constexpr char kRatio[] = "derived.staff_per_consultant";
constexpr char kGap[] = "derived.consultant_gap_wte";
constexpr char kCriticalMass[] = "derived.critical_mass";
constexpr char kConsultant[] = "staffing.wte.consultant_om";
constexpr char kStaffServed[] = "profile.staff_served";
constexpr int kRatioColumn = 3;

// The years whose staff served the ratio uses: each trust's latest annual
// return up to the period's year, looking back as far as the derived
// indicators do (aggregator/query_derived.h, kProfileLookbackYears), so a
// month before this year's return still shows last year's headcount beside
// the ratio built on it.
Period StaffServedYears(const Period& period) {
  constexpr int kLookbackYears = 5;
  const int year = period.last().year();
  return Period::Between(Month::Of(year - kLookbackYears, 1),
                         Month::Of(year, 12));
}

// The answers one consultant table reads, for one breakdown.
struct ConsultantAnswers {
  Answers derived, consultants, staff;
};

absl::StatusOr<ConsultantAnswers> AskConsultants(const PageContext& ctx,
                                                 Scope::Level by) {
  ConsultantAnswers a;
  auto derived = Ask(ctx, ctx.scope, ctx.period, by, "derived");
  if (!derived.ok()) return derived.status();
  auto consultants = Ask(ctx, ctx.scope, ctx.period, by, kConsultant, {"sum"});
  if (!consultants.ok()) return consultants.status();
  auto staff = Ask(ctx, ctx.scope, StaffServedYears(ctx.period), by,
                   kStaffServed, {"sum"});
  if (!staff.ok()) return staff.status();
  return ConsultantAnswers{*std::move(derived), *std::move(consultants),
                           *std::move(staff)};
}

// "2 of 5": units with at least three consultant WTE of those reporting.
Cell CriticalMassCell(const v1::Row* row) {
  Cell cell = FigureCell(row, 0);
  if (row != nullptr && !row->suppressed()) {
    cell.text = absl::StrCat(cell.text, " of ", row->n_units());
  }
  return cell;
}

// One unit's row; `label` is its name (a link for a child unit).
std::vector<Cell> ConsultantRow(const ConsultantAnswers& a,
                                const std::string& unit, Cell label) {
  const v1::Row* consultants = a.consultants.Find(unit, kConsultant, "sum");
  const v1::Row* staff = a.staff.Find(unit, kStaffServed, "sum");
  Cell ratio = FigureCell(a.derived.Find(unit, kRatio, "value"), 0);
  // No ratio although both inputs are there: the unit has no consultant.
  if (ratio.text.empty() && consultants != nullptr && staff != nullptr &&
      !consultants->suppressed() && consultants->value() == 0) {
    ratio.text = "no consultant";
  }
  return {std::move(label),
          FigureCell(staff, 0),
          FigureCell(consultants, 2),
          std::move(ratio),
          FigureCell(a.derived.Find(unit, kGap, "value"), 1),
          CriticalMassCell(a.derived.Find(unit, kCriticalMass, "value"))};
}

Table ConsultantTable(const PageContext& ctx, const std::string& id,
                      const std::string& caption) {
  Table table;
  table.id = id;
  table.caption = caption;
  table.columns = {{"Unit", false},
                   {"NHS staff served", true},
                   {"Consultant OM WTE", true},
                   {"Staff per consultant", true},
                   {"Consultant gap WTE", true},
                   {"Trusts with at least 3 consultant WTE", true}};
  table.note =
      "Staff per consultant and the gap count only the trusts that reported "
      "both staff served and consultant WTE. The gap is staff served / "
      "17,500 minus consultant WTE: positive means short of the "
      "15,000-20,000 staff per consultant the configuration paper suggests.";
  return table;
}

Chart RatioChart(const Table& table, const std::string& title) {
  Chart chart;
  chart.kind = Chart::Kind::kBar;
  chart.id = absl::StrCat(table.id, "_chart");
  chart.title = title;
  chart.table_id = table.id;
  chart.label_column = 0;
  chart.value_columns = {kRatioColumn};
  chart.y_label = "NHS staff per consultant OM WTE";
  chart.band = Chart::Band{15000, 20000, "15,000-20,000: a good ratio"};
  return chart;
}

}  // namespace

absl::StatusOr<Section> ConsultantSection(const PageContext& ctx) {
  const std::string name = ctx.registry.NameOf(ctx.scope);
  absl::StatusOr<ConsultantAnswers> self = AskConsultants(ctx, ctx.scope.level);
  if (!self.ok()) return self.status();

  Section section;
  section.id = "consultants";
  section.heading = "Consultant cover";
  section.intro =
      "NHS staff served per consultant occupational physician WTE against "
      "the 15,000-20,000 band, the consultant WTE short of one per 17,500 "
      "staff, and how many trusts have the critical mass of three "
      "consultants.";
  for (Scope::Level level : ChildLevels(ctx.scope.level)) {
    absl::StatusOr<ConsultantAnswers> by = AskConsultants(ctx, level);
    if (!by.ok()) return by.status();
    const std::string noun = LevelNoun(level);
    Table table =
        ConsultantTable(ctx, absl::StrCat("consultants_by_", LevelName(level)),
                        absl::StrCat("Consultant cover by ", noun, ", ", name,
                                     ", ", ctx.period.ToString()));
    for (const Scope& child : ctx.registry.Children(ctx.scope, level)) {
      table.rows.push_back(ConsultantRow(
          *by, child.code, LinkCell(ctx.registry, child, ctx.period)));
    }
    table.rows.push_back(
        ConsultantRow(*self, UnitKey(ctx.scope), TextCell("All " + name)));
    section.charts.push_back(RatioChart(
        table, absl::StrCat("Staff per consultant by ", noun, ", ", name)));
    section.tables.push_back(std::move(table));
  }
  if (ctx.scope.level == Scope::Level::kTrust) {
    Table table = ConsultantTable(
        ctx, "consultants",
        absl::StrCat("Consultant cover, ", name, ", ", ctx.period.ToString()));
    table.rows.push_back(
        ConsultantRow(*self, UnitKey(ctx.scope), TextCell(name)));
    section.charts.push_back(
        RatioChart(table, absl::StrCat("Staff per consultant, ", name)));
    section.tables.push_back(std::move(table));
  }
  return section;
}

}  // namespace ohfed::dashboard::internal
