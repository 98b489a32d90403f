#include "aggregator/query_derived.h"

#include "aggregator/query_values.h"

namespace ohfed::aggregator {
namespace {

constexpr char kConsultant[] = "staffing.wte.consultant_om";
constexpr char kNurseSpecialist[] = "staffing.wte.nurse_specialist_oh";
constexpr char kNurseGeneral[] = "staffing.wte.nurse_general";
constexpr char kNurseMentalHealth[] = "staffing.wte.nurse_mental_health";
constexpr char kStaffServed[] = "profile.staff_served";

// The trust's latest staffing WTE in the period, nullopt if unreported or
// the catalogue lacks the measure.
std::optional<double> Stock(const View& view, const std::string& trust,
                            const char* code, const Period& period) {
  const Measure* m = view.catalogue().Find(code);
  if (m == nullptr) return std::nullopt;
  return TrustScalar(view, trust, *m, period);
}

// Σ staff served and Σ consultant WTE over the trusts reporting both.
struct Coverage {
  double staff = 0, wte = 0;
  uint32_t n = 0;
};
Coverage StaffAndConsultants(const View& view,
                             const std::vector<std::string>& trusts,
                             const Period& period) {
  Coverage c;
  for (const std::string& trust : trusts) {
    auto wte = Stock(view, trust, kConsultant, period);
    auto staff =
        TrustAnnualUpTo(view, trust, kStaffServed, period.last().year());
    if (!wte || !staff) continue;
    c.staff += *staff;
    c.wte += *wte;
    ++c.n;
  }
  return c;
}

std::optional<DerivedValue> SpecialistNurseShare(
    const View& view, const std::vector<std::string>& trusts,
    const Period& period) {
  double specialist = 0, all = 0;
  uint32_t n = 0;
  for (const std::string& trust : trusts) {
    auto s = Stock(view, trust, kNurseSpecialist, period);
    auto g = Stock(view, trust, kNurseGeneral, period);
    auto mh = Stock(view, trust, kNurseMentalHealth, period);
    if (!s && !g && !mh) continue;
    specialist += s.value_or(0);
    all += s.value_or(0) + g.value_or(0) + mh.value_or(0);
    ++n;
  }
  if (n == 0 || all == 0) return std::nullopt;
  return DerivedValue{specialist / all, n};
}

std::optional<DerivedValue> CriticalMass(const View& view,
                                         const std::vector<std::string>& trusts,
                                         const Period& period) {
  DerivedValue out;
  for (const std::string& trust : trusts) {
    auto wte = Stock(view, trust, kConsultant, period);
    if (!wte) continue;
    ++out.n_units;
    if (*wte >= kCriticalMassWte) out.value += 1;
  }
  if (out.n_units == 0) return std::nullopt;
  return out;
}

}  // namespace

std::optional<DerivedValue> ComputeDerived(
    const View& view, const std::string& code,
    const std::vector<std::string>& trusts, const Period& period) {
  if (code == "derived.staff_per_consultant") {
    Coverage c = StaffAndConsultants(view, trusts, period);
    if (c.n == 0 || c.wte == 0) return std::nullopt;
    return DerivedValue{c.staff / c.wte, c.n};
  }
  if (code == "derived.consultant_gap_wte") {
    Coverage c = StaffAndConsultants(view, trusts, period);
    if (c.n == 0) return std::nullopt;
    return DerivedValue{c.staff / kStaffPerConsultantStandard - c.wte, c.n};
  }
  if (code == "derived.specialist_nurse_share") {
    return SpecialistNurseShare(view, trusts, period);
  }
  if (code == "derived.critical_mass")
    return CriticalMass(view, trusts, period);
  return std::nullopt;
}

}  // namespace ohfed::aggregator
