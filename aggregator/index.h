// The aggregator's in-memory index: every held unit summary and the rollup
// of every measure per node ("national", "region:X", "ics:X") and period.
// It is the View the query engine reads.
//
// Rollups are maintained incrementally: replacing a unit subtracts the old
// revision's cells from the nodes above the trust and adds the new ones.
// The nodes come from the registry version in effect for the period's month,
// so a later registry version (a merger) does not move history.
//
// Copying an Index is cheap and gives an immutable snapshot: the data is
// held in one shard per period (its units and rollups) behind shared
// pointers, and a change copies a shard only while a snapshot still shares
// it (copy-on-write). The SummaryStore hands queries such snapshots, so a long
// query never holds a lock that a commit needs.
//
// Not thread-safe: the SummaryStore guards the copy it changes with a
// reader/writer lock. A snapshot copied under that lock may then be read, and
// dropped, on any thread without it.
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
  // A snapshot: shares every shard; later changes to either copy leave the
  // other as it was.
  Index(const Index&) = default;
  Index& operator=(const Index&) = default;

  // View.
  const Catalogue& catalogue() const override { return *catalogue_; }
  const Registry& registry() const override { return registry_->Latest(); }
  const Registry& RegistryAt(Month m) const override {
    return registry_->At(m);
  }
  const HeldUnit* Unit(absl::string_view trust,
                       absl::string_view period) const override;
  const RollupCell* Rollup(absl::string_view node, absl::string_view period,
                           absl::string_view measure) const override;
  int64_t LastReceived(absl::string_view trust) const override;
  std::string UpstreamReason(absl::string_view trust,
                             absl::string_view period) const override;
  bool Unconfirmed(absl::string_view trust) const override {
    return recovery_ != nullptr && recovery_->Unconfirmed(trust);
  }
  std::string RecoveryNote() const override {
    return recovery_ == nullptr ? std::string() : recovery_->Note();
  }

  // The rollup nodes above `trust` for `period`: national, its region and its
  // ICS in the registry version in effect then. Only national if the trust
  // or period is unknown.
  std::vector<std::string> NodesOf(absl::string_view trust,
                                   absl::string_view period) const;

  // The catalogue and registry history views of it report from now on, and
  // that NodesOf and ComputeRollups follow (the caller replaces the rollups
  // if the placement changed). Snapshots already taken keep theirs.
  void SetReference(std::shared_ptr<const Catalogue> catalogue,
                    std::shared_ptr<const RegistryHistory> registry) {
    catalogue_ = std::move(catalogue);
    registry_ = std::move(registry);
  }

  // Holds `unit` in place of any earlier revision; rollups are untouched
  // (the caller applies a precomputed delta with SetRollup).
  void PutUnit(HeldUnit unit);
  // Forgets the unit, if held; rollups are untouched, as for PutUnit. The
  // trust's LastReceived is kept.
  void RemoveUnit(absl::string_view trust, absl::string_view period);
  // Where UpstreamReason looks; nullptr for none. Must outlive the index and
  // every snapshot of it.
  void set_upstream(const UpstreamRefusals* upstream) { upstream_ = upstream; }
  // Where Unconfirmed looks; nullptr for none. Must outlive the index and
  // every snapshot of it.
  void set_recovery(const RecoveryConfirmations* recovery) {
    recovery_ = recovery;
  }
  // Replaces one rollup cell (by RollupId); an empty cell (n_units 0) is
  // removed.
  void SetRollup(const std::string& rollup_id, const RollupCell& cell);
  void ReplaceRollups(const RollupMap& rollups);

  // Rollups recomputed from the held units alone.
  RollupMap ComputeRollups() const;

  // The rollup cell with this RollupId, nullptr if none.
  const RollupCell* RollupById(absl::string_view rollup_id) const;
  // Every rollup cell, copied (for consistency checks).
  RollupMap AllRollups() const;
  // Every held unit, in no particular order.
  void ForEachUnit(absl::FunctionRef<void(const HeldUnit&)> f) const;
  size_t unit_count() const { return unit_count_; }

 private:
  // One period's units (by trust) and rollup cells (by RollupId).
  struct Shard {
    absl::flat_hash_map<std::string, std::shared_ptr<const HeldUnit>> units;
    RollupMap rollups;
  };
  using LastReceivedMap = absl::flat_hash_map<std::string, int64_t>;

  const Shard* FindShard(absl::string_view period) const;
  // The shard to change, copied first if a snapshot shares it.
  Shard& MutableShard(absl::string_view period);

  std::shared_ptr<const Catalogue> catalogue_;
  std::shared_ptr<const RegistryHistory> registry_;
  absl::flat_hash_map<std::string, std::shared_ptr<Shard>>
      shards_;                                      // by period
  std::shared_ptr<LastReceivedMap> last_received_;  // by trust, shared likewise
  size_t unit_count_ = 0;
  const UpstreamRefusals* upstream_ = nullptr;       // not owned
  const RecoveryConfirmations* recovery_ = nullptr;  // not owned
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_INDEX_H_
