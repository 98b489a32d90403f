// Derived indicators (SPEC §3, "derived"), computed at any scope from the
// trusts within it; their single statistic is "value".
//
//   derived.staff_per_consultant    Σ staff_served / Σ consultant_om WTE
//   derived.consultant_gap_wte      Σ staff_served / 17500
//                                   − Σ consultant_om WTE
//   derived.specialist_nurse_share  nurse_specialist_oh WTE /
//   (nurse_specialist_oh
//                                   + nurse_general + nurse_mental_health) WTE
//   derived.critical_mass           trusts with consultant_om WTE ≥ 3
//
// Staffing is a stock: each trust's latest month in the period. staff_served
// is annual: each trust's latest year up to the end of the period (within
// kProfileLookbackYears), because the profile is returned once a year and a
// monthly query must still see it. The two staff_served ratios use only the
// trusts that reported both inputs, so a trust missing one does not skew
// the ratio; the nurse share uses trusts reporting any nursing group (an
// absent group counts as 0 WTE); critical_mass counts among trusts that
// reported consultant WTE.
#ifndef OHFED_AGGREGATOR_QUERY_DERIVED_H_
#define OHFED_AGGREGATOR_QUERY_DERIVED_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aggregator/view.h"
#include "common/period.h"

namespace ohfed::aggregator {

inline constexpr double kStaffPerConsultantStandard = 17500;
inline constexpr double kCriticalMassWte = 3;

struct DerivedValue {
  double value = 0;
  uint32_t n_units = 0;  // trusts the value is built on
};

// The indicator `code` over `trusts`; nullopt when no trust supplies its
// inputs, when a ratio's denominator is 0, or for an unknown code.
std::optional<DerivedValue> ComputeDerived(
    const View& view, const std::string& code,
    const std::vector<std::string>& trusts, const Period& period);

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_QUERY_DERIVED_H_
