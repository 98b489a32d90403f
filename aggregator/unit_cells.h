// The cells of one held unit summary, kept compactly: the aggregator holds
// every unit of every trust and month in memory (issue 14 measured ~58 KiB
// per trust-month when they were protobuf Cells in a hash map by measure,
// against ~3.5 KiB serialized).
//
// A unit's cells and their buckets live in one allocation of 16-byte slots:
// the cells sorted by measure, a sentinel, then every cell's buckets in the
// same order. A cell is its value, its measure code's id (interned: one copy
// of each code for the process) and the distance, in slots, from the cell to
// its first bucket; its buckets end where the next cell's begin. The
// distances are relative, so a copy of the block is a copy of the bytes.
// About 2.1 KiB for a full-catalogue month where a cell with its own bucket
// vector took 3.6 KiB (heaptrack, 207 trusts x 60 months).
//
// Immutable once built, so safe to read from any thread.
#ifndef OHFED_AGGREGATOR_UNIT_CELLS_H_
#define OHFED_AGGREGATOR_UNIT_CELLS_H_

#include <climits>
#include <cmath>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator {

namespace unit_cells_internal {
// The process's interned measure codes by id (unit_cells.cc keeps them):
// kMeasureChunks chunks of kMeasureChunk codes, each chunk allocated when
// its first id is given and never moved or freed, nor is a code. A reader
// looks a code up without a lock: a unit is published to readers after its
// codes were interned, under the store's own synchronisation. Here, not
// behind a call, so that UnitCell::measure() is inline: the index looks up
// a code for every cell of every node a commit changes.
inline constexpr uint32_t kMeasureChunk = 4096;
inline constexpr uint32_t kMeasureChunks = 1024;  // ~4 million codes
extern const std::string* const* measure_codes[kMeasureChunks];
}  // namespace unit_cells_internal

// Whether a bucket value is a whole number a rollup can count by value
// (aggregator/rollup_buckets.h): within int32's range, INT32_MIN apart
// (its marker for sorted entries), and not -0.0 (whose slot would give it
// back as 0). No std::floor: a call to libm without SSE4.1.
inline bool IsCountableValue(double v) {
  return v > static_cast<double>(INT32_MIN) &&
         v <= static_cast<double>(INT32_MAX) &&
         static_cast<double>(static_cast<int64_t>(v)) == v &&
         !(v == 0 && std::signbit(v));
}

// One measure's cell: the accessors of v1::Cell that readers use. Lives only
// inside its UnitCells (its buckets are found relative to it), so it is
// handed out by reference and never copied.
class UnitCell {
 public:
  struct Bucket {
    double value() const { return value_; }
    uint64_t count() const { return count_; }
    double value_ = 0;
    uint64_t count_ = 0;
  };
  UnitCell(const UnitCell&) = delete;
  UnitCell& operator=(const UnitCell&) = delete;

  const std::string& measure() const {
    using unit_cells_internal::kMeasureChunk;
    return *unit_cells_internal::measure_codes[measure_id_ / kMeasureChunk]
                                              [measure_id_ % kMeasureChunk];
  }
  // The measure code's interned id: equal ids, equal codes.
  uint32_t measure_id() const { return measure_id_; }
  double value() const { return value_; }
  absl::Span<const Bucket> buckets() const {
    const UnitCell* next = this + 1;  // a cell or the sentinel
    const Bucket* first =
        std::launder(reinterpret_cast<const Bucket*>(this + first_));
    const Bucket* end = reinterpret_cast<const Bucket*>(next + next->first_);
    return absl::Span<const Bucket>(first, static_cast<size_t>(end - first));
  }

 private:
  friend class UnitCells;
  UnitCell(double value, uint32_t measure_id, uint32_t first)
      : value_(value), measure_id_(measure_id), first_(first) {}

