#include "aggregator/index.h"

#include <algorithm>
#include <atomic>

#include "aggregator/codec.h"
#include "aggregator/validation.h"

namespace ohfed::aggregator {

void ApplyToRollups(
    const HeldUnit& unit, int sign, const std::vector<std::string>& nodes,
    absl::FunctionRef<RollupCell&(const std::string&)> cell_at) {
  for (const std::string& node : nodes) {
    for (const auto& [measure, cell] : unit.cells) {
      RollupCell& r = cell_at(RollupId(node, unit.period, measure));
      r.sum += sign * cell.value();
      if (sign > 0) {
        ++r.n_units;
      } else if (r.n_units > 0) {
        --r.n_units;
      }
      for (const v1::Bucket& b : cell.buckets()) {
        uint64_t& count = r.buckets[b.value()];
        count =
            sign > 0 ? count + b.count() : count - std::min(count, b.count());
        if (count == 0) r.buckets.erase(b.value());
      }
      if (r.n_units == 0) r = RollupCell();
    }
  }
}

namespace {

// The period of a RollupId "node|period|measure".
absl::string_view PeriodOfRollupId(absl::string_view id) {
  size_t first = id.find('|');
  if (first == absl::string_view::npos) return {};
  size_t second = id.find('|', first + 1);
  if (second == absl::string_view::npos) return {};
  return id.substr(first + 1, second - first - 1);
}

// Whether `p` may be changed in place: no snapshot shares it. Snapshots are
// only made under the SummaryStore's lock, which the changer holds
// exclusively, so a count of 1 cannot grow meanwhile; the fence orders the
// changes after a snapshot's last reads, which its release of the count
// published.
template <class T>
bool Unshared(const std::shared_ptr<T>& p) {
  if (p.use_count() != 1) return false;
  std::atomic_thread_fence(std::memory_order_acquire);
  return true;
}

}  // namespace

Index::Index(std::shared_ptr<const Catalogue> catalogue,
             std::shared_ptr<const RegistryHistory> registry)
    : catalogue_(std::move(catalogue)),
      registry_(std::move(registry)),
      last_received_(std::make_shared<LastReceivedMap>()) {}

const Index::Shard* Index::FindShard(absl::string_view period) const {
  auto it = shards_.find(period);
  return it == shards_.end() ? nullptr : it->second.get();
}

Index::Shard& Index::MutableShard(absl::string_view period) {
  std::shared_ptr<Shard>& shard = shards_[period];
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
  auto it = shard->units.find(trust);
  return it == shard->units.end() ? nullptr : it->second.get();
}

const RollupCell* Index::Rollup(absl::string_view node,
                                absl::string_view period,
                                absl::string_view measure) const {
  const Shard* shard = FindShard(period);
  if (shard == nullptr) return nullptr;
  auto it = shard->rollups.find(RollupId(node, period, measure));
  return it == shard->rollups.end() ? nullptr : &it->second;
}

const RollupCell* Index::RollupById(absl::string_view rollup_id) const {
  const Shard* shard = FindShard(PeriodOfRollupId(rollup_id));
  if (shard == nullptr) return nullptr;
  auto it = shard->rollups.find(rollup_id);
  return it == shard->rollups.end() ? nullptr : &it->second;
}

int64_t Index::LastReceived(absl::string_view trust) const {
  auto it = last_received_->find(trust);
  return it == last_received_->end() ? 0 : it->second;
}

std::string Index::UpstreamReason(absl::string_view trust,
                                  absl::string_view period) const {
  return upstream_ == nullptr ? std::string()
                              : upstream_->RefusalReason(trust, period);
}

std::vector<std::string> Index::NodesOf(absl::string_view trust,
                                        absl::string_view period) const {
  std::vector<std::string> nodes = {"national"};
  absl::StatusOr<Month> month = SummaryMonth(period);
  if (!month.ok()) return nodes;
  const Registry& r = registry_->At(*month);
  if (r.FindTrust(trust) == nullptr) return nodes;
  nodes.push_back(r.Enclosing(trust, Scope::Level::kRegion).ToString());
  nodes.push_back(r.Enclosing(trust, Scope::Level::kIcs).ToString());
  return nodes;
}

void Index::PutUnit(HeldUnit unit) {
  if (!Unshared(last_received_)) {
    last_received_ = std::make_shared<LastReceivedMap>(*last_received_);
  }
  int64_t& last = (*last_received_)[unit.trust];
  last = std::max(last, unit.last_received_unix_ms);
  Shard& shard = MutableShard(unit.period);
  std::string trust = unit.trust;
  auto [it, inserted] = shard.units.insert_or_assign(
      std::move(trust), std::make_shared<const HeldUnit>(std::move(unit)));
  if (inserted) ++unit_count_;
}

void Index::RemoveUnit(absl::string_view trust, absl::string_view period) {
  const Shard* shard = FindShard(period);
  if (shard == nullptr || !shard->units.contains(trust)) return;
  MutableShard(period).units.erase(trust);
  --unit_count_;
}

void Index::SetRollup(const std::string& rollup_id, const RollupCell& cell) {
  absl::string_view period = PeriodOfRollupId(rollup_id);
  if (cell.n_units == 0) {
    const Shard* shard = FindShard(period);
    if (shard == nullptr || !shard->rollups.contains(rollup_id)) return;
    MutableShard(period).rollups.erase(rollup_id);
  } else {
    MutableShard(period).rollups[rollup_id] = cell;
  }
}

void Index::ReplaceRollups(const RollupMap& rollups) {
  for (auto& [period, shard] : shards_) {
    if (!shard->rollups.empty()) MutableShard(period).rollups.clear();
  }
  for (const auto& [id, cell] : rollups) SetRollup(id, cell);
}

RollupMap Index::AllRollups() const {
  RollupMap out;
  for (const auto& [period, shard] : shards_) {
    out.insert(shard->rollups.begin(), shard->rollups.end());
  }
  return out;
}

void Index::ForEachUnit(absl::FunctionRef<void(const HeldUnit&)> f) const {
  for (const auto& [period, shard] : shards_) {
    for (const auto& [trust, unit] : shard->units) f(*unit);
  }
}

RollupMap Index::ComputeRollups() const {
  RollupMap out;
  ForEachUnit([&](const HeldUnit& unit) {
    ApplyToRollups(
        unit, +1, NodesOf(unit.trust, unit.period),
        [&](const std::string& key) -> RollupCell& { return out[key]; });
  });
  return out;
}

}  // namespace ohfed::aggregator
