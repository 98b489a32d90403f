// Typed values by catalogue code: the one place that turns an answer or a
// hand-entered value ("2.5", "yes", "acute") into summary cells, used by the
// profile importer and by `ohfed set`.
#ifndef OHFED_AGENT_VALUES_H_
#define OHFED_AGENT_VALUES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/catalogue.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::agent {

// What a code names, for entering values.
struct Target {
  std::string code;      // the code as given
  Frequency frequency;   // month or year
  bool is_enum = false;  // an enum question ("profile.host_type")
  const Measure* measure = nullptr;  // the measure, when not an enum
};

// Resolves a code that a value can be entered for: a number, count or bool
// measure, or an enum question. kNotFound for unknown codes;
// kInvalidArgument for distributions, derived measures and single options
// (enter the question instead: "profile.host_type acute").
absl::StatusOr<Target> ResolveTarget(const Catalogue& catalogue,
                                     absl::string_view code);

// The cells a value defines: one cell for scalars (yes/no -> 1/0), one per
// option for an enum question (the chosen one 1, the others 0). Errors are
// kInvalidArgument with a reason a user can act on, naming the value.
absl::StatusOr<std::vector<v1::Cell>> CellsForValue(const Catalogue& catalogue,
                                                    const Target& target,
                                                    absl::string_view text);

// Parses a finite decimal number; false for anything else.
bool ParseNumber(absl::string_view text, double* out);

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_VALUES_H_
