// Query planning and evaluation. A request becomes a Plan (validated scope,
// period, breakdown level, measures, statistics); each (measure, unit) pair
// is evaluated into statistics, and every Row is built in AddRow, where
// disclosure control (SPEC §7, aggregator/query_disclosure.h) is applied in
// one place.
//
// Rows come measure by measure (catalogue order), then unit by unit
// (registry order), then statistic by statistic (request order, or the
// measure's defaults), so the units of a breakdown sit next to each other.
#include "aggregator/query_engine.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/disclosure_pattern.h"
#include "aggregator/query_derived.h"
#include "aggregator/query_disclosure.h"
#include "aggregator/query_grid.h"
#include "aggregator/query_row_out.h"
#include "aggregator/query_stats.h"
#include "aggregator/query_values.h"
#include "aggregator/query_wire.h"
#include "common/status.h"

namespace ohfed::aggregator {
namespace {

struct Plan {
  Scope scope;
  Period period = Period::OfMonth(Month());
  Scope::Level by = Scope::Level::kNational;
  std::vector<const Measure*> measures;
  std::vector<std::string> stats;  // empty: each measure's defaults
};

// One statistic of one measure for one unit, before it becomes a Row.
struct StatResult {
  std::string stat;
  double value = 0;
  uint32_t n_units = 0;
  uint64_t events = 0;  // distributions: events in the pool
};

absl::Status Prefixed(absl::string_view field, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(field, ": ", s.message()));
}

absl::StatusOr<Scope::Level> ParseBy(const std::string& by,
                                     const Scope& scope) {
  if (by.empty() || by == "self") return scope.level;
  auto level = Scope::ParseLevel(by);
  if (!level.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "by: unknown level '", by, "'; expected self, region, ics or trust"));
  }
  if (*level < scope.level) {
    return absl::InvalidArgumentError(
        absl::StrCat("by: level '", by, "' is above scope '", scope.ToString(),
                     "'; break a scope down, not up"));
  }
  return *level;
}

