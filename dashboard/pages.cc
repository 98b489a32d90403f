// The page builder: dashboard/pages.h. The sections themselves are in
// dashboard/pages_*.cc.
#include "dashboard/pages.h"

#include <string>
#include <utility>
#include <vector>

#include "dashboard/pages_internal.h"

namespace ohfed::dashboard {
namespace {

using internal::PageContext;

// England, then each enclosing region and ICS, then the page itself
// (without a link: it is where the reader is).
std::vector<Crumb> Breadcrumbs(const Registry& registry, const Scope& scope,
                               const Period& period) {
  std::vector<Scope> path = {Scope::National()};
  std::string region, ics;
  if (scope.level == Scope::Level::kRegion) region = scope.code;
  if (scope.level == Scope::Level::kIcs) {
    ics = scope.code;
    region = registry.FindIcs(ics)->region;
  }
  if (scope.level == Scope::Level::kTrust) {
    const Trust* trust = registry.FindTrust(scope.code);
    ics = trust->ics;
    region = trust->region;
  }
  if (!region.empty()) path.push_back({Scope::Level::kRegion, region});
  if (!ics.empty()) path.push_back({Scope::Level::kIcs, ics});
  if (scope.level == Scope::Level::kTrust) path.push_back(scope);

  std::vector<Crumb> crumbs;
  for (const Scope& s : path) {
    bool here = s == scope;
    crumbs.push_back({registry.NameOf(s), here ? "" : PagePath(s, period)});
  }
  return crumbs;
}

using SectionBuilder = absl::StatusOr<Section> (*)(const PageContext&);

}  // namespace

absl::StatusOr<Page> BuildPage(const QuerySource& source, const Scope& scope,
                               const Period& period) {
  const Registry& registry = source.registry();
  if (absl::Status known = registry.Check(scope); !known.ok()) return known;
  PageContext ctx{source, registry, scope, period};

  Page page;
  page.scope = scope;
  page.period = period;
  page.title = registry.NameOf(scope);
  page.breadcrumbs = Breadcrumbs(registry, scope, period);
  absl::StatusOr<ReportingStatus> status = internal::StatusOf(ctx);
  if (!status.ok()) return status.status();
  page.status = *std::move(status);

  for (SectionBuilder build : {
           &internal::WorkforceSection,
           &internal::ConsultantSection,
           &internal::CovidSection,
           &internal::ActivitySection,
           &internal::CompletenessSection,
       }) {
    absl::StatusOr<Section> section = build(ctx);
    if (!section.ok()) return section.status();
    page.sections.push_back(*std::move(section));
  }
  return page;
}

Period DefaultPeriod(absl::Time now) {
  Month month = Month::Containing(now) - 1;
  while (OnTimeDeadline(month) > now) month = month - 1;
  return Period::OfMonth(month);
}

}  // namespace ohfed::dashboard
