// Deterministic figures for the end-to-end benchmarks (issue 14): the same
// (trust, month, variant) always gives the same UnitSummary, so ohfed, the
// RocksDB baseline and PostgreSQL are loaded with identical values whatever
// order or subset each of them writes.
#ifndef OHFED_TESTS_BENCH_E2E_BENCH_DATA_H_
#define OHFED_TESTS_BENCH_E2E_BENCH_DATA_H_

#include <string>
#include <vector>

#include "common/catalogue.h"
#include "common/period.h"
#include "common/registry.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::bench {

// The loaded span: 60 months ending with September 2026 (ended months).
inline constexpr int kMonths = 60;
inline Month LastMonth() { return Month::Of(2026, 9); }
inline Month FirstMonth() { return LastMonth() - (kMonths - 1); }

// One trust-month with every monthly measure of the catalogue: staffing
// values, activity counts, staff seen and wait-day distributions. `variant`
// changes the figures (a revision that corrects the month).
v1::UnitSummary MonthSummary(const Catalogue& catalogue,
                             const std::string& trust, Month month,
                             int variant);

// England's trust codes in registry order, and each trust's region and ICS.
struct Orgs {
  std::vector<Trust> trusts;
  std::vector<std::string> icss;  // in registry order
};
Orgs EnglandOrgs();

// The measures a summary counts as cells: every cell (a distribution is one).
inline size_t CellCount(const v1::UnitSummary& s) { return s.cells_size(); }

}  // namespace ohfed::bench

#endif  // OHFED_TESTS_BENCH_E2E_BENCH_DATA_H_
