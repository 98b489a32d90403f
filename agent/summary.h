// Derives a period's summary cells from its raw records (SPEC §3, §4). Only
// these cells leave the agent: no post id, subject reference or event date
// survives the computation.
//
//   staffing.wte.<group>        Σ wte of rows not vacant
//   staffing.vacant_wte.<group> Σ wte of vacant rows (0 if none; both are
//                               reported for every group present)
//   staffing.wte_basis.<basis>  Σ wte by basis, rows not vacant
//   activity.count.<activity>   events (for every client organisation: the
//                               OH service's own workload)
//   activity.staff_seen         distinct subject references in the month;
//                               absent when no row of the month has one
//                               (unknown, not zero)
//   activity.wait_days.<act.>   distribution: value = events with wait_days,
//                               buckets {days, events}
//   profile answers             bool 1/0, enum one cell per option, numbers
//   hand-entered values         replace the computed cells they define
#ifndef OHFED_AGENT_SUMMARY_H_
#define OHFED_AGENT_SUMMARY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/records.h"
#include "common/catalogue.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::agent {

// Cells sorted by measure code, so equal content gives equal bytes. Fails
// with kInvalidArgument if a stored answer no longer fits the catalogue or a
// total falls outside its measure's valid range.
absl::StatusOr<std::vector<v1::Cell>> ComputeCells(const Catalogue& catalogue,
                                                   const PeriodRecords& raw);

// The measures one row counts towards in ComputeCells, so that a warning
// about a cell can name the lines it came from.
std::vector<std::string> MeasuresOf(const StaffingRow& row);
std::vector<std::string> MeasuresOf(const ActivityRow& row);

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_SUMMARY_H_
