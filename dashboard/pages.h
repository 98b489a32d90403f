// Builds dashboard pages (dashboard/page_model.h) from query answers: the
// questions of the two seed documents for one scope and period (issue 12).
//
// Every page: the workforce table in the style of the survey's Table 1 (per
// staff group: total WTE, mean WTE per reporting service, services
// reporting, vacancies); staff per consultant, consultant gap WTE and
// critical mass by child unit, charted with the 15,000-20,000 band; the
// Covid-involvement table in the style of Table 2; monthly activity trends
// and waiting-time median and 90th percentile; completeness and timeliness as
// a trusts x months grid with counts per child unit. A national page's child
// units are regions (and ICSs), a region's its ICSs, an ICS's its trusts side
// by side; every unit name links one level down.
#ifndef OHFED_DASHBOARD_PAGES_H_
#define OHFED_DASHBOARD_PAGES_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/period.h"
#include "common/registry.h"
#include "dashboard/page_model.h"
#include "dashboard/query_source.h"

namespace ohfed::dashboard {

// kNotFound for a scope the registry does not know; the source's error
// (e.g. kFailedPrecondition outside the coverage) otherwise.
absl::StatusOr<Page> BuildPage(const QuerySource& source, const Scope& scope,
                               const Period& period);

// The period a page shows when none is asked for: the latest month whose
// reporting deadline (the 15th of the following month) has passed at `now`.
Period DefaultPeriod(absl::Time now);

}  // namespace ohfed::dashboard

#endif  // OHFED_DASHBOARD_PAGES_H_
