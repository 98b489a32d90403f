// The workforce section: OH staffing by staff group in the style of the
// survey's Table 1 (seed 000), with vacancies.
#include <string>
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
  return section;
}

}  // namespace ohfed::dashboard::internal
