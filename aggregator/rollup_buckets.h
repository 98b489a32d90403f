// The merged distribution buckets of one rollup cell (aggregator/view.h's
// RollupCell): events by value, iterated as (value, count) pairs in
// ascending value like a map.
//
// One reference-counted allocation that copies share: the rollups hold one
// per node, period and distribution measure, of a few dozen values (days),
// and a commit copies a rollup block (~60 cells, 15 of them distributions)
// the first time it changes one that a published snapshot shares. Sharing
// the arrays makes that copy one allocation, not one per distribution, and
// only the arrays the commit changes are copied, each once, at the size it
// needs (issue 14 figures 1, 2 and 6).
//
// Two layouts behind the same interface, whichever is smaller when an
// array is made: sorted (value, count) entries, or, once the values are
// whole numbers that fill most of their range (a national or regional
// rollup of days: every day from 1 to the longest wait), one count per
// whole value from the lowest, 0 for a value not held. Half the bytes of
// the entries then, and a unit's buckets are added by index, where merging
// them into sorted entries scanned the array (the census's largest index
// cost, ~800 instructions a cell).
//
// Thread-safety as std::shared_ptr's: copies sharing an array may be read,
// copied and destroyed on any threads; a change (operator[], erase, Apply,
// clear, shrink_to_fit) gives the changed copy its own array first if
// another shares it, and must not race with reads of that same copy.
#ifndef OHFED_AGGREGATOR_ROLLUP_BUCKETS_H_
#define OHFED_AGGREGATOR_ROLLUP_BUCKETS_H_

#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <utility>

#include "absl/types/span.h"
#include "aggregator/unit_cells.h"

namespace ohfed::aggregator {

class RollupBuckets {
  struct Rep;

 public:
  using value_type = std::pair<double, uint64_t>;

  // Over the (value, count) pairs held, ascending (kStep +1) or descending
  // (-1). An entry is made on the way, so a reference from operator* is
  // valid until the iterator moves or is destroyed.
  template <int kStep>
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = RollupBuckets::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = const value_type*;
    using reference = const value_type&;

    Iterator() = default;
    reference operator*() const { return entry_; }
    pointer operator->() const { return &entry_; }
    Iterator& operator++() {
      at_ += kStep;
      Settle();
      return *this;
    }
    Iterator operator++(int) {
      Iterator was = *this;
      ++*this;
      return was;
    }
    // Equal when at the same place of the same array (copies sharing an
    // array give equal iterators).
    friend bool operator==(const Iterator& a, const Iterator& b) {
      return a.rep_ == b.rep_ && a.at_ == b.at_;
    }
    friend bool operator!=(const Iterator& a, const Iterator& b) {
      return !(a == b);
    }

   private:
    friend class RollupBuckets;
    // At slot or entry `at`, or the next one held in the direction.
    Iterator(const Rep* rep, int64_t at) : rep_(rep), at_(at) { Settle(); }
    void Settle();

    const Rep* rep_ = nullptr;
    int64_t at_ = 0;
    value_type entry_{};
  };
  using const_iterator = Iterator<+1>;
  using const_reverse_iterator = Iterator<-1>;

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

  // The count of `value`, inserted as 0 if absent (sorted entries from
  // then on: building test views and decoding, not the commit path).
  uint64_t& operator[](double value);
  void erase(double value);
  const_iterator find(double value) const;
  // Adds (sign +1) or takes away (sign -1, never below 0) each bucket's
  // count, as operator[] then erase of a value whose count reaches 0 would,
  // in any order of the buckets. Counts by whole value: added in place
  // (after one copy of a shared array) while the values fall in the range
  // held. Sorted entries: ascending buckets take one pass over them; a
  // bucket below the one before starts again from the first.
  void Apply(absl::Span<const UnitCell::Bucket> buckets, int sign) {
    Apply(buckets, sign, WholeAscending(buckets));
  }
  // The same with `whole_ascending` = WholeAscending(buckets) worked out by
  // the caller: the index, once for a unit's changed cell that it adds to
  // (or takes from) each node above the unit. Buckets known whole and
  // ascending are not checked again.
  void Apply(absl::Span<const UnitCell::Bucket> buckets, int sign,
             bool whole_ascending);
  void clear() { *this = RollupBuckets(); }
  // Drops unused room, in the smaller layout, unless another copy shares
  // the array.
  void shrink_to_fit();

