#include "agent/outliers.h"

#include <algorithm>
#include <limits>
#include <map>

#include "absl/strings/str_cat.h"

namespace ohfed::agent {
namespace {

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  size_t n = 0;
};

}  // namespace

std::vector<v1::RowProblem> OutlierWarnings(
    const v1::UnitSummary& month,
    const std::vector<const v1::UnitSummary*>& earlier) {
  std::map<std::string, Range> history;
  for (const v1::UnitSummary* s : earlier) {
    for (const v1::Cell& c : s->cells()) {
      if (c.buckets_size() > 0) continue;  // distributions: not a level
      Range& r = history[c.measure()];
      r.lo = std::min(r.lo, c.value());
      r.hi = std::max(r.hi, c.value());
      ++r.n;
    }
  }
  std::vector<v1::RowProblem> out;
  for (const v1::Cell& c : month.cells()) {
    auto it = history.find(c.measure());
    if (c.buckets_size() > 0 || it == history.end() ||
        it->second.n < kMinHistory) {
      continue;
    }
    const Range& r = it->second;
    std::string why;
    if (r.hi > 0 && c.value() > 2 * r.hi) {
      why = absl::StrCat("more than twice the highest (", r.hi, ")");
    } else if (r.lo > 0 && c.value() < 0.5 * r.lo) {
      why = absl::StrCat("less than half the lowest (", r.lo, ")");
    } else {
      continue;
    }
    v1::RowProblem p;
    p.set_period(month.period());
    p.set_column(c.measure());
    p.set_reason(absl::StrCat(month.period(), " ", c.measure(), " = ",
                              c.value(), " is ", why, " of the ", r.n,
                              " earlier months; please check"));
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace ohfed::agent
