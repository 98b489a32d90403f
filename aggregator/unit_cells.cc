#include "aggregator/unit_cells.h"

#include <algorithm>

#include "absl/container/node_hash_set.h"
#include "absl/synchronization/mutex.h"

namespace ohfed::aggregator {
namespace {

// The one copy of `measure` for the process. Codes come from the catalogue
// versions ingest validates against, so the set stays small.
const std::string* Intern(absl::string_view measure) {
  static auto* mu = new absl::Mutex;  // never freed: codes outlive every unit
  static auto* codes = new absl::node_hash_set<std::string>;
  absl::MutexLock l(mu);
  return &*codes->emplace(measure).first;
}

bool MeasureLess(const UnitCell& a, const UnitCell& b) {
  return a.measure() < b.measure();
}

}  // namespace

UnitCell UnitCells::Compact(const v1::Cell& cell) {
  UnitCell c;
  c.measure_ = Intern(cell.measure());
  c.value_ = cell.value();
  c.buckets_.reserve(cell.buckets_size());
  for (const v1::Bucket& b : cell.buckets()) {
    c.buckets_.push_back({b.value(), b.count()});
  }
  return c;
}

UnitCells::UnitCells(
    const google::protobuf::RepeatedPtrField<v1::Cell>& cells) {
  cells_.reserve(cells.size());
  for (const v1::Cell& c : cells) cells_.push_back(Compact(c));
  std::stable_sort(cells_.begin(), cells_.end(), MeasureLess);
  // Of equal measures the later one, as a map assignment would keep.
  auto last = std::unique(cells_.rbegin(), cells_.rend(),
                          [](const UnitCell& a, const UnitCell& b) {
                            return a.measure_ == b.measure_;
                          });
  cells_.erase(cells_.begin(), last.base());
  cells_.shrink_to_fit();
}

const UnitCell* UnitCells::Find(absl::string_view measure) const {
  auto it = std::lower_bound(
      cells_.begin(), cells_.end(), measure,
      [](const UnitCell& c, absl::string_view m) { return c.measure() < m; });
  return it != cells_.end() && it->measure() == measure ? &*it : nullptr;
}

void UnitCells::Set(const v1::Cell& cell) {
  UnitCell c = Compact(cell);
  auto it = std::lower_bound(cells_.begin(), cells_.end(), c, MeasureLess);
  if (it != cells_.end() && it->measure_ == c.measure_) {
    *it = std::move(c);
  } else {
    cells_.insert(it, std::move(c));
  }
}

}  // namespace ohfed::aggregator
