// What an aggregator covers (SPEC §6, `--covers`): the whole registry (the
// default, a national or single aggregator) or one region or ICS (a regional
// aggregator). Summaries from trusts outside the coverage are refused, and a
// query or completeness request outside it is refused rather than answered
// with partial figures: a regional aggregator never presents its trusts as
// England.
//
// Coverage is checked against the registry version the caller passes (the
// one in effect for the summary's month, or at the end of the queried
// period), so a later registry version does not move history.
//
// Immutable, so thread-safe.
#ifndef OHFED_AGGREGATOR_COVERAGE_H_
#define OHFED_AGGREGATOR_COVERAGE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/registry.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator {

class Coverage {
 public:
  // Everything: every check passes.
  Coverage() = default;

  // "" or "national" for everything, "region:CODE" or "ics:CODE".
  // kInvalidArgument for any other text or level (a trust is not a
  // coverage), kNotFound for a code `registry` does not know.
  static absl::StatusOr<Coverage> Parse(absl::string_view text,
                                        const Registry& registry);

  bool everything() const { return scope_.level == Scope::Level::kNational; }
  const Scope& scope() const { return scope_; }
  // "national" or the scope, e.g. "region:Y56".
  std::string ToString() const { return scope_.ToString(); }

  // OK if `trust` lies within the coverage in `registry`; otherwise
  // kFailedPrecondition whose message, for the sender, names the trust and
  // the coverage: "trust RJ1 (region:Y56) is outside this aggregator's
  // coverage (region:Y63)".
  absl::Status CheckTrust(absl::string_view trust,
                          const Registry& registry) const;

  // OK if every trust of `scope` (already validated against `registry`)
  // lies within the coverage; otherwise kFailedPrecondition, e.g. "this
  // aggregator covers region:Y56 only; ask the national aggregator for
  // national".
  absl::Status CheckScope(const Scope& scope, const Registry& registry) const;

 private:
  explicit Coverage(Scope scope) : scope_(std::move(scope)) {}
  Scope scope_;  // national: everything
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_COVERAGE_H_