  const_iterator begin() const { return const_iterator(rep_, 0); }
  const_iterator end() const { return const_iterator(rep_, Slots(rep_)); }
  const_reverse_iterator rbegin() const {
    return const_reverse_iterator(rep_, Slots(rep_) - 1);
  }
  const_reverse_iterator rend() const {
    return const_reverse_iterator(rep_, -1);
  }
  size_t size() const { return rep_ == nullptr ? 0 : rep_->size; }
  bool empty() const { return size() == 0; }
  // Bytes allocated for the array, shared or not (for footprint tests).
  size_t bytes() const;
  // Whether the counts are kept by whole value (for tests).
  bool by_whole_value() const { return rep_ != nullptr && rep_->dense(); }
  friend bool operator==(const RollupBuckets& a, const RollupBuckets& b);
  friend bool operator!=(const RollupBuckets& a, const RollupBuckets& b) {
    return !(a == b);
  }

  // Which layout an array is made in: sorted entries; the smaller of the
  // two; or counts by whole value up to twice the entries' bytes.
  enum class Layout { kSorted, kSmallest, kEither };

 private:
  // The array's header; the entries, or the counts, follow it in the same
  // allocation.
  struct Rep {
    static constexpr int32_t kSorted = INT32_MIN;
    std::atomic<uint32_t> refs;
    uint32_t size;      // values held
    uint32_t capacity;  // room: entries, or counts
    int32_t base;       // by whole value: slot 0's value; kSorted: entries
    bool dense() const { return base != kSorted; }
    value_type* entries() { return reinterpret_cast<value_type*>(this + 1); }
    const value_type* entries() const {
      return reinterpret_cast<const value_type*>(this + 1);
    }
    uint64_t* counts() { return reinterpret_cast<uint64_t*>(this + 1); }
    const uint64_t* counts() const {
      return reinterpret_cast<const uint64_t*>(this + 1);
    }
  };
  static_assert(sizeof(Rep) % alignof(value_type) == 0);

  // Entries or counts the iterators walk over.
  static int64_t Slots(const Rep* rep) {
    return rep == nullptr ? 0 : rep->dense() ? rep->capacity : rep->size;
  }
  value_type* data() const { return rep_->entries(); }
  static void Release(Rep* rep);
  static Rep* Allocate(size_t capacity, int32_t base);
  // Whether no other copy shares the array (nullptr counts as owned).
  bool Owned() const;
  // Sorted entries, owned, with room for `n`: the same array if it is
  // owned, sorted and has the room, else a new one of exactly `n` entries.
  void Reserve(size_t n);
  // Inserts at index `at`, room reserved by the caller.
  value_type* InsertAt(size_t at, value_type entry);
  void EraseAt(size_t at);
  size_t LowerBound(double value) const;
  // Counts by whole value: adds the buckets in place (copying a shared
  // array first, or widening the range for added values beyond it) if all
  // are whole; false, having changed nothing, if one is not, or if the
  // range would be too wide.
  bool ApplyByValue(absl::Span<const UnitCell::Bucket> buckets, int sign,
                    bool whole_ascending);
  // Empty: holds `buckets` (whole, ascending) in the array Rebuild would
  // make of them, without its merge through the thread's buffers (a
  // census starts each node's rollup cells so).
  void Start(absl::Span<const UnitCell::Bucket> buckets);
  // Sorted entries, owned: adds the buckets in one pass per ascending run.
  void ApplySorted(absl::Span<const UnitCell::Bucket> buckets, int sign);
  // Applies the buckets to a new array of exactly the size the result needs
  // in `layout`, in one merge pass.
  void Rebuild(absl::Span<const UnitCell::Bucket> buckets, int sign,
               Layout layout);

  Rep* rep_ = nullptr;  // nullptr: empty
};

template <int kStep>
void RollupBuckets::Iterator<kStep>::Settle() {
  if (rep_ == nullptr) return;
  if (!rep_->dense()) {
    if (at_ >= 0 && at_ < rep_->size) entry_ = rep_->entries()[at_];
    return;
  }
  const uint64_t* counts = rep_->counts();
  const int64_t n = rep_->capacity;
  while (at_ >= 0 && at_ < n && counts[at_] == 0) at_ += kStep;
  if (at_ >= 0 && at_ < n) {
    entry_ = {static_cast<double>(rep_->base + at_), counts[at_]};
  }
}

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_ROLLUP_BUCKETS_H_
