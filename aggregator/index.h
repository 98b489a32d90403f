// The aggregator's in-memory index: every held unit summary and the rollup
// of every measure per node ("national", "region:X", "ics:X") and period.
// It is the View the query engine reads.
//
// Rollups are maintained incrementally: replacing a unit subtracts the old
// revision's cells from the nodes above the trust and adds the new ones.
// The nodes come from the registry version in effect for the period's month,
// so a later registry version (a merger) does not move history.
//
// Not thread-safe: the Store guards it with a reader/writer lock.
#ifndef OHFED_AGGREGATOR_INDEX_H_
#define OHFED_AGGREGATOR_INDEX_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "aggregator/view.h"
#include "common/catalogue.h"
#include "common/registry.h"

namespace ohfed::aggregator {

using RollupMap = absl::flat_hash_map<std::string, RollupCell>;  // by RollupId

// Adds (sign +1) or subtracts (sign -1) a unit's cells to the rollups of
// `nodes`; `cell_at` returns the cell to change for a RollupId. A cell whose
// n_units falls to 0 is reset to empty (sum exactly 0) so that float residue
// never outlives the last unit.
void ApplyToRollups(const HeldUnit& unit, int sign,
                    const std::vector<std::string>& nodes,
                    absl::FunctionRef<RollupCell&(const std::string&)> cell_at);

class Index : public View {
 public:
  Index(std::shared_ptr<const Catalogue> catalogue,
        std::shared_ptr<const RegistryHistory> registry);

  // View.
  const Catalogue& catalogue() const override { return *catalogue_; }
  const Registry& registry() const override { return registry_->Latest(); }
  const Registry& RegistryAt(Month m) const override { return registry_->At(m); }
  const HeldUnit* Unit(absl::string_view trust,
                       absl::string_view period) const override;
  const RollupCell* Rollup(absl::string_view node, absl::string_view period,
                           absl::string_view measure) const override;
  int64_t LastReceived(absl::string_view trust) const override;
  std::string UpstreamReason(absl::string_view trust,
                             absl::string_view period) const override;

  // The rollup nodes above `trust` for `period`: national, its region and its
  // ICS in the registry version in effect then. Only national if the trust
  // or period is unknown.
  std::vector<std::string> NodesOf(absl::string_view trust,
                                   absl::string_view period) const;

  // Holds `unit` in place of any earlier revision; rollups are untouched
  // (the caller applies a precomputed delta with SetRollup).
  void PutUnit(HeldUnit unit);
  // Forgets a retracted unit; rollups are untouched, as for PutUnit.
  void RemoveUnit(absl::string_view trust, absl::string_view period);
  // Where UpstreamReason looks; nullptr for none. Must outlive the index.
  void set_upstream(const UpstreamRefusals* upstream) { upstream_ = upstream; }
  // Replaces one rollup cell; an empty cell (n_units 0) is removed.
  void SetRollup(const std::string& rollup_id, const RollupCell& cell);
  void ReplaceRollups(RollupMap rollups) { rollups_ = std::move(rollups); }

  // Rollups recomputed from the held units alone.
  RollupMap ComputeRollups() const;

  const absl::flat_hash_map<std::string, HeldUnit>& units() const {
    return units_;
  }
  const RollupMap& rollups() const { return rollups_; }

 private:
  std::shared_ptr<const Catalogue> catalogue_;
  std::shared_ptr<const RegistryHistory> registry_;
  absl::flat_hash_map<std::string, HeldUnit> units_;  // by UnitId
  RollupMap rollups_;
  absl::flat_hash_map<std::string, int64_t> last_received_;  // by trust
  const UpstreamRefusals* upstream_ = nullptr;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_INDEX_H_
