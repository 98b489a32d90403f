// The cells of one held unit summary, kept compactly: the aggregator holds
// every unit of every trust and month in memory (issue 14 measured ~58 KiB
// per trust-month when they were protobuf Cells in a hash map by measure,
// against ~3.5 KiB serialized), so a cell here is a value, its measure code
// interned (one copy per code for the process) and, for distributions, a
// flat array of buckets, sorted by measure for lookup.
//
// Immutable once built, so safe to read from any thread.
#ifndef OHFED_AGGREGATOR_UNIT_CELLS_H_
#define OHFED_AGGREGATOR_UNIT_CELLS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator {

// One measure's cell: the accessors of v1::Cell that readers use.
class UnitCell {
 public:
  struct Bucket {
    double value() const { return value_; }
    uint64_t count() const { return count_; }
    double value_ = 0;
    uint64_t count_ = 0;
  };
  const std::string& measure() const { return *measure_; }
  double value() const { return value_; }
  absl::Span<const Bucket> buckets() const { return buckets_; }

 private:
  friend class UnitCells;
  const std::string* measure_ = nullptr;  // interned, never freed
  double value_ = 0;
  std::vector<Bucket> buckets_;
};

class UnitCells {
 public:
  using const_iterator = std::vector<UnitCell>::const_iterator;

  UnitCells() = default;
  // The cells of a summary; of two cells for one measure, the later wins.
  explicit UnitCells(const google::protobuf::RepeatedPtrField<v1::Cell>& cells);

  // nullptr when the unit has no cell for `measure`.
  const UnitCell* Find(absl::string_view measure) const;
  // Holds `cell` in place of any cell of its measure (building test views).
  void Set(const v1::Cell& cell);

  const_iterator begin() const { return cells_.begin(); }
  const_iterator end() const { return cells_.end(); }
  size_t size() const { return cells_.size(); }
  bool empty() const { return cells_.empty(); }

 private:
  static UnitCell Compact(const v1::Cell& cell);
  std::vector<UnitCell> cells_;  // sorted by measure, one per measure
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_UNIT_CELLS_H_
