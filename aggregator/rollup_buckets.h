// The merged distribution buckets of one rollup cell (aggregator/view.h's
// RollupCell): events by value, iterated as (value, count) pairs in
// ascending value like a map.
//
// A sorted flat array in one reference-counted allocation that copies
// share: the rollups hold one per node, period and distribution measure, of
// a few dozen values (days), and a commit copies a rollup block (~60 cells,
// 15 of them distributions) the first time it changes one that a published
// snapshot shares. Sharing the arrays makes that copy one allocation, not
// one per distribution, and only the arrays the commit changes are copied,
// each once, at the size it needs (issue 14 figures 1, 2 and 6).
//
// Thread-safety as std::shared_ptr's: copies sharing an array may be read,
// copied and destroyed on any threads; a change (operator[], erase, Apply,
// clear, shrink_to_fit) gives the changed copy its own array first if
// another shares it, and must not race with reads of that same copy.
#ifndef OHFED_AGGREGATOR_ROLLUP_BUCKETS_H_
#define OHFED_AGGREGATOR_ROLLUP_BUCKETS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <utility>

#include "absl/types/span.h"
#include "aggregator/unit_cells.h"

namespace ohfed::aggregator {

class RollupBuckets {
 public:
  using value_type = std::pair<double, uint64_t>;
  using const_iterator = const value_type*;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  RollupBuckets() = default;
  RollupBuckets(std::initializer_list<value_type> buckets);
  // Shares `other`'s array.
  RollupBuckets(const RollupBuckets& other) noexcept : rep_(other.rep_) {
    if (rep_ != nullptr) rep_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  RollupBuckets& operator=(const RollupBuckets& other) noexcept {
    RollupBuckets copy(other);
    std::swap(rep_, copy.rep_);
    return *this;
  }
  RollupBuckets(RollupBuckets&& other) noexcept
      : rep_(std::exchange(other.rep_, nullptr)) {}
  RollupBuckets& operator=(RollupBuckets&& other) noexcept {
    std::swap(rep_, other.rep_);
    return *this;
  }
  ~RollupBuckets() { Release(rep_); }

  // The count of `value`, inserted as 0 if absent.
  uint64_t& operator[](double value);
  void erase(double value);
  const_iterator find(double value) const;
  // Adds (sign +1) or takes away (sign -1, never below 0) each bucket's
  // count, as operator[] then erase of a value whose count reaches 0 would.
  // Ascending buckets (as senders list them) take one pass over the
  // entries; a bucket below the one before starts again from the first.
  void Apply(absl::Span<const UnitCell::Bucket> buckets, int sign);
  void clear() { *this = RollupBuckets(); }
  // Drops unused room, unless another copy shares the array.
  void shrink_to_fit();

  const_iterator begin() const { return rep_ == nullptr ? nullptr : data(); }
  const_iterator end() const { return begin() + size(); }
  const_reverse_iterator rbegin() const {
    return const_reverse_iterator(end());
  }
  const_reverse_iterator rend() const {
    return const_reverse_iterator(begin());
  }
  size_t size() const { return rep_ == nullptr ? 0 : rep_->size; }
  bool empty() const { return size() == 0; }
  // Bytes allocated for the array, shared or not (for footprint tests).
  size_t bytes() const;
  friend bool operator==(const RollupBuckets& a, const RollupBuckets& b);

 private:
  // The array's header; the entries follow it in the same allocation.
  struct Rep {
    std::atomic<uint32_t> refs;
    uint32_t size;
    uint32_t capacity;
    uint32_t unused;
  };
  static_assert(sizeof(Rep) % alignof(value_type) == 0);

  value_type* data() const { return reinterpret_cast<value_type*>(rep_ + 1); }
  static void Release(Rep* rep);
  // Whether no other copy shares the array (nullptr counts as owned).
  bool Owned() const;
  // An owned array with room for `n` entries: the same one if it is owned
  // and has the room, else a new one of exactly `n` entries.
  void Reserve(size_t n);
  // Inserts at index `at`, room reserved by the caller.
  value_type* InsertAt(size_t at, value_type entry);
  void EraseAt(size_t at);
  size_t LowerBound(double value) const;
  // Apply to a new array of exactly the size the result needs, in one merge
  // pass; false, having changed nothing, if `buckets` are not ascending.
  bool MergeCopy(absl::Span<const UnitCell::Bucket> buckets, int sign);

  Rep* rep_ = nullptr;  // nullptr: empty
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_ROLLUP_BUCKETS_H_