// Below national, disclosive measures are protected over months, quarters,
// years and financial years only (aggregator/disclosure_pattern.h): two
// overlapping ranges could otherwise be subtracted to recover a suppressed
// month.
absl::Status CheckPublishablePeriod(const Plan& plan) {
  if (plan.by == Scope::Level::kNational || IsStandardPeriod(plan.period)) {
    return absl::OkStatus();
  }
  for (const Measure* m : plan.measures) {
    if (!RowProtector::Applies(*m, plan.by)) continue;
    return absl::InvalidArgumentError(absl::StrCat(
        "period: '", plan.period.ToString(),
        "' is not a month, quarter, year or financial year; below national "
        "level disclosive measures (e.g. ",
        m->code,
        ") are published only for those (SPEC §7); ask for national, or "
        "narrow --measures to staffing or profile"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Plan> MakePlan(const View& view, const v1::QueryRequest& req,
                              const QueryOptions& options) {
  Plan plan;
  OHFED_RETURN_IF_ERROR(CheckFieldLength("scope", req.scope()));
  OHFED_RETURN_IF_ERROR(CheckFieldLength("period", req.period()));
  OHFED_RETURN_IF_ERROR(CheckFieldLength("by", req.by()));
  OHFED_RETURN_IF_ERROR(CheckFieldLength("measures", req.measure_prefix()));
  // No scope: all the aggregator covers (national unless --covers).
  auto scope = Scope::Parse(req.scope().empty() ? options.coverage.ToString()
                                                : req.scope());
  if (!scope.ok()) return Prefixed("scope", scope.status());
  plan.scope = *scope;
  auto period = Period::Parse(req.period());
  if (!period.ok()) return Prefixed("period", period.status());
  plan.period = *period;
  OHFED_RETURN_IF_ERROR(CheckPeriodSpan(plan.period));
  const Registry& registry = view.RegistryAt(plan.period.last());
  OHFED_RETURN_IF_ERROR(registry.Check(plan.scope));
  OHFED_RETURN_IF_ERROR(options.coverage.CheckScope(plan.scope, registry));
  OHFED_ASSIGN_OR_RETURN(plan.by, ParseBy(req.by(), plan.scope));
  OHFED_ASSIGN_OR_RETURN(plan.stats, DistinctStats(req.stats()));
  plan.measures = view.catalogue().WithPrefix(req.measure_prefix());
  if (plan.measures.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "measures: no measure matches prefix '", req.measure_prefix(), "'"));
  }
  OHFED_RETURN_IF_ERROR(CheckPublishablePeriod(plan));
  return plan;
}

std::vector<std::string> StatsFor(const Plan& plan, const Measure& m) {
  if (plan.stats.empty()) return DefaultStats(m);
  std::vector<std::string> out;
  for (const std::string& s : plan.stats) {
    if (StatApplies(s, m)) out.push_back(s);
  }
  return out;
}

// Whether a node's totals can be read from View::Rollup: rollups exist for
// national, region and ICS nodes, for monthly measures whose months add up
// (flows) or pool (distributions).
bool UsesRollup(const Scope& unit, const Measure& m) {
  if (unit.level == Scope::Level::kTrust || m.frequency != Frequency::kMonth) {
    return false;
  }
  return (m.across_units == UnitAggregation::kSum &&
          m.across_time == TimeAggregation::kSum) ||
         (m.across_units == UnitAggregation::kPool &&
          m.across_time == TimeAggregation::kPool);
}

std::vector<double> TrustValues(const UnitGrid& grid,
                                const std::vector<int>& rows,
                                const Measure& m) {
  std::vector<double> values;
  for (int row : rows) {
    if (auto v = grid.Scalar(row, m)) values.push_back(*v);
  }
  return values;
}

// One unit of the breakdown as the query reads it: its trusts' rows in the
// grid, and its Scope string for the rollups.
struct UnitRef {
  const Scope* scope;
  const std::vector<std::string>* trusts;
  std::vector<int> rows;
  std::string node;  // scope->ToString()
};

std::vector<StatResult> EvaluateDistribution(
    const UnitGrid& grid, const UnitRef& unit, const Measure& m,
    const std::vector<std::string>& stats) {
  Buckets pool;
  uint32_t n = 0;
  if (UsesRollup(*unit.scope, m)) {
    NodeTotal total = grid.RollupTotal(unit.node, unit.rows, m);
    pool = std::move(total.buckets);
    n = total.n_units;
  } else {
    for (int row : unit.rows) {
      auto buckets = grid.Pool(row, m);
      if (!buckets) continue;
      for (const auto& [value, count] : *buckets) pool[value] += count;
      ++n;
    }
  }
  std::vector<StatResult> out;
  if (n == 0) return out;
  uint64_t events = 0;
  for (const auto& [value, count] : pool) events += count;
  for (const std::string& s : stats) {
    if (auto v = DistributionStat(s, pool)) out.push_back({s, *v, n, events});
  }
  return out;
}

std::vector<StatResult> EvaluateScalar(const UnitGrid& grid,
                                       const UnitRef& unit, const Measure& m,
                                       const std::vector<std::string>& stats) {
  std::optional<std::vector<double>> values;  // per trust, computed on demand
  std::vector<StatResult> out;
  for (const std::string& s : stats) {
    if (s == "sum" && UsesRollup(*unit.scope, m)) {
      NodeTotal total = grid.RollupTotal(unit.node, unit.rows, m);
      if (total.n_units > 0) out.push_back({s, total.sum, total.n_units});
      continue;
    }
    if (!values) values = TrustValues(grid, unit.rows, m);
    auto n = static_cast<uint32_t>(values->size());
    std::optional<double> v =
        m.is_yes_no() ? YesNoStat(s, *values) : ScalarStat(s, *values);
    if (v) out.push_back({s, *v, n});
  }
  return out;
}

// `stats`: StatsFor(plan, m), made once per measure.
std::vector<StatResult> Evaluate(const UnitGrid& grid, const Plan& plan,
                                 const UnitRef& unit, const Measure& m,
                                 const std::vector<std::string>& stats) {
  if (stats.empty()) return {};
  switch (m.type) {
    case ValueType::kDerived: {
      auto d = ComputeDerived(grid.view(), m.code, *unit.trusts, plan.period);
      if (!d) return {};
      return {{"value", d->value, d->n_units}};
    }
    case ValueType::kDistribution:
      return EvaluateDistribution(grid, unit, m, stats);
    default:
      return EvaluateScalar(grid, unit, m, stats);
  }
}

// The one place a row is made (see the file comment). Rows built on no
// reporting trust are never added. `value`: scratch for what disclosure
// control makes of the value (Protect sets both fields it reads).
void AddRow(const RowText& text, size_t u, const Plan& plan, const Scope& unit,
            const Measure& m, const StatResult& r, RowProtector& protector,
            v1::Row& value, RowOut& out) {
  if (r.n_units == 0) return;
  protector.Protect(m, unit, plan.period, {r.stat, r.value, r.events}, value);
  out.Add(text, u, m.code, r.stat, value, r.n_units);
}

absl::Status Run(const View& view, const v1::QueryRequest& request,
                 const QueryOptions& options, RowOut& out);

}  // namespace

absl::StatusOr<v1::QueryResponse> RunQuery(const View& view,
                                           const v1::QueryRequest& request,
                                           const QueryOptions& options) {
  v1::QueryResponse response;
  OHFED_RETURN_IF_ERROR(RunQuery(view, request, options, &response));
  return response;
}

absl::Status RunQuery(const View& view, const v1::QueryRequest& request,
                      const QueryOptions& options, v1::QueryResponse* out) {
  out->Clear();
  RowOut rows(out, request.compact());
  return Run(view, request, options, rows);
}

absl::Status SerializeQuery(const View& view, const v1::QueryRequest& request,
                            const QueryOptions& options, std::string* bytes) {
  bytes->clear();
  RowOut rows(bytes, request.compact());
  return Run(view, request, options, rows);
}

namespace {

absl::Status Run(const View& view, const v1::QueryRequest& request,
                 const QueryOptions& options, RowOut& out) {
  OHFED_ASSIGN_OR_RETURN(Plan plan, MakePlan(view, request, options));
  // Units are those of the registry in effect at the end of the period.
  const Registry& registry = view.RegistryAt(plan.period.last());
  std::vector<Scope> units = plan.by == plan.scope.level
                                 ? std::vector<Scope>{plan.scope}
                                 : registry.Children(plan.scope, plan.by);
  // A unit's trusts, names and held units are looked up once, not once per
  // measure.
  UnitGrid grid(view, plan.period, options.patterns.get());
  grid.Expect(plan.measures);
  std::vector<std::vector<std::string>> trusts;
  trusts.reserve(units.size());
  std::vector<UnitRef> refs;
  refs.reserve(units.size());
  RowText text{plan.scope.ToString(), plan.period.ToString(), {}};
  for (const Scope& unit : units) trusts.push_back(registry.TrustsIn(unit));
  size_t rows = 0;
  for (const auto& t : trusts) rows += t.size();
  grid.Reserve(rows);
  for (size_t u = 0; u < units.size(); ++u) {
    const Scope& unit = units[u];
    refs.push_back({&unit, &trusts[u], grid.Rows(trusts[u]), unit.ToString()});
    text.units.emplace_back(
        unit.level == Scope::Level::kNational ? "national" : unit.code,
        registry.NameOf(unit));
    if (out.wants_heads()) {
      std::string& head = text.heads.emplace_back();
      wire::String(1, text.scope, &head);
      wire::String(2, text.units.back().first, &head);
      wire::String(3, text.units.back().second, &head);
      wire::String(4, text.period, &head);
    }
  }
  RowProtector protector(view, options.disclosure, options.coverage.scope(),
                         options.patterns);
  CancellationPoll cancellation(options);
  v1::Row value;
  out.Reserve(units.size() * plan.measures.size(),
              text.scope.size() + text.period.size() + 64 +
                  (text.heads.empty() ? 0 : text.heads[0].size()));
  for (const Measure* m : plan.measures) {
    const std::vector<std::string> stats = StatsFor(plan, *m);
    for (size_t u = 0; u < units.size(); ++u) {
      // One (measure, unit) pair is a bounded piece of work: between two,
      // stop for a caller that has gone and for an answer grown too large.
      OHFED_RETURN_IF_ERROR(cancellation.Check());
      for (const StatResult& r : Evaluate(grid, plan, refs[u], *m, stats)) {
        AddRow(text, u, plan, units[u], *m, r, protector, value, out);
      }
      if (out.rows() > options.max_rows) return TooManyRows(options.max_rows);
    }
  }
  out.Finish(view.catalogue().version(), registry.version());
  return absl::OkStatus();
}

}  // namespace

}  // namespace ohfed::aggregator
