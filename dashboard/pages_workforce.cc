// The workforce section: OH staffing by staff group in the style of the
// survey's Table 1 (seed 000), with vacancies.
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "dashboard/pages_internal.h"

namespace ohfed::dashboard::internal {
namespace {

constexpr char kWte[] = "staffing.wte";
constexpr char kVacant[] = "staffing.vacant_wte";

// The staff groups of Table 1, in its order: the catalogue's
// staffing.wte.<group> measures.
std::vector<std::string> StaffGroups(const Catalogue& catalogue) {
  std::vector<std::string> groups;
  for (const Measure* m : catalogue.WithPrefix(kWte)) {
    groups.push_back(m->code.substr(sizeof(kWte)));
  }
  return groups;
}

// Short column headers for the staff groups, for the table by unit.
std::string GroupHeader(const Catalogue& catalogue, const std::string& group) {
  static constexpr const char* kHeaders[][2] = {
      {"consultant_om", "Consultant OM"},
      {"other_doctor", "Other doctors"},
      {"trainee", "Trainees"},
      {"nurse_specialist_oh", "Specialist OH nurses"},
      {"nurse_general", "General nurses"},
      {"nurse_mental_health", "Mental health nurses"},
      {"technician_hca", "Technicians and HCAs"},
      {"physio_ot", "Physios and OTs"},
      {"psychologist_counsellor", "Psychologists and counsellors"},
      {"manager", "Managers"},
      {"admin", "Admin and support"},
      {"other", "Other"}};
  for (const auto& [code, header] : kHeaders) {
    if (group == code) return header;
  }
  return ShortLabel(catalogue, absl::StrCat(kWte, ".", group));
}

// WTE in post by staff group for each child unit side by side (an ICS's
// trusts, a region's ICSs, England's regions), and the scope's total.
absl::StatusOr<Table> ByUnitTable(const PageContext& ctx, Scope::Level level) {
  const Catalogue& catalogue = ctx.source.catalogue();
  absl::StatusOr<Answers> by =
      Ask(ctx, ctx.scope, ctx.period, level, kWte, {"sum"});
  if (!by.ok()) return by.status();
  absl::StatusOr<Answers> self =
      Ask(ctx, ctx.scope, ctx.period, ctx.scope.level, kWte, {"sum"});
  if (!self.ok()) return self.status();
  const std::string name = ctx.registry.NameOf(ctx.scope);
  Table table;
  table.id = absl::StrCat("workforce_by_", LevelName(level));
  table.caption =
      absl::StrCat("WTE in post by staff group and ", LevelNoun(level), ", ",
                   name, ", ", ctx.period.ToString());
  table.columns.push_back({LevelNoun(level), false});
  table.columns[0].header[0] = static_cast<char>(
      std::toupper(static_cast<unsigned char>(table.columns[0].header[0])));
  std::vector<std::string> groups = StaffGroups(catalogue);
  for (const std::string& group : groups) {
    table.columns.push_back({GroupHeader(catalogue, group), true});
  }
  auto row = [&](const Answers& a, const std::string& unit, Cell label) {
    std::vector<Cell> cells = {std::move(label)};
    for (const std::string& group : groups) {
      cells.push_back(
          FigureCell(a.Find(unit, absl::StrCat(kWte, ".", group), "sum"), 1));
    }
    return cells;
  };
  for (const Scope& child : ctx.registry.Children(ctx.scope, level)) {
    table.rows.push_back(
        row(*by, child.code, LinkCell(ctx.registry, child, ctx.period)));
  }
  table.rows.push_back(row(*self, UnitKey(ctx.scope), TextCell("All " + name)));
  table.note = "Blank: no trust of the unit reported the staff group.";
  return table;
}

}  // namespace

absl::StatusOr<Section> WorkforceSection(const PageContext& ctx) {
  const Catalogue& catalogue = ctx.source.catalogue();
  absl::StatusOr<Answers> in_post =
      Ask(ctx, ctx.scope, ctx.period, ctx.scope.level, kWte, {"sum", "mean"});
  if (!in_post.ok()) return in_post.status();
  absl::StatusOr<Answers> vacant =
      Ask(ctx, ctx.scope, ctx.period, ctx.scope.level, kVacant, {"sum"});
  if (!vacant.ok()) return vacant.status();

  Table table;
  table.id = "workforce";
  table.caption =
      absl::StrCat("OH staffing by staff group (WTE), ",
                   ctx.registry.NameOf(ctx.scope), ", ", ctx.period.ToString());
  table.columns = {{"Staff group", false},
                   {"Total WTE in post", true},
                   {"Mean WTE per reporting service", true},
                   {"Services reporting", true},
                   {"Vacant WTE", true}};
  const std::string unit = UnitKey(ctx.scope);
  for (const std::string& group : StaffGroups(catalogue)) {
    std::string wte = absl::StrCat(kWte, ".", group);
    const v1::Row* sum = in_post->Find(unit, wte, "sum");
    table.rows.push_back({
        TextCell(ShortLabel(catalogue, wte)),
        FigureCell(sum, 1),
        FigureCell(in_post->Find(unit, wte, "mean"), 2),
        UnitsCell(sum),
        FigureCell(vacant->Find(unit, absl::StrCat(kVacant, ".", group), "sum"),
                   1),
    });
  }
  table.note =
      "Each service's latest month in the period. The mean is over the "
      "services that reported the staff group, as in the survey's Table 1; "
      "a group no service reported is blank.";

  Section section;
  section.id = "workforce";
  section.heading = "Workforce";
  section.intro =
      "Whole-time-equivalent OH staff in post and vacant, by staff group, in "
      "the style of Table 1 of the accredited specialists survey.";
  section.tables.push_back(std::move(table));
  std::vector<Scope::Level> levels = ChildLevels(ctx.scope.level);
  if (!levels.empty()) {
    absl::StatusOr<Table> by_unit = ByUnitTable(ctx, levels.front());
    if (!by_unit.ok()) return by_unit.status();
    section.tables.push_back(*std::move(by_unit));
  }
  return section;
}

}  // namespace ohfed::dashboard::internal
