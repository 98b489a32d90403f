// Disclosure control of query rows (SPEC §7), applied in one place: the
// query engine's AddRow hands every row here before it is returned, so every
// output path (gRPC, CLI table/CSV/JSON, the dashboard) shows the same
// protected figures.
//
// Below national level, for measures the catalogue marks disclosive:
//   counts ("sum" of a count, "events" of a distribution): the primary rule
//     of common/disclosure.h, then the secondary pattern of
//     aggregator/disclosure_pattern.h (computed once per measure per query
//     over everything the aggregator covers);
//   mean, median, percentiles, min and max of a distribution: suppressed
//     when built on fewer than min_events events or when its event count
//     is suppressed (with the exact mean a suppressed count could be
//     solved for from its parent's mean);
//   every other statistic of a count across units (mean, median, min, max,
//     p25, p75): suppressed, because each reveals one unit's value or, with
//     n_units, the exact total.
// National rows and non-disclosive measures are exact.
//
// Not thread-safe; one per query.
#ifndef OHFED_AGGREGATOR_QUERY_DISCLOSURE_H_
#define OHFED_AGGREGATOR_QUERY_DISCLOSURE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "aggregator/disclosure_pattern.h"
#include "aggregator/view.h"
#include "common/disclosure.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator {

// One statistic as evaluated, before disclosure control.
struct RawStat {
  std::string stat;
  double value = 0;
  uint64_t events = 0;  // distributions: the events it is built on
};

class RowProtector {
 public:
  // `view` must outlive the protector. Patterns are those of `coverage`,
  // the aggregator's (aggregator/disclosure_pattern.h), taken from `shared`
  // when given (it must belong to this view, options and coverage).
  RowProtector(const View& view, const DisclosureOptions& options,
               const Scope& coverage,
               std::shared_ptr<PatternCache> shared = nullptr)
      : view_(view),
        options_(options),
        coverage_(coverage),
        shared_(std::move(shared)) {}

  // Whether rows of `m` for units at `level` are subject to the rule.
  static bool Applies(const Measure& m, Scope::Level level) {
    return m.disclosive && level != Scope::Level::kNational;
  }

  // Sets row.value and row.suppressed for statistic `s` of `m` for `unit`
  // over `period`.
  void Protect(const Measure& m, const Scope& unit, const Period& period,
               const RawStat& s, v1::Row& row);

 private:
  bool CountSuppressed(const Measure& m, const Scope& unit,
                       const Period& period, double count);

  const View& view_;
  const DisclosureOptions options_;
  const Scope coverage_;
  const std::shared_ptr<PatternCache> shared_;
  // By measure code: this query's, from `shared_` or computed.
  std::map<std::string, std::shared_ptr<const SuppressionPattern>> patterns_;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_QUERY_DISCLOSURE_H_
