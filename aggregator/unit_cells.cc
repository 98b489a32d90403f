#include "aggregator/unit_cells.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace ohfed::aggregator {

namespace unit_cells_internal {
const std::string* const* measure_codes[kMeasureChunks] = {};
}  // namespace unit_cells_internal

namespace {

// The process's measure codes, by id, in unit_cells_internal's chunks
// (unit_cells.h). Codes come from the catalogue versions ingest validates
// against, so the table stays small.
class MeasureTable {
 public:
  static MeasureTable& Get() {
    static auto* table = new MeasureTable;  // never freed: units outlive it
    return *table;
  }
  // Without a lock for a code this thread has seen: a batch interns ~700
  // codes, which took the table's lock once each, between the ingest
  // threads. The cache refers to the table's own strings, never freed.
  uint32_t Intern(absl::string_view code) {
    thread_local absl::flat_hash_map<absl::string_view, uint32_t> seen;
    auto hit = seen.find(code);
    if (hit != seen.end()) return hit->second;
    const uint32_t id = InternLocked(code);
    if (seen.size() < kMaxCachedPerThread) seen.emplace(Code(id), id);
    return id;
  }
  static const std::string& Code(uint32_t id) {
    return *unit_cells_internal::measure_codes[id / kChunk][id % kChunk];
  }

 private:
  static constexpr size_t kMaxCachedPerThread = 8192;
  static constexpr uint32_t kChunk = unit_cells_internal::kMeasureChunk;

  uint32_t InternLocked(absl::string_view code) {
    absl::MutexLock l(&mu_);
    auto it = ids_.find(code);
    if (it != ids_.end()) return it->second;
    const uint32_t id = next_++;
    const std::string**& chunk = chunks_[id / kChunk];
    if (chunk == nullptr) {
      chunk = new const std::string*[kChunk]();  // never freed, as above
      unit_cells_internal::measure_codes[id / kChunk] = chunk;
    }
    auto* stored = new std::string(code);  // never freed, as above
    chunk[id % kChunk] = stored;
    ids_.emplace(*stored, id);
    return id;
  }

  absl::Mutex mu_;
  absl::flat_hash_map<absl::string_view, uint32_t> ids_ ABSL_GUARDED_BY(mu_);
  uint32_t next_ ABSL_GUARDED_BY(mu_) = 0;
  // The chunks as the table writes them; readers see them through
  // unit_cells_internal::measure_codes.
  const std::string**
      chunks_[unit_cells_internal::kMeasureChunks] ABSL_GUARDED_BY(mu_) = {};
};

template <typename Cell>
bool MeasureLess(const Cell* a, const Cell* b) {
  return a->measure() < b->measure();
}

// Where each cell of a summary goes once sorted by measure (the later of
// equal codes kept), for the lists of codes a thread met last. Senders
// list cells in catalogue order, which is not the codes' order, and every
// summary of one catalogue lists the same codes: a stable sort of ~60
// codes per summary (3.4% of the aggregator's CPU under 100-stream ingest)
// becomes one comparison of each code with the list remembered.
class SortOrders {
 public:
  // Reorders `cells` as the sort would, and keeps how. Returns the
  // interned ids of the codes in their new order: the layout keeps them
  // too, so a code met again in the same place is not looked up again.
  template <typename Cell>
  const std::vector<uint32_t>& Sort(std::vector<const Cell*>& cells) {
    for (Order& o : orders_) {
      if (o.Matches(cells)) {
        Apply(o.keep, cells);
        return o.ids;
      }
    }
    Order& o = orders_[next_];
    next_ = (next_ + 1) % kKept;
    o.codes.resize(cells.size());
    o.keep.resize(cells.size());
    for (size_t i = 0; i < cells.size(); ++i) {
      o.codes[i].assign(cells[i]->measure().data(), cells[i]->measure().size());
      o.keep[i] = static_cast<uint32_t>(i);
    }
    std::stable_sort(o.keep.begin(), o.keep.end(), [&](uint32_t a, uint32_t b) {
      return MeasureLess(cells[a], cells[b]);
    });
    // Of equal measures the later one, as a map assignment would keep.
    auto last = std::unique(o.keep.rbegin(), o.keep.rend(),
                            [&](uint32_t a, uint32_t b) {
                              return cells[a]->measure() == cells[b]->measure();
                            });
    o.keep.erase(o.keep.begin(), last.base());
    Apply(o.keep, cells);
    o.ids.clear();
    for (const Cell* c : cells) {
      o.ids.push_back(MeasureTable::Get().Intern(c->measure()));
    }
    return o.ids;
  }

 private:
  static constexpr size_t kKept = 4;  // catalogue versions, monthly/annual
  struct Order {
    std::vector<std::string> codes;  // as received
    std::vector<uint32_t> keep;      // positions in codes, in layout order
    std::vector<uint32_t> ids;       // interned codes, in layout order
    template <typename Cell>
    bool Matches(const std::vector<const Cell*>& cells) const {
      if (codes.size() != cells.size() || codes.empty()) return false;
      for (size_t i = 0; i < cells.size(); ++i) {
        if (cells[i]->measure() != codes[i]) return false;
      }
      return true;
    }
  };
  // Into the thread's second scratch vector, swapped with the first: no
  // allocation once both have grown to a summary's cells.
  template <typename Cell>
  static void Apply(const std::vector<uint32_t>& keep,
                    std::vector<const Cell*>& cells) {
    thread_local std::vector<const Cell*> sorted;
    sorted.clear();
    for (uint32_t i : keep) sorted.push_back(cells[i]);
    cells.swap(sorted);
  }
  Order orders_[kKept];
  size_t next_ = 0;
};

}  // namespace

