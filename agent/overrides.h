// Hand-entered values (`ohfed set`) against the records they override
// (SPEC §4: shown as such, clearable, and never contradicting the rest of
// the summary).
//
// Consistency rule, chosen over overriding both: a hand-entered
// activity.count.<a> may not be below the events of <a> that have a wait
// time recorded (the value of activity.wait_days.<a>), because the
// wait-time distribution is built from those events and would then claim
// more events than the count. A count at or above them is consistent (some
// events have no wait time). The distribution itself cannot be entered by
// hand (agent/values.h), so the rule is checked both when a count is set
// and when an import changes the distribution under a set count.
#ifndef OHFED_AGENT_OVERRIDES_H_
#define OHFED_AGENT_OVERRIDES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "agent/records.h"
#include "common/catalogue.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::agent {

// kInvalidArgument naming the period, the measure and both figures if a
// hand-entered count in `records` contradicts its wait-time distribution in
// `cells` (the period's computed cells).
absl::Status CheckOverrides(const std::string& period,
                            const PeriodRecords& records,
                            const std::vector<v1::Cell>& cells);

// One warning (no line, column = measure) per hand-entered value in
// `records` that hides a different figure the imported records give, so
// that an import into an overridden month says why its figure does not
// show. Empty if there is nothing hand-entered.
std::vector<v1::RowProblem> HiddenImports(const Catalogue& catalogue,
                                          const std::string& period,
                                          const PeriodRecords& records);

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_OVERRIDES_H_
