#include "tests/bench/e2e/bench_data.h"

#include <cstdint>

#include "absl/strings/match.h"
#include "tests/bench/lcg.h"

namespace ohfed::bench {
namespace {

uint64_t Seed(const std::string& trust, Month month, int variant) {
  uint64_t h = 1469598103934665603ull;
  for (char c : trust)
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h ^ (static_cast<uint64_t>(month.index()) << 20) ^
         static_cast<uint64_t>(variant);
}

}  // namespace

v1::UnitSummary MonthSummary(const Catalogue& catalogue,
                             const std::string& trust, Month month,
                             int variant) {
  Lcg rng(Seed(trust, month, variant));
  v1::UnitSummary s;
  s.set_trust(trust);
  s.set_period(month.ToString());
  s.set_revision(1);
  s.set_catalogue_version(catalogue.version());
  for (const Measure& m : catalogue.measures()) {
    if (m.frequency != Frequency::kMonth || m.type == ValueType::kDerived) {
      continue;
    }
    v1::Cell* c = s.add_cells();
    c->set_measure(m.code);
    if (m.type == ValueType::kDistribution) {
      AddDistribution(c, rng);
    } else if (absl::StartsWith(m.code, "staffing.")) {
      c->set_value(rng.Next(40) / 8.0);
    } else {
      c->set_value(rng.Next(200));
    }
  }
  return s;
}

Orgs EnglandOrgs() {
  auto registry = Registry::England();
  Orgs orgs;
  for (const std::string& code : registry->TrustsIn(Scope::National())) {
    orgs.trusts.push_back(*registry->FindTrust(code));
  }
  for (const Region& r : registry->regions()) {
    for (const std::string& ics : r.icss) orgs.icss.push_back(ics);
  }
  return orgs;
}

}  // namespace ohfed::bench
