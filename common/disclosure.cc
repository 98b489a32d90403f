#include "common/disclosure.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace ohfed {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Bound propagation converges (bounds are whole and only tighten), but a
// long chain can tighten by one per pass; this caps the passes.
constexpr int kMaxPasses = 200;

double RoundToBase(double count, int base) {
  return std::floor(count / base + 0.5) * base;
}

bool IsInternal(const Table& t, size_t i) {
  return !t.internal.empty() && t.internal[i];
}

// What an attacker knows of one cell before combining equations.
struct Bounds {
  std::vector<double> lo, hi;
};

Bounds PublishedBounds(const Table& t, const std::vector<bool>& suppressed,
                       const DisclosureOptions& o) {
  const size_t n = t.values.size();
  Bounds b{std::vector<double>(n), std::vector<double>(n)};
  for (size_t i = 0; i < n; ++i) {
    const double v = t.values[i];
    if (IsInternal(t, i)) {
      b.lo[i] = 0;
      b.hi[i] = kInf;
    } else if (t.exact[i] || v == 0) {
      b.lo[i] = b.hi[i] = v;
    } else if (suppressed[i]) {
      bool primary = IsPrimarySuppressed(o, v);
      b.lo[i] = primary ? 1 : o.suppress_max + 1;
      b.hi[i] = primary ? o.suppress_max : kInf;
    } else {
      // The whole numbers that round to r.
      double r = RoundToBase(v, o.rounding_base);
      b.lo[i] = std::max<double>(std::ceil(r - o.rounding_base / 2.0),
                                 o.suppress_max + 1);
      b.hi[i] = std::ceil(r + o.rounding_base / 2.0) - 1;
    }
  }
  return b;
}

// Σ of some bounds, with infinities counted apart so that "the sum of the
// others" can be taken without inf - inf.
struct Sum {
  double finite = 0;
  int infinite = 0;
  void Add(double x) {
    if (std::isinf(x)) {
      ++infinite;
    } else {
      finite += x;
    }
  }
  double Without(double x) const {
    if (std::isinf(x)) return infinite > 1 ? kInf : finite;
    return infinite > 0 ? kInf : finite - x;
  }
  double Total() const { return infinite > 0 ? kInf : finite; }
};

bool Tighten(double& bound, double candidate, bool is_lower) {
  candidate =
      is_lower ? std::ceil(candidate - 1e-9) : std::floor(candidate + 1e-9);
  if (is_lower ? candidate > bound : candidate < bound) {
    bound = candidate;
    return true;
  }
  return false;
}

// Interval propagation through one equation; calls moved(cell) for each
// cell whose bound tightened.
template <typename OnMove>
void Propagate(const Equation& e, Bounds& b, OnMove moved) {
  Sum lo, hi;
  for (int c : e.children) {
    lo.Add(b.lo[c]);
    hi.Add(b.hi[c]);
  }
  if (Tighten(b.lo[e.parent], lo.Total(), true) |
      Tighten(b.hi[e.parent], hi.Total(), false)) {
    moved(e.parent);
  }
  for (int c : e.children) {
    bool m = Tighten(b.lo[c], b.lo[e.parent] - hi.Without(b.hi[c]), true);
    if (!std::isinf(b.hi[e.parent])) {
      m |= Tighten(b.hi[c], b.hi[e.parent] - lo.Without(b.lo[c]), false);
    }
    if (m) moved(c);
  }
}

// Propagates until no bound moves, revisiting only the equations of cells
// that moved (a work list), each at most kMaxPasses times over.
Bounds AttackBounds(const Table& t, const std::vector<std::vector<int>>& eqs_of,
                    const std::vector<bool>& suppressed,
                    const DisclosureOptions& o) {
  Bounds b = PublishedBounds(t, suppressed, o);
  const size_t n_eq = t.equations.size();
  std::vector<int> queue(n_eq);
  std::vector<bool> queued(n_eq, true);
  for (size_t e = 0; e < n_eq; ++e) queue[e] = static_cast<int>(e);
  size_t budget = n_eq * kMaxPasses;
  for (size_t head = 0; head < queue.size() && budget > 0; ++head, --budget) {
    int e = queue[head];
    queued[e] = false;
    Propagate(t.equations[e], b, [&](int cell) {
      for (int other : eqs_of[cell]) {
        if (!queued[other]) {
          queued[other] = true;
          queue.push_back(other);
        }
      }
    });
  }
  return b;
}

// Propagation sees each equation on its own; linear programming combines
// them and can pin a cell more narrowly. The heuristic therefore asks for a
// margin beyond min_possible_values: a primary cell must keep
// kPrimaryMargin more values of its [1, suppress_max] (capped there), a
// secondary one kSecondaryFactor times as many.
constexpr int kPrimaryMargin = 2;
constexpr int kSecondaryFactor = 2;

