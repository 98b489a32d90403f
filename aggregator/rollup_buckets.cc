#include "aggregator/rollup_buckets.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

namespace ohfed::aggregator {
namespace {

// Counts by whole value take 8 bytes a value of the range, sorted entries
// 16 a value held: by whole value when that is no larger (kSmallest), or
// at most twice as large (kEither: a growing rollup of days turns to
// counts by value after a unit or two, rather than being merged again at
// each new day until it fills half its range).
bool ByWholeValue(int64_t range, size_t held, RollupBuckets::Layout layout) {
  const int64_t n = static_cast<int64_t>(held);
  switch (layout) {
    case RollupBuckets::Layout::kSorted:
      return false;
    case RollupBuckets::Layout::kSmallest:
      return range <= 2 * n;
    case RollupBuckets::Layout::kEither:
      return range <= 4 * n;
  }
  return false;
}

}  // namespace

RollupBuckets::RollupBuckets(std::initializer_list<value_type> buckets) {
  for (const value_type& b : buckets) (*this)[b.first] += b.second;
}

void RollupBuckets::Release(Rep* rep) {
  if (rep == nullptr) return;
  // The last copy frees it; acq_rel orders every other copy's reads of it
  // before the free.
  if (rep->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  rep->~Rep();
  ::operator delete(rep);
}

RollupBuckets::Rep* RollupBuckets::Allocate(size_t capacity, int32_t base) {
  const size_t each = base == Rep::kSorted ? sizeof(value_type) : 8;
  void* raw = ::operator new(sizeof(Rep) + capacity * each);
  Rep* rep = new (raw) Rep;
  rep->refs.store(1, std::memory_order_relaxed);
  rep->size = 0;
  rep->capacity = static_cast<uint32_t>(capacity);
  rep->base = base;
  return rep;
}

bool RollupBuckets::Owned() const {
  // A count of 1 cannot grow meanwhile: only this copy could copy it. The
  // acquire orders the change after the reads of copies released since.
  return rep_ == nullptr || rep_->refs.load(std::memory_order_acquire) == 1;
}

void RollupBuckets::Reserve(size_t n) {
  if (n == 0) {  // nothing to write: just do not keep a shared array
    if (!Owned()) *this = RollupBuckets();
    return;
  }
  if (rep_ != nullptr && !rep_->dense() && rep_->capacity >= n && Owned()) {
    return;
  }
  Rep* rep = Allocate(n, Rep::kSorted);
  rep->size = static_cast<uint32_t>(size());
  std::uninitialized_copy(begin(), end(), rep->entries());
  Release(rep_);
  rep_ = rep;
}

size_t RollupBuckets::LowerBound(double value) const {
  const value_type* e = data();
  return static_cast<size_t>(
      std::lower_bound(
          e, e + size(), value,
          [](const value_type& x, double v) { return x.first < v; }) -
      e);
}

RollupBuckets::value_type* RollupBuckets::InsertAt(size_t at,
                                                   value_type entry) {
  const size_t n = size();
  // Callers reserve the room; growing by a quarter, not doubling, if not.
  if (rep_ == nullptr || n == rep_->capacity || !Owned()) {
    Reserve(n + std::max<size_t>(2, n / 4));
  }
  value_type* e = data();
  new (e + n) value_type();
  std::move_backward(e + at, e + n, e + n + 1);
  e[at] = entry;
  ++rep_->size;
  return e + at;
}

void RollupBuckets::EraseAt(size_t at) {
  value_type* e = data();
  std::move(e + at + 1, e + size(), e + at);
  --rep_->size;
}

uint64_t& RollupBuckets::operator[](double value) {
  if (rep_ != nullptr && rep_->dense()) Rebuild({}, +1, Layout::kSorted);
  const size_t n = size();
  const size_t at = n == 0 ? 0 : LowerBound(value);
  if (at < n && data()[at].first == value) {
    Reserve(n);  // owned before a reference into it is handed out
    return data()[at].second;
  }
  // A commit copies an array at its size and often adds a value or two:
  // growing by a quarter, not doubling, as the rollups' arrays did while
  // they were vectors (21 MiB where 14.5 MiB held them, 207 x 60
  // trust-months).
  Reserve(rep_ != nullptr && rep_->capacity > n
              ? n + 1
              : n + std::max<size_t>(2, n / 4));
  return InsertAt(at, {value, 0})->second;
}

void RollupBuckets::erase(double value) {
  const_iterator it = find(value);
  if (it == end()) return;
  if (rep_->dense()) {
    const UnitCell::Bucket all{it->first, it->second};  // 0 for -0.0
    ApplyByValue(absl::MakeConstSpan(&all, 1), -1, /*whole_ascending=*/true);
    return;
  }
  const size_t at = static_cast<size_t>(it.at_);
  Reserve(size());
  EraseAt(at);
}

RollupBuckets::const_iterator RollupBuckets::find(double value) const {
  if (rep_ == nullptr) return end();
  if (rep_->dense()) {
    // -0.0 finds 0's slot, as it finds an entry 0 (they compare equal).
    const double at = value - rep_->base;
    if (!(at >= 0 && at < rep_->capacity) ||
        static_cast<double>(static_cast<int64_t>(at)) != at) {
      return end();
    }
    const const_iterator it(rep_, static_cast<int64_t>(at));
    return it.at_ == static_cast<int64_t>(at) ? it : end();
  }
  const size_t at = LowerBound(value);
  return at < size() && data()[at].first == value
             ? const_iterator(rep_, static_cast<int64_t>(at))
             : end();
}

bool RollupBuckets::ApplyByValue(absl::Span<const UnitCell::Bucket> buckets,
                                 int sign, bool whole_ascending) {
  double low = buckets.front().value(), high = buckets.back().value();
  if (!whole_ascending) {
    high = low;
    for (const UnitCell::Bucket& b : buckets) {
      if (!IsCountableValue(b.value())) return false;
      low = std::min(low, b.value());
      high = std::max(high, b.value());
    }
  }
  const int64_t base = rep_->base, end = base + rep_->capacity;
  const int64_t from = std::min(base, static_cast<int64_t>(low));
  const int64_t to = std::max(end, static_cast<int64_t>(high) + 1);
  if (from != base || to != end) {
    // Values out of the range: widened, while counts by value stay worth
    // it (a census's rollups of days reach their first and last days a
    // unit at a time). Taking away is left to the merge: a value not held
    // loses nothing.
    if (sign < 0 ||
        !ByWholeValue(to - from, size() + buckets.size(), Layout::kEither)) {
      return false;
    }
    Rep* rep =
        Allocate(static_cast<size_t>(to - from), static_cast<int32_t>(from));
    rep->size = rep_->size;
    uint64_t* counts = rep->counts();
    std::fill(counts, counts + (to - from), 0);
    std::memcpy(counts + (base - from), rep_->counts(), rep_->capacity * 8);
    Release(rep_);
    rep_ = rep;
  } else if (!Owned()) {  // a copy of the same range first
    Rep* rep = Allocate(rep_->capacity, rep_->base);
    rep->size = rep_->size;
    std::memcpy(rep->counts(), rep_->counts(), rep_->capacity * 8);
    Release(rep_);
    rep_ = rep;
  }
  uint64_t* counts = rep_->counts();
  const int64_t first = rep_->base;
  uint32_t held = rep_->size;
  for (const UnitCell::Bucket& b : buckets) {
    uint64_t& count = counts[static_cast<int64_t>(b.value()) - first];
    const bool was = count != 0;
    count = sign > 0 ? count + b.count() : count - std::min(count, b.count());
    held += static_cast<uint32_t>(count != 0) - static_cast<uint32_t>(was);
  }
  rep_->size = held;
  if (held == 0) clear();  // no room kept for nothing
  return true;
}

void RollupBuckets::ApplySorted(absl::Span<const UnitCell::Bucket> buckets,
                                int sign) {
  size_t at = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    const double v = buckets[i].value();
    const uint64_t by = buckets[i].count();
    if (i > 0 && !(v > buckets[i - 1].value())) at = 0;
    // A short forward scan: predictable, where a binary search over a
    // few dozen values mispredicts at every step.
    value_type* e = data();
    const size_t n = size();
    while (at < n && e[at].first < v) ++at;
    if (at < n && e[at].first == v) {
      uint64_t& count = e[at].second;
      count = sign > 0 ? count + by : count - std::min(count, by);
      if (count == 0) EraseAt(at);
    } else if (sign > 0 && by > 0) {
      if (n == rep_->capacity) {
        // No room: the rest merged into a new array at the size (and in
        // the layout) the result needs, rather than grown by a little.
        Rebuild(buckets.subspan(i), sign, Layout::kEither);
        return;
      }
      InsertAt(at, {v, by});
    }
  }
}

void RollupBuckets::Rebuild(absl::Span<const UnitCell::Bucket> buckets,
                            int sign, Layout layout) {
  // The buckets ascending (senders list them so), then merged with what is
  // held into a buffer kept by the thread, then copied at its size.
  thread_local std::vector<UnitCell::Bucket> order;
  if (!std::is_sorted(buckets.begin(), buckets.end(),
                      [](const UnitCell::Bucket& a, const UnitCell::Bucket& b) {
                        return a.value() < b.value();
                      })) {
    order.assign(buckets.begin(), buckets.end());
    std::stable_sort(order.begin(), order.end(),
                     [](const UnitCell::Bucket& a, const UnitCell::Bucket& b) {
                       return a.value() < b.value();
                     });
    buckets = order;
  }
  thread_local std::vector<value_type> merged;
  merged.clear();
  const_iterator e = begin();
  const const_iterator n = end();
  for (const UnitCell::Bucket& b : buckets) {
    const double v = b.value();
    while (e != n && e->first < v) merged.push_back(*e++);
    // An equal value held, or one this merge gave already (equal buckets).
    value_type* same = nullptr;
    if (e != n && e->first == v) {
      merged.push_back(*e++);
      same = &merged.back();
    } else if (!merged.empty() && merged.back().first == v) {
      same = &merged.back();
    }
    if (same != nullptr) {
      uint64_t& count = same->second;
      count = sign > 0 ? count + b.count() : count - std::min(count, b.count());
      if (count == 0) merged.pop_back();
    } else if (sign > 0 && b.count() > 0) {
      merged.emplace_back(v, b.count());
    }
  }
  for (; e != n; ++e) merged.push_back(*e);

  RollupBuckets built;
  if (!merged.empty()) {
    const double low = merged.front().first, high = merged.back().first;
    const bool whole =
        layout != Layout::kSorted &&
        std::all_of(merged.begin(), merged.end(), [](const value_type& x) {
          return IsCountableValue(x.first);
        });
    const int64_t range =
        whole ? static_cast<int64_t>(high) - static_cast<int64_t>(low) + 1 : 0;
    if (whole && ByWholeValue(range, merged.size(), layout)) {
      built.rep_ =
          Allocate(static_cast<size_t>(range), static_cast<int32_t>(low));
      uint64_t* counts = built.rep_->counts();
      std::fill(counts, counts + range, 0);
      for (const value_type& x : merged) {
        counts[static_cast<int64_t>(x.first) - built.rep_->base] = x.second;
      }
    } else {
      built.rep_ = Allocate(merged.size(), Rep::kSorted);
      std::uninitialized_copy(merged.begin(), merged.end(),
                              built.rep_->entries());
    }
    built.rep_->size = static_cast<uint32_t>(merged.size());
  }
  *this = std::move(built);
}

void RollupBuckets::Start(absl::Span<const UnitCell::Bucket> buckets) {
  const UnitCell::Bucket* first = nullptr;
  const UnitCell::Bucket* last = nullptr;
  size_t held = 0;
  for (const UnitCell::Bucket& b : buckets) {
    if (b.count() == 0) continue;  // nothing to hold
    if (first == nullptr) first = &b;
    last = &b;
    ++held;
  }
  if (held == 0) return;
  const int64_t low = static_cast<int64_t>(first->value());
  const int64_t range = static_cast<int64_t>(last->value()) - low + 1;
  if (ByWholeValue(range, held, Layout::kEither)) {
    rep_ = Allocate(static_cast<size_t>(range), static_cast<int32_t>(low));
    uint64_t* counts = rep_->counts();
    std::fill(counts, counts + range, 0);
    for (const UnitCell::Bucket& b : buckets) {
      if (b.count() > 0)
        counts[static_cast<int64_t>(b.value()) - low] = b.count();
    }
  } else {
    rep_ = Allocate(held, Rep::kSorted);
    value_type* e = rep_->entries();
    for (const UnitCell::Bucket& b : buckets) {
      if (b.count() > 0) new (e++) value_type(b.value(), b.count());
    }
  }
  rep_->size = static_cast<uint32_t>(held);
}

void RollupBuckets::Apply(absl::Span<const UnitCell::Bucket> buckets, int sign,
                          bool whole_ascending) {
  if (buckets.empty() || (sign < 0 && empty())) return;
  if (rep_ != nullptr && rep_->dense() &&
      ApplyByValue(buckets, sign, whole_ascending)) {
    return;
  }
  if (rep_ == nullptr && whole_ascending) {  // and so adding
    Start(buckets);
    return;
  }
  // Nothing held yet, a shared array (a commit's first change to a block a
  // snapshot shares), or counts by whole value given a value out of their
  // range: one merge into a new array of the size and layout the result
  // needs. Sorted entries owned: changed in place.
  if (rep_ == nullptr || rep_->dense() || !Owned()) {
    Rebuild(buckets, sign, Layout::kEither);
    return;
  }
  ApplySorted(buckets, sign);
}

void RollupBuckets::shrink_to_fit() {
  if (rep_ == nullptr || !Owned()) return;
  // In the smaller layout: entries grown by insertion may fill a range.
  Rebuild({}, +1, Layout::kSmallest);
}

size_t RollupBuckets::bytes() const {
  if (rep_ == nullptr) return 0;
  return sizeof(Rep) +
         rep_->capacity * (rep_->dense() ? 8 : sizeof(value_type));
}

bool operator==(const RollupBuckets& a, const RollupBuckets& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace ohfed::aggregator
