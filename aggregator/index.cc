#include "aggregator/index.h"

#include <algorithm>

#include "aggregator/codec.h"
#include "aggregator/validation.h"

namespace ohfed::aggregator {

namespace {

// Adds (sign +1) or subtracts (sign -1) one unit's cell to a rollup cell;
// `whole` is WholeAscending of its buckets.
void ApplyCell(const UnitCell& cell, int sign, bool whole, RollupCell& r) {
  r.sum += sign * cell.value();
  if (sign > 0) {
    ++r.n_units;
  } else if (r.n_units > 0) {
    --r.n_units;
  }
  r.buckets.Apply(cell.buckets(), sign, whole);
}

// The first cell of `block` at or after `from` whose measure is not below
// `measure`.
template <class It>
It MeasureBound(It from, It end, absl::string_view measure) {
  return std::lower_bound(
      from, end, measure,
      [](const auto& e, absl::string_view m) { return *e.first < m; });
}

// MeasureBound of an interned measure code (UnitCell::measure), whose
// address is the block's key for it: a block and a unit of the same
// catalogue list the same measures in the same order, so the cell at `from`
// is nearly always the one, found without comparing a string.
template <class It>
It SeekMeasure(It from, It end, const std::string& measure) {
  if (from != end && from->first == &measure) return from;
  return MeasureBound(from, end, measure);
}

}  // namespace

Index::Index(std::shared_ptr<const Catalogue> catalogue,
             std::shared_ptr<const RegistryHistory> registry)
    : catalogue_(std::move(catalogue)), registry_(std::move(registry)) {}

const Index::Shard* Index::FindShard(absl::string_view period) const {
  const std::shared_ptr<Shard>* shard = shards_.Find(period);
  return shard == nullptr ? nullptr : shard->get();
}

Index::Shard& Index::MutableShard(absl::string_view period) {
  std::shared_ptr<Shard>& shard = shards_.Mutable(period);
  if (shard == nullptr) {
    shard = std::make_shared<Shard>();
  } else if (!Unshared(shard)) {
    shard = std::make_shared<Shard>(*shard);
  }
  return *shard;
}

const HeldUnit* Index::Unit(absl::string_view trust,
                            absl::string_view period) const {
  const Shard* shard = FindShard(period);
  if (shard == nullptr) return nullptr;
  const std::shared_ptr<const HeldUnit>* unit = shard->units.Find(trust);
  return unit == nullptr ? nullptr : unit->get();
}

const RollupCell* Index::Rollup(absl::string_view node,
                                absl::string_view period,
                                absl::string_view measure) const {
  const Shard* shard = FindShard(period);
  if (shard == nullptr) return nullptr;
  const std::shared_ptr<NodeRollups>* n = shard->rollups.Find(node);
  if (n == nullptr) return nullptr;
  const NodeRollups& block = **n;
  auto it = MeasureBound(block.begin(), block.end(), measure);
  return it == block.end() || *it->first != measure ? nullptr : &it->second;
}

int64_t Index::LastReceived(absl::string_view trust) const {
  const int64_t* last = last_received_.Find(trust);
  return last == nullptr ? 0 : *last;
}

std::string Index::UpstreamReason(absl::string_view trust,
                                  absl::string_view period) const {
  return upstream_ == nullptr ? std::string()
                              : upstream_->RefusalReason(trust, period);
}

absl::InlinedVector<std::string, 3> Index::NodesOf(
    absl::string_view trust, absl::string_view period) const {
  absl::InlinedVector<std::string, 3> nodes = {"national"};
  absl::StatusOr<Month> month = SummaryMonth(period);
  if (!month.ok()) return nodes;
  // The trust found once (Registry::Enclosing looks it up at each level).
  const Trust* t = registry_->At(*month).FindTrust(trust);
  if (t == nullptr) return nodes;
  nodes.push_back(Scope{Scope::Level::kRegion, t->region}.ToString());
  nodes.push_back(Scope{Scope::Level::kIcs, t->ics}.ToString());
  return nodes;
}

void Index::PutUnit(HeldUnit unit) {
  int64_t& last = last_received_.Mutable(unit.trust);
  last = std::max(last, unit.last_received_unix_ms);
  Shard& shard = MutableShard(unit.period);
  bool inserted = false;
  std::shared_ptr<const HeldUnit>& held =
      shard.units.Mutable(unit.trust, &inserted);
  held = std::make_shared<const HeldUnit>(std::move(unit));
  if (inserted) ++unit_count_;
}

void Index::RemoveUnit(absl::string_view trust, absl::string_view period) {
  const Shard* shard = FindShard(period);
  if (shard == nullptr || !shard->units.Contains(trust)) return;
  MutableShard(period).units.Erase(trust);
  --unit_count_;
}

void Index::MoveRollups(absl::string_view trust, absl::string_view period,
                        const UnitCells* from, const UnitCells* to,
                        ChangedMeasures* changed) {
  static const UnitCells kNone;
  const CellChanges changes =
      Changes(from == nullptr ? kNone : *from, to == nullptr ? kNone : *to);
  // A revision that changes nothing (a unit resent as it was) touches no
  // block, so copies none.
  if (changes.empty()) return;
  if (changed != nullptr) {
    // Buckets alone are not what a pattern reads.
    for (const CellChange& c : changes) {
      if (c.from == nullptr || c.to == nullptr ||
          c.from->value() != c.to->value()) {
        changed->Add(c.to != nullptr ? *c.to : *c.from);
      }
    }
  }
  Shard& shard = MutableShard(period);
  for (const std::string& node : NodesOf(trust, period)) {
    std::shared_ptr<NodeRollups>& block = shard.rollups.Mutable(node);
    if (block == nullptr) {
      block = std::make_shared<NodeRollups>();
      // A node's first unit: its cells, at once rather than by doubling.
      block->reserve(changes.size());
    } else if (!Unshared(block)) {
      block = std::make_shared<NodeRollups>(*block);
    }
    ApplyChanges(changes, *block);
    if (block->empty()) shard.rollups.Erase(node);
  }
}

// WholeAscending worked out once for a changed cell, rather than by the
// rollup of each node it is applied to (only distributions have buckets).
Index::CellChange Index::CellChange::Of(const UnitCell* from,
                                        const UnitCell* to) {
  return {from, to, from != nullptr && WholeAscending(from->buckets()),
          to != nullptr && WholeAscending(to->buckets())};
}

Index::CellChanges Index::Changes(const UnitCells& from, const UnitCells& to) {
  CellChanges changes;
  changes.reserve(std::max(from.size(), to.size()));
  // Both sorted by measure, and nearly always the same measures: ids equal
  // at each step, so codes are compared only where a measure is added or
  // dropped. The ends worked out once (a correction compares every cell).
  const UnitCell *a = from.begin(), *const a_end = from.end();
  const UnitCell *b = to.begin(), *const b_end = to.end();
  while (a != a_end && b != b_end) {
    if (a->measure_id() == b->measure_id()) {
      if (!UnitCells::Same(*a, *b)) changes.push_back(CellChange::Of(a, b));
      ++a, ++b;
    } else if (a->measure() < b->measure()) {
      changes.push_back(CellChange::Of(a++, nullptr));
    } else {
      changes.push_back(CellChange::Of(nullptr, b++));
    }
  }
  for (; a != a_end; ++a) changes.push_back(CellChange::Of(a, nullptr));
  for (; b != b_end; ++b) changes.push_back(CellChange::Of(nullptr, b));
  return changes;
}

void Index::ApplyChanges(absl::Span<const CellChange> changes,
                         NodeRollups& block) {
  // Both are sorted by measure: each search starts where the last ended.
  auto it = block.begin();
  for (const CellChange& c : changes) {
    const std::string& measure = (c.to != nullptr ? c.to : c.from)->measure();
    it = SeekMeasure(it, block.end(), measure);
    // Block keys are the interned codes: one address per code.
    bool held = it != block.end() && it->first == &measure;
    if (c.from != nullptr && held) {
      ApplyCell(*c.from, -1, c.from_whole, it->second);
      // Removed with its last unit, so float residue never outlives it.
      if (it->second.n_units == 0) {
        it = block.erase(it);
        held = false;
      }
    }
    if (c.to != nullptr) {
      if (!held) it = block.insert(it, {&measure, RollupCell()});
      ApplyCell(*c.to, +1, c.to_whole, it->second);
      held = true;
    }
    if (held) ++it;
  }
}

void Index::ReplaceUnit(HeldUnit unit, ChangedMeasures* changed) {
  // Kept alive until its cells are subtracted, whatever PutUnit frees.
  std::shared_ptr<const HeldUnit> old;
  if (const Shard* shard = FindShard(unit.period)) {
    if (auto* held = shard->units.Find(unit.trust)) old = *held;
  }
  MoveRollups(unit.trust, unit.period, old == nullptr ? nullptr : &old->cells,
              &unit.cells, changed);
  PutUnit(std::move(unit));
}

void Index::RetractUnit(absl::string_view trust, absl::string_view period,
                        ChangedMeasures* changed) {
  const HeldUnit* held = Unit(trust, period);
  if (held == nullptr) return;
  std::shared_ptr<const HeldUnit> old = *FindShard(period)->units.Find(trust);
  MoveRollups(trust, period, &old->cells, nullptr, changed);
  RemoveUnit(trust, period);
}

void Index::RecomputeRollups() {
  std::vector<std::string> periods;
  shards_.ForEach([&](const std::string& period, const auto& shard) {
    if (!shard->rollups.empty()) periods.push_back(period);
  });
  for (const std::string& period : periods)
    MutableShard(period).rollups.Clear();
  std::vector<std::shared_ptr<const HeldUnit>> units;
  units.reserve(unit_count_);
  ForEachHeld([&](const std::shared_ptr<const HeldUnit>& unit) {
    units.push_back(unit);
  });
  for (const auto& unit : units) {
    MoveRollups(unit->trust, unit->period, nullptr, &unit->cells);
  }
  // Built by insertion, so with up to twice the room they need; nothing
  // shares them yet.
  shards_.ForEachMutable([](const std::string&, std::shared_ptr<Shard>& shard) {
    if (shard->rollups.empty() || !Unshared(shard)) return;
    shard->rollups.ForEachMutable(
        [](const std::string&, std::shared_ptr<NodeRollups>& block) {
          if (!Unshared(block)) return;
          for (auto& [measure, cell] : *block) cell.buckets.shrink_to_fit();
          block->shrink_to_fit();
        });
  });
}

RollupMap Index::AllRollups() const {
  RollupMap out;
  shards_.ForEach([&](const std::string& period, const auto& shard) {
    shard->rollups.ForEach([&](const std::string& node, const auto& block) {
      for (const auto& [measure, cell] : *block) {
        out.emplace(RollupId(node, period, *measure), cell);
      }
    });
  });
  return out;
}

void Index::ForEachHeld(
    absl::FunctionRef<void(const std::shared_ptr<const HeldUnit>&)> f) const {
  shards_.ForEach([&](const std::string&, const auto& shard) {
    shard->units.ForEach(
        [&](const std::string&, const std::shared_ptr<const HeldUnit>& unit) {
          f(unit);
        });
  });
}

void Index::ForEachUnit(absl::FunctionRef<void(const HeldUnit&)> f) const {
  ForEachHeld([&](const std::shared_ptr<const HeldUnit>& unit) { f(*unit); });
}

RollupMap Index::ComputeRollups() const {
  Index fresh = *this;
  fresh.RecomputeRollups();
  return fresh.AllRollups();
}

}  // namespace ohfed::aggregator