bool Exposed(const Table& t, const Bounds& b, int i,
             const DisclosureOptions& o) {
  double wanted =
      IsPrimarySuppressed(o, t.values[i])
          ? std::min(o.min_possible_values + kPrimaryMargin, o.suppress_max)
          : o.min_possible_values * kSecondaryFactor;
  return b.hi[i] - b.lo[i] + 1 < wanted;
}

// The best complement for `cell` among the other cells of the equations it
// belongs to, or -1. A complement must be able to move by the protection
// wanted (value above its secondary floor by min_possible_values - 1); the
// smallest such, a sibling before a parent, loses least information. Failing
// that, the largest candidate.
int ChooseComplement(const Table& t, const std::vector<bool>& suppressed,
                     const std::vector<std::vector<int>>& eqs_of, int cell,
                     const DisclosureOptions& o) {
  const double wanted = o.suppress_max + o.min_possible_values;
  int best = -1, fallback = -1;
  auto better = [&](int a, int b, bool a_parent, bool b_parent) {
    if (b < 0) return true;
    if (a_parent != b_parent) return !a_parent;
    return t.values[a] < t.values[b] || (t.values[a] == t.values[b] && a < b);
  };
  bool best_parent = false;
  for (int e_index : eqs_of[cell]) {
    const Equation& e = t.equations[e_index];
    std::vector<int> cells = e.children;
    cells.push_back(e.parent);
    for (int c : cells) {
      if (c == cell || suppressed[c] || t.exact[c] || t.values[c] <= 0 ||
          IsInternal(t, c)) {
        continue;
      }
      bool is_parent = c == e.parent;
      if (t.values[c] >= wanted) {
        if (better(c, best, is_parent, best_parent)) {
          best = c;
          best_parent = is_parent;
        }
      } else if (fallback < 0 || t.values[c] > t.values[fallback]) {
        fallback = c;
      }
    }
  }
  return best >= 0 ? best : fallback;
}

}  // namespace

absl::Status CheckDisclosureOptions(const DisclosureOptions& o) {
  auto bad = [](const char* name, int v) {
    return absl::InvalidArgumentError(
        absl::StrCat("disclosure option ", name, " out of range: ", v));
  };
  if (o.suppress_max < 0) return bad("suppress_max", o.suppress_max);
  if (o.rounding_base < 1) return bad("rounding_base", o.rounding_base);
  if (o.min_events < 0) return bad("min_events", o.min_events);
  if (o.min_possible_values < 1) {
    return bad("min_possible_values", o.min_possible_values);
  }
  return absl::OkStatus();
}

bool IsPrimarySuppressed(const DisclosureOptions& o, double count) {
  return count > 0 && count <= o.suppress_max;
}

Published ApplyPrimaryRule(const DisclosureOptions& o, double count) {
  if (count == 0) return {false, 0};
  if (IsPrimarySuppressed(o, count)) return {true, 0};
  return {false, RoundToBase(count, o.rounding_base)};
}

std::vector<bool> ProtectTable(const Table& t, const DisclosureOptions& o) {
  const int n = static_cast<int>(t.values.size());
  std::vector<bool> suppressed(n, false);
  for (int i = 0; i < n; ++i) {
    const bool preset = !t.preset.empty() && t.preset[i] && t.values[i] > 0;
    suppressed[i] = !t.exact[i] && !IsInternal(t, i) &&
                    (preset || IsPrimarySuppressed(o, t.values[i]));
  }
  if (!o.secondary) return suppressed;
  std::vector<std::vector<int>> eqs_of(n);
  for (size_t e = 0; e < t.equations.size(); ++e) {
    eqs_of[t.equations[e].parent].push_back(static_cast<int>(e));
    for (int c : t.equations[e].children) {
      eqs_of[c].push_back(static_cast<int>(e));
    }
  }
  std::vector<bool> hopeless(n, false);  // no complement left to add
  for (;;) {
    Bounds b = AttackBounds(t, eqs_of, suppressed, o);
    // The bounds are those before this pass: a cell suppressed in it is
    // judged in the next.
    const std::vector<bool> before = suppressed;
    std::vector<int> added;
    for (int i = 0; i < n; ++i) {
      if (!before[i] || hopeless[i] || !Exposed(t, b, i, o)) continue;
      int c = ChooseComplement(t, suppressed, eqs_of, i, o);
      if (c < 0) {
        hopeless[i] = true;
        continue;
      }
      suppressed[c] = true;
      added.push_back(c);
    }
    if (added.empty()) return suppressed;
  }
}

}  // namespace ohfed
