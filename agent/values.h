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

// The catalogue's spelling of a code typed by a person ("Nurse_General" in
// "staffing.wte.Nurse_General"): the code as typed if the catalogue has it,
// otherwise lower-cased. Case is ignored only because it cannot make a match
// ambiguous: Catalogue::Parse admits lower-case codes only, so no two codes
// differ only by case. Unknown codes come back lower-cased (and stay
// unknown to Find).
std::string CanonicalCode(const Catalogue& catalogue, absl::string_view code);

// What a code names, for entering values.
struct Target {
  std::string code;                  // the catalogue's spelling (CanonicalCode)
  Frequency frequency;               // month or year
  bool is_enum = false;              // an enum question ("profile.host_type")
  const Measure* measure = nullptr;  // the measure, when not an enum
};

// Resolves a code that a value can be entered for: a number, count or bool
// measure, or an enum question, ignoring case as CanonicalCode does (store
// Target::code, not the code as typed). kNotFound for unknown codes;
// kInvalidArgument for distributions, derived measures and single options
// (enter the question instead: "profile.host_type acute").
absl::StatusOr<Target> ResolveTarget(const Catalogue& catalogue,
                                     absl::string_view code);

// The cells a value defines: one cell for scalars (yes/no -> 1/0), one per
// option for an enum question (the chosen one 1, the others 0). Spaces and
// tabs around the value are ignored, as in import files (TrimSpaces); case is
// ignored in yes/no and option names. Errors are
// kInvalidArgument with a reason a user can act on, naming the value.
absl::StatusOr<std::vector<v1::Cell>> CellsForValue(const Catalogue& catalogue,
                                                    const Target& target,
                                                    absl::string_view text);

// Parses a plain decimal number: an optional '-', digits, optionally a '.'
// and more digits ("2", "0.5", ".5", "-1"). False for anything else, e.g.
// "0x10", "1e3", "inf", "nan", "1,0", "+1" or a number with a non-breaking
// space; callers trim ordinary spaces beforehand (CsvTable::Field does).
bool ParseNumber(absl::string_view text, double* out);
// The same for whole numbers ("14", "-1"); false beyond nine digits.
bool ParseWholeNumber(absl::string_view text, int* out);

// The reason for refusing `text` as a number, quoting a bounded excerpt of
// it and pointing out characters a person cannot see.
std::string NotANumber(absl::string_view text);

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_VALUES_H_
