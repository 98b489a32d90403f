// Min–max outlier warnings against the unit's own history (SPEC §4).
//
// Rule: for a month's scalar cell, take the same measure in the unit's
// earlier months. With at least kMinHistory of them, warn when the value is
// more than twice the highest (highest > 0) or less than half the lowest
// (lowest > 0). Warnings never block an import; they ask a person to look.
#ifndef OHFED_AGENT_OUTLIERS_H_
#define OHFED_AGENT_OUTLIERS_H_

#include <string>
#include <vector>

#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::agent {

inline constexpr size_t kMinHistory = 3;

// `month` is the month's summary; `earlier` the unit's summaries of earlier
// months (any order). One warning per outlying cell: period = the month,
// column = the measure, line 0 (NameLines in agent/importer.h fills it in
// for an import).
std::vector<v1::RowProblem> OutlierWarnings(
    const v1::UnitSummary& month,
    const std::vector<const v1::UnitSummary*>& earlier);

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_OUTLIERS_H_