// The cells in a vector the thread keeps (a summary's cells are laid out
// for every summary ingested: no allocation for the list once it has grown
// to a summary's); SortAndBuild reorders it.
UnitCells::UnitCells(
    const google::protobuf::RepeatedPtrField<v1::Cell>& cells) {
  thread_local std::vector<const v1::Cell*> all;
  all.clear();
  for (const v1::Cell& c : cells) all.push_back(&c);
  SortAndBuild(all);
}

UnitCells::UnitCells(absl::Span<const CellView> cells) {
  thread_local std::vector<const CellView*> all;
  all.clear();
  for (const CellView& c : cells) all.push_back(&c);
  SortAndBuild(all);
}

template <typename Cell>
void UnitCells::SortAndBuild(std::vector<const Cell*>& sorted) {
  if (std::is_sorted(sorted.begin(), sorted.end(), MeasureLess<Cell>)) {
    // Of equal measures the later one, as a map assignment would keep.
    auto last = std::unique(sorted.rbegin(), sorted.rend(),
                            [](const Cell* a, const Cell* b) {
                              return a->measure() == b->measure();
                            });
    sorted.erase(sorted.begin(), last.base());
    Build(absl::Span<const Cell* const>(sorted), nullptr);
  } else {
    thread_local SortOrders orders;
    const std::vector<uint32_t>& ids = orders.Sort(sorted);
    Build(absl::Span<const Cell* const>(sorted), ids.data());
  }
}

bool WholeAscending(absl::Span<const UnitCell::Bucket> buckets) {
  // In two short passes: first ascending (NaN never is), then, once the
  // lowest and highest are known to be within int32's range, so is every
  // value: each whole, none -0.0.
  if (buckets.empty()) return true;
  for (size_t i = 1; i < buckets.size(); ++i) {
    if (!(buckets[i].value() > buckets[i - 1].value())) return false;
  }
  if (!IsCountableValue(buckets.front().value()) ||
      !IsCountableValue(buckets.back().value())) {
    return false;
  }
  constexpr uint64_t kNegativeZero = uint64_t{1} << 63;
  for (const UnitCell::Bucket& b : buckets) {
    const double v = b.value();
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    if (static_cast<double>(static_cast<int64_t>(v)) != v ||
        bits == kNegativeZero) {
      return false;
    }
  }
  return true;
}

UnitCells::UnitCells(const UnitCells& other)
    : size_(other.size_), slots_(other.slots_) {
  if (slots_ == 0) return;
  block_.reset(new Slot[slots_]);
  std::memcpy(block_.get(), other.block_.get(), slots_ * sizeof(Slot));
}

UnitCells& UnitCells::operator=(const UnitCells& other) {
  if (this != &other) *this = UnitCells(other);
  return *this;
}

template <typename Cell>
void UnitCells::Build(absl::Span<const Cell* const> sorted,
                      const uint32_t* ids) {
  size_t buckets = 0;
  for (const Cell* c : sorted) buckets += c->buckets_size();
  size_ = static_cast<uint32_t>(sorted.size());
  slots_ = sorted.empty() ? 0 : static_cast<uint32_t>(size_ + 1 + buckets);
  block_.reset(slots_ == 0 ? nullptr : new Slot[slots_]);
  if (slots_ == 0) return;  // no cells, no sentinel
  MeasureTable& table = MeasureTable::Get();
  uint32_t bucket = size_ + 1;  // slot of the next bucket
  for (uint32_t i = 0; i <= size_; ++i) {
    const uint32_t first = bucket - i;
    if (i == size_) {  // the sentinel: where the last cell's buckets end
      new (&block_[i]) UnitCell(0, 0, first);
      break;
    }
    const Cell* c = sorted[i];
    new (&block_[i])
        UnitCell(c->value(),
                 ids != nullptr ? ids[i] : table.Intern(c->measure()), first);
    for (const auto& b : c->buckets()) {
      new (&block_[bucket++]) UnitCell::Bucket{b.value(), b.count()};
    }
  }
}

const UnitCell* UnitCells::Find(absl::string_view measure) const {
  const UnitCell* it = std::lower_bound(
      begin(), end(), measure,
      [](const UnitCell& c, absl::string_view m) { return c.measure() < m; });
  return it != end() && it->measure() == measure ? it : nullptr;
}

void UnitCells::Set(const v1::Cell& cell) {
  google::protobuf::RepeatedPtrField<v1::Cell> all;
  for (const UnitCell& c : *this) {
    v1::Cell* copy = all.Add();
    copy->set_measure(c.measure());
    copy->set_value(c.value());
    for (const UnitCell::Bucket& b : c.buckets()) {
      v1::Bucket* to = copy->add_buckets();
      to->set_value(b.value());
      to->set_count(b.count());
    }
  }
  *all.Add() = cell;  // the later wins
  *this = UnitCells(all);
}

}  // namespace ohfed::aggregator
