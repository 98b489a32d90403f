#include "aggregator/index.h"

#include <algorithm>

#include "aggregator/codec.h"
#include "aggregator/validation.h"

namespace ohfed::aggregator {

void ApplyToRollups(const HeldUnit& unit, int sign,
                    const std::vector<std::string>& nodes,
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
        count = sign > 0 ? count + b.count() : count - std::min(count, b.count());
        if (count == 0) r.buckets.erase(b.value());
      }
      if (r.n_units == 0) r = RollupCell();
    }
  }
}

Index::Index(std::shared_ptr<const Catalogue> catalogue,
             std::shared_ptr<const RegistryHistory> registry)
    : catalogue_(std::move(catalogue)), registry_(std::move(registry)) {}

const HeldUnit* Index::Unit(absl::string_view trust,
                            absl::string_view period) const {
  auto it = units_.find(UnitId(trust, period));
  return it == units_.end() ? nullptr : &it->second;
}

const RollupCell* Index::Rollup(absl::string_view node,
                                absl::string_view period,
                                absl::string_view measure) const {
  auto it = rollups_.find(RollupId(node, period, measure));
  return it == rollups_.end() ? nullptr : &it->second;
}

int64_t Index::LastReceived(absl::string_view trust) const {
  auto it = last_received_.find(trust);
  return it == last_received_.end() ? 0 : it->second;
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
  int64_t& last = last_received_[unit.trust];
  last = std::max(last, unit.last_received_unix_ms);
  std::string id = UnitId(unit.trust, unit.period);
  units_[id] = std::move(unit);
}

void Index::RemoveUnit(absl::string_view trust, absl::string_view period) {
  units_.erase(UnitId(trust, period));
}

void Index::SetRollup(const std::string& rollup_id, const RollupCell& cell) {
  if (cell.n_units == 0) {
    rollups_.erase(rollup_id);
  } else {
    rollups_[rollup_id] = cell;
  }
}

RollupMap Index::ComputeRollups() const {
  RollupMap out;
  for (const auto& [id, unit] : units_) {
    ApplyToRollups(unit, +1, NodesOf(unit.trust, unit.period),
                   [&](const std::string& key) -> RollupCell& { return out[key]; });
  }
  return out;
}

}  // namespace ohfed::aggregator
