// Disclosure control (SPEC §7): NHS Digital's small-number rule for
// disclosive measures below national level, and secondary suppression over
// linked tables so that no suppressed cell can be recovered from published
// parents and siblings.
//
// Primary rule (thresholds are DisclosureOptions, defaults as the spec):
//   0 stays 0; 1..suppress_max becomes "*"; more is rounded to the nearest
//   rounding_base (halves up); totals are rounded from unrounded values; a
//   mean, median or percentile built on fewer than min_events events is
//   suppressed. National figures are exact.
//
// Secondary suppression (ProtectTable) works on a table of cells joined by
// additive equations (parent = Σ children). It models an attacker stronger
// than the one the audit in tests/aggregator/disclosure_audit_test.cc
// checks against: every published value stands for the interval it was
// rounded from, a primary "*" for [1, suppress_max], a secondary "*" for
// [suppress_max + 1, ∞) (the attacker is assumed to know which is which);
// exact cells for themselves. It tightens every cell's bounds by
// propagating them through all equations until nothing changes, and while
// some suppressed cell is left with too few possible whole values (more
// than min_possible_values, as a margin for what linear programming gets
// beyond propagation) it suppresses a complementary cell in one of that
// cell's equations, then propagates again. Zeros and exact cells are never
// suppressed, so a cell whose equations hold nothing else to hide stays as
// it is. The result is a deterministic function of the table.
//
// Plain functions and value types; thread-compatible.
#ifndef OHFED_COMMON_DISCLOSURE_H_
#define OHFED_COMMON_DISCLOSURE_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"

namespace ohfed {

struct DisclosureOptions {
  int suppress_max = 7;   // 1..suppress_max -> "*"
  int rounding_base = 5;  // above it, round to the nearest multiple
  int min_events = 8;     // fewer events: mean/median/percentiles "*"
  // A suppressed cell must keep at least this many possible values.
  int min_possible_values = 5;
  bool secondary = true;  // switched off only to show what it protects
};

// kInvalidArgument naming the option if a threshold is out of range
// (suppress_max >= 0, rounding_base >= 1, min_events >= 0,
// min_possible_values >= 1).
absl::Status CheckDisclosureOptions(const DisclosureOptions& options);

// What the primary rule makes of one count: suppressed, or the value shown.
struct Published {
  bool suppressed = false;
  double value = 0;
};
Published ApplyPrimaryRule(const DisclosureOptions& options, double count);
bool IsPrimarySuppressed(const DisclosureOptions& options, double count);

// One additive relation of a table: cells[parent] = Σ cells[children].
struct Equation {
  int parent = 0;
  std::vector<int> children;
};

// A table to protect. `values` are true (whole, >= 0) counts; `exact` marks
// cells published as they are (national), which are never suppressed.
struct Table {
  std::vector<double> values;
  std::vector<bool> exact;
  std::vector<Equation> equations;
  // Cells already suppressed by the pattern of a part of the table protected
  // on its own (a region's subtree inside England's): kept suppressed, and
  // protected like the rest. Empty, or the size of `values`; zeros and exact
  // cells in it are ignored.
  std::vector<bool> preset;
  // Cells that are never published: sums an attacker could form by
  // combining equations (April to December of a year links the calendar
  // year and the financial year). Unknown to the attacker ([0, ∞)), never
  // suppressed nor chosen as complements; they only let bound propagation
  // see through two equations at once. Empty, or the size of `values`.
  std::vector<bool> internal;
};

// The suppression pattern of the table: primary and preset cells, plus
// (with options.secondary) complementary cells chosen as described above.
// Same size as table.values.
std::vector<bool> ProtectTable(const Table& table,
                               const DisclosureOptions& options);

}  // namespace ohfed

#endif  // OHFED_COMMON_DISCLOSURE_H_
