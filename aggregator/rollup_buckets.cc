#include "aggregator/rollup_buckets.h"

#include <algorithm>
#include <memory>
#include <new>
#include <vector>

namespace ohfed::aggregator {

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
  if (rep_ != nullptr && rep_->capacity >= n && Owned()) return;
  void* raw = ::operator new(sizeof(Rep) + n * sizeof(value_type));
  Rep* rep = new (raw) Rep;
  rep->refs.store(1, std::memory_order_relaxed);
  rep->size = static_cast<uint32_t>(size());
  rep->capacity = static_cast<uint32_t>(n);
  std::uninitialized_copy(begin(), end(),
                          reinterpret_cast<value_type*>(rep + 1));
  Release(rep_);
  rep_ = rep;
}

size_t RollupBuckets::LowerBound(double value) const {
  return static_cast<size_t>(
      std::lower_bound(
          begin(), end(), value,
          [](const value_type& e, double v) { return e.first < v; }) -
      begin());
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
  const size_t at = LowerBound(value);
  const size_t n = size();
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
  const size_t at = LowerBound(value);
  if (at == size() || data()[at].first != value) return;
  Reserve(size());
  EraseAt(at);
}

RollupBuckets::const_iterator RollupBuckets::find(double value) const {
  const size_t at = LowerBound(value);
  return at < size() && data()[at].first == value ? begin() + at : end();
}

bool RollupBuckets::MergeCopy(absl::Span<const UnitCell::Bucket> buckets,
                              int sign) {
  // The merge, into a buffer kept by the thread, then copied at its size.
  thread_local std::vector<value_type> merged;
  merged.clear();
  const value_type* e = begin();
  const size_t n = size();
  size_t at = 0;
  double previous = 0;
  for (const UnitCell::Bucket& b : buckets) {
    const double v = b.value();
    if (&b != buckets.data() && !(v > previous)) return false;
    previous = v;
    while (at < n && e[at].first < v) merged.push_back(e[at++]);
    if (at < n && e[at].first == v) {
      const uint64_t count = e[at++].second;
      const uint64_t to =
          sign > 0 ? count + b.count() : count - std::min(count, b.count());
      if (to > 0) merged.emplace_back(v, to);
    } else if (sign > 0 && b.count() > 0) {
      merged.emplace_back(v, b.count());
    }
  }
  merged.insert(merged.end(), e + at, e + n);
  RollupBuckets copy;
  if (!merged.empty()) {
    copy.Reserve(merged.size());
    std::uninitialized_copy(merged.begin(), merged.end(), copy.data());
    copy.rep_->size = static_cast<uint32_t>(merged.size());
  }
  *this = std::move(copy);
  return true;
}

void RollupBuckets::Apply(absl::Span<const UnitCell::Bucket> buckets,
                          int sign) {
  if (buckets.empty() || (sign < 0 && empty())) return;
  // A shared array is copied once, merged with the buckets on the way, at
  // the size it needs (a commit's first change to a block a snapshot
  // shares). Buckets not in ascending order are applied in place to an
  // own copy instead.
  if (!Owned() && MergeCopy(buckets, sign)) return;
  Reserve(size());
  size_t at = 0;
  double previous = 0;
  for (const UnitCell::Bucket& b : buckets) {
    const double v = b.value();
    if (&b != buckets.data() && !(v > previous)) at = 0;
    previous = v;
    // A short forward scan: predictable, where a binary search over a
    // few dozen values mispredicts at every step.
    const value_type* e = begin();
    const size_t n = size();
    while (at < n && e[at].first < v) ++at;
    if (at < n && e[at].first == v) {
      uint64_t& count = data()[at].second;
      count = sign > 0 ? count + b.count() : count - std::min(count, b.count());
      if (count == 0) EraseAt(at);
    } else if (sign > 0 && b.count() > 0) {
      InsertAt(at, {v, b.count()});
    }
  }
}

void RollupBuckets::shrink_to_fit() {
  if (rep_ == nullptr || rep_->capacity == rep_->size || !Owned()) return;
  if (rep_->size == 0) {
    *this = RollupBuckets();
    return;
  }
  RollupBuckets exact;
  exact.Reserve(size());
  std::uninitialized_copy(begin(), end(), exact.data());
  exact.rep_->size = rep_->size;
  *this = std::move(exact);
}

size_t RollupBuckets::bytes() const {
  return rep_ == nullptr ? 0
                         : sizeof(Rep) + rep_->capacity * sizeof(value_type);
}

bool operator==(const RollupBuckets& a, const RollupBuckets& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace ohfed::aggregator
