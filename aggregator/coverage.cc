#include "aggregator/coverage.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/validation.h"

namespace ohfed::aggregator {

absl::StatusOr<Coverage> Coverage::Parse(absl::string_view text,
                                         const Registry& registry) {
  if (text.empty()) return Coverage();
  absl::StatusOr<Scope> scope = Scope::Parse(text);
  if (!scope.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--covers: ", scope.status().message()));
  }
  if (scope->level == Scope::Level::kTrust) {
    return absl::InvalidArgumentError(
        absl::StrCat("--covers ", scope->ToString(),
                     ": an aggregator covers national, region:CODE or "
                     "ics:CODE, not one trust"));
  }
  absl::Status known = registry.Check(*scope);
  if (!known.ok()) {
    return absl::Status(known.code(),
                        absl::StrCat("--covers: ", known.message()));
  }
  return Coverage(*std::move(scope));
}

absl::Status Coverage::CheckTrust(absl::string_view trust,
                                  const Registry& registry) const {
  if (everything() || registry.Contains(scope_, trust)) {
    return absl::OkStatus();
  }
  std::string where;
  if (registry.FindTrust(trust) != nullptr) {
    where = absl::StrCat(
        " (", registry.Enclosing(trust, scope_.level).ToString(), ")");
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "trust ", trust, where, " is outside this aggregator's coverage (",
      ToString(), "): send it to the aggregator for its region"));
}

absl::Status Coverage::CheckScope(const Scope& scope,
                                  const Registry& registry) const {
  if (everything()) return absl::OkStatus();
  bool inside = scope.level >= scope_.level;
  if (inside) {
    std::vector<std::string> trusts = registry.TrustsIn(scope);
    inside = !trusts.empty() &&
             std::all_of(trusts.begin(), trusts.end(), [&](const auto& t) {
               return registry.Contains(scope_, t);
             });
  }
  if (inside) return absl::OkStatus();
  std::string ask = scope.level == Scope::Level::kNational
                        ? "the national aggregator"
                        : "the aggregator that covers it or the national one";
  return absl::FailedPreconditionError(
      absl::StrCat("this aggregator covers ", ToString(), " only; ask ", ask,
                   " for ", scope.ToString()));
}

}  // namespace ohfed::aggregator