  double value_ = 0;
  uint32_t measure_id_ = 0;  // interned code
  uint32_t first_ = 0;       // slots from this cell to its first bucket
};
static_assert(sizeof(UnitCell) == sizeof(UnitCell::Bucket),
              "cells and buckets share 16-byte slots");

// Whether the buckets' values ascend and each IsCountableValue: what a
// rollup adding them by value checks of every bucket
// (RollupBuckets::Apply), worked out once for a changed cell of a commit
// rather than again for each node above its unit.
bool WholeAscending(absl::Span<const UnitCell::Bucket> buckets);

// A cell read straight from a received message (aggregator/submit_reader.h)
// rather than parsed into a v1::Cell: the accessors of v1::Cell that
// validation and UnitCells use. Its measure code is a view into the
// received bytes and its buckets into the reader's storage, so it is valid
// only while both are.
class CellView {
 public:
  CellView() = default;
  CellView(absl::string_view measure, double value,
           absl::Span<const UnitCell::Bucket> buckets)
      : measure_(measure), value_(value), buckets_(buckets) {}

  absl::string_view measure() const { return measure_; }
  double value() const { return value_; }
  int buckets_size() const { return static_cast<int>(buckets_.size()); }
  const UnitCell::Bucket& buckets(int i) const {
    return buckets_[static_cast<size_t>(i)];
  }
  absl::Span<const UnitCell::Bucket> buckets() const { return buckets_; }

 private:
  absl::string_view measure_;
  double value_ = 0;
  absl::Span<const UnitCell::Bucket> buckets_;
};

class UnitCells {
 public:
  using const_iterator = const UnitCell*;

  UnitCells() = default;
  // The cells of a summary; of two cells for one measure, the later wins.
  explicit UnitCells(const google::protobuf::RepeatedPtrField<v1::Cell>& cells);
  // The same from cells read from the received bytes: an equal block (the
  // codes are interned, no copy of a view is kept).
  explicit UnitCells(absl::Span<const CellView> cells);
  UnitCells(const UnitCells& other);
  UnitCells& operator=(const UnitCells& other);
  UnitCells(UnitCells&&) = default;
  UnitCells& operator=(UnitCells&&) = default;

  // nullptr when the unit has no cell for `measure`.
  const UnitCell* Find(absl::string_view measure) const;
  // Whether two cells hold the same measure, value and buckets (in order).
  // Inline: a commit compares each cell of a revision with the held one's.
  static bool Same(const UnitCell& a, const UnitCell& b) {
    if (a.measure_id() != b.measure_id() || a.value() != b.value()) {
      return false;
    }
    const absl::Span<const UnitCell::Bucket> x = a.buckets(), y = b.buckets();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i].value() != y[i].value() || x[i].count() != y[i].count()) {
        return false;
      }
    }
    return true;
  }
  // Holds `cell` in place of any cell of its measure (building test views).
  void Set(const v1::Cell& cell);

  const_iterator begin() const { return cells(); }
  const_iterator end() const { return cells() + size_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Bytes of the block (for footprint tests).
  size_t bytes() const { return slots_ * sizeof(UnitCell); }

 private:
  // Sorts `cells` by measure, keeps the later of equal ones, then Build.
  // `cells` is the thread's scratch vector, changed.
  template <typename Cell>
  void SortAndBuild(std::vector<const Cell*>& cells);
  // Lays out `sorted` (by measure, one per measure) and their buckets;
  // `ids`, unless nullptr, are their codes' interned ids.
  template <typename Cell>
  void Build(absl::Span<const Cell* const> sorted, const uint32_t* ids);
  struct Slot {
    alignas(8) unsigned char bytes[16];
  };
  const UnitCell* cells() const {
    return block_ == nullptr
               ? nullptr
               : std::launder(reinterpret_cast<const UnitCell*>(block_.get()));
  }

  std::unique_ptr<Slot[]> block_;  // slots_ slots: cells, sentinel, buckets
  uint32_t size_ = 0;              // cells, without the sentinel
  uint32_t slots_ = 0;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_UNIT_CELLS_H_
