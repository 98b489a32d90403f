// Pieces shared by the page builder's sections (dashboard/pages.cc and
// dashboard/pages_*.cc): asking the QuerySource, finding rows in its
// answers, and turning rows into cells. Internal to dashboard/.
//
// Every figure on a page is a row the source answered, already through
// disclosure control: a suppressed row becomes a "*" cell with no value, and
// no cell is ever computed from finer figures (that would undo the
// suppression).
#ifndef OHFED_DASHBOARD_PAGES_INTERNAL_H_
#define OHFED_DASHBOARD_PAGES_INTERNAL_H_

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "common/period.h"
#include "common/registry.h"
#include "dashboard/page_model.h"
#include "dashboard/query_source.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::dashboard::internal {

// What every section builder is given.
struct PageContext {
  const QuerySource& source;
  const Registry& registry;
  Scope scope;
  Period period;
};

// The rows of one answer, found by (unit, measure, stat). `unit` is as the
// rows name it: "national" or the unit's code.
class Answers {
 public:
  Answers() = default;
  explicit Answers(const v1::QueryResponse& response);
  // nullptr when the source gave no such row (no trust reported it).
  const v1::Row* Find(const std::string& unit, const std::string& measure,
                      const std::string& stat) const;

 private:
  std::map<std::tuple<std::string, std::string, std::string>, v1::Row> rows_;
};

// Asks the source for `prefix` over `scope` and `period`, broken down by
// `by` (the scope's own level: no breakdown). Empty `stats`: the defaults.
// A prefix the catalogue does not have gives no rows, not an error.
absl::StatusOr<Answers> Ask(const PageContext& ctx, const Scope& scope,
                            const Period& period, Scope::Level by,
                            const std::string& prefix,
                            const std::vector<std::string>& stats = {});

// The same, as the source answered it.
absl::StatusOr<v1::QueryResponse> AskRows(
    const PageContext& ctx, const Scope& scope, const Period& period,
    Scope::Level by, const std::string& prefix,
    const std::vector<std::string>& stats = {});

// The unit key rows use for `scope`.
std::string UnitKey(const Scope& scope);

// The levels a scope's figures are broken down by: national by region and by
// ICS, a region by ICS, an ICS by trust; a trust by nothing (empty).
std::vector<Scope::Level> ChildLevels(Scope::Level level);

// "region", "ICS", "trust" for captions; plural with an "s".
std::string LevelNoun(Scope::Level level);

// `value` with `decimals` places, never "-0".
std::string FormatNumber(double value, int decimals);

// A figure from a row: "" when absent, "*" (suppressed, no value) when
// suppressed, otherwise the value formatted with `decimals` places.
Cell FigureCell(const v1::Row* row, int decimals);
Cell SuppressedCell();  // "*", suppressed, no value
// The row's n_units as a figure ("" when absent); never suppressed, since
// the count of reporting units is public (completeness shows it too).
Cell UnitsCell(const v1::Row* row);
Cell TextCell(std::string text);
// A unit name linking to its page for `period`.
Cell LinkCell(const Registry& registry, const Scope& unit,
              const Period& period);

// A measure's label without the catalogue's "WTE in post: "-style prefix,
// first letter upper-case ("General nurses").
std::string ShortLabel(const Catalogue& catalogue, const std::string& code);

// The months a trend shows: the period's months, or for a single month the
// twelve months to it.
std::vector<Month> TrendMonths(const Period& period);

// The sections, in page order. Each fails only with the source's error.
absl::StatusOr<Section> WorkforceSection(const PageContext& ctx);
absl::StatusOr<Section> ConsultantSection(const PageContext& ctx);
absl::StatusOr<Section> CovidSection(const PageContext& ctx);
absl::StatusOr<Section> ActivitySection(const PageContext& ctx);
absl::StatusOr<Section> CompletenessSection(const PageContext& ctx);

// How many trusts have reported the period (dashboard/page_model.h).
absl::StatusOr<ReportingStatus> StatusOf(const PageContext& ctx);

}  // namespace ohfed::dashboard::internal

#endif  // OHFED_DASHBOARD_PAGES_INTERNAL_H_
