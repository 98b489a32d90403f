// The aggregator's in-memory index: every held unit summary and the rollup
// of every measure per node ("national", "region:X", "ics:X") and period.
// It is the View the query engine reads.
//
// Rollups live only here (they are derived data, SPEC §5): they are
// maintained incrementally, replacing a unit subtracting the old revision's
// cells from the nodes above the trust and adding the new ones, and
// recomputed from the units when the store opens. The nodes come from the
// registry version in effect for the period's month, so a later registry
// version (a merger) does not move history.
//
// Copying an Index is cheap and gives an immutable snapshot: the data is
// held in one shard per period (its units, and its rollups in one block per
// node) in copy-on-write maps (aggregator/cow_map.h), and a change copies a
// shard, the map chunk holding a unit, and a node's block, only while a
// snapshot still shares them. A commit changing one unit copies its
// period's shard (a few dozen pointers), one chunk of its units and of its
// rollup nodes, and the blocks of its three nodes (bucket arrays are shared
// until changed, aggregator/rollup_buckets.h), never the rest. The
// SummaryStore publishes such copies, so a query never holds a lock that a
// commit needs, nor the reverse.
//
// Not thread-safe: one writer changes an Index; a copy made by that writer
// may then be read, and dropped, on any thread.
#ifndef OHFED_AGGREGATOR_INDEX_H_
#define OHFED_AGGREGATOR_INDEX_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/types/span.h"
#include "aggregator/cow_map.h"
#include "aggregator/view.h"
#include "common/catalogue.h"
#include "common/registry.h"

namespace ohfed::aggregator {

using RollupMap = absl::flat_hash_map<std::string, RollupCell>;  // by RollupId

// The measures whose cells changes to an Index added, dropped or valued
// differently (Index::ReplaceUnit, RetractUnit): what a commit changed for
// the suppression patterns (PatternCache::CarryOver). Taken from the
// differences the rollups are moved by, so a commit compares each unit's
// cells once. Marked by interned id (UnitCell::measure_id): a group of
// units marks each of its ~60 measures once per unit in an array, and the
// codes are copied out once at the end.
class ChangedMeasures {
 public:
  void Add(const UnitCell& cell) {
    const uint32_t id = cell.measure_id();
    if (id >= marked_.size()) marked_.resize(id + 1, false);
    if (marked_[id]) return;
    marked_[id] = true;
    codes_.push_back(&cell.measure());
  }
  absl::flat_hash_set<std::string> Codes() const {
    absl::flat_hash_set<std::string> out;
    out.reserve(codes_.size());
    for (const std::string* code : codes_) out.insert(*code);
    return out;
  }

 private:
  std::vector<bool> marked_;
  std::vector<const std::string*> codes_;
};

class Index : public View {
 public:
  Index(std::shared_ptr<const Catalogue> catalogue,
        std::shared_ptr<const RegistryHistory> registry);
  // A snapshot: shares every shard; later changes to either copy leave the
  // other as it was.
  Index(const Index&) = default;
  Index& operator=(const Index&) = default;
  Index(Index&&) = default;
  Index& operator=(Index&&) = default;

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
  // Three at most: kept in place, not allocated.
  absl::InlinedVector<std::string, 3> NodesOf(absl::string_view trust,
                                              absl::string_view period) const;

  // The catalogue and registry history views of it report from now on, and
  // that NodesOf and the rollups follow (the caller recomputes the rollups
  // if the placement changed). Snapshots already taken keep theirs.
  void SetReference(std::shared_ptr<const Catalogue> catalogue,
                    std::shared_ptr<const RegistryHistory> registry) {
    catalogue_ = std::move(catalogue);
    registry_ = std::move(registry);
  }

  // Holds `unit` in place of any earlier revision of (trust, period), and
  // moves the rollups from the earlier revision's cells to its own. Adds
  // to `changed` (unless nullptr) the measures whose cells it added,
  // dropped or valued differently.
  void ReplaceUnit(HeldUnit unit, ChangedMeasures* changed = nullptr);
  // Forgets the unit, if held, and takes its cells out of the rollups (a
  // retraction); its measures are added to `changed` (unless nullptr). The
  // trust's LastReceived is kept.
  void RetractUnit(absl::string_view trust, absl::string_view period,
                   ChangedMeasures* changed = nullptr);

  // Holds `unit` in place of any earlier revision; rollups are untouched
  // (loading: RecomputeRollups follows).
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

  // Replaces every rollup with those computed from the held units alone.
  void RecomputeRollups();
  // The rollups RecomputeRollups would hold, by RollupId.
  RollupMap ComputeRollups() const;
  // Every rollup cell held, by RollupId (for consistency checks).
  RollupMap AllRollups() const;
  // Every held unit, in no particular order.
  void ForEachUnit(absl::FunctionRef<void(const HeldUnit&)> f) const;
  size_t unit_count() const { return unit_count_; }

 private:
  // One node's rollup cells for a period, sorted by measure code (interned,
  // the UnitCell's own): ~60 cells, so a sorted array is smaller than a hash
  // map (which had grown to 127 slots of 72 bytes) and copies in one piece,
  // its bucket arrays shared, when a commit copies the block a snapshot
  // shares.
  using NodeRollups = std::vector<std::pair<const std::string*, RollupCell>>;
  // One period's units (by trust) and rollup cells (by node, then measure).
  struct Shard {
    CowMap<std::shared_ptr<const HeldUnit>> units;
    CowMap<std::shared_ptr<NodeRollups>> rollups;
  };

  const Shard* FindShard(absl::string_view period) const;
  // f(unit) for every held unit, in no particular order.
  void ForEachHeld(
      absl::FunctionRef<void(const std::shared_ptr<const HeldUnit>&)> f) const;
  // The shard to change, copied first if a snapshot shares it.
  Shard& MutableShard(absl::string_view period);
  // A cell of a unit whose contribution to the rollups changes: `from` (the
  // held revision's, nullptr if it had none) is taken out, then `to` (the
  // new one's, nullptr if it has none) is added.
  struct CellChange {
    const UnitCell* from = nullptr;
    const UnitCell* to = nullptr;
    // WholeAscending of each one's buckets, worked out once for the nodes
    // the change is applied to.
    bool from_whole = false;
    bool to_whole = false;
    static CellChange Of(const UnitCell* from, const UnitCell* to);
  };
  // Moves the rollups of the nodes above (trust, period) from the cells
  // `from` (a revision held before; nullptr: none) to `to` (the new one;
  // nullptr: a retraction). Only cells that differ are moved: a correction
  // of one value changes one cell of each block. Those added, dropped or
  // revalued go to `changed` (unless nullptr).
  void MoveRollups(absl::string_view trust, absl::string_view period,
                   const UnitCells* from, const UnitCells* to,
                   ChangedMeasures* changed = nullptr);
  // The cells that differ between two revisions, by measure: kept in
  // place for a full catalogue's cells, not allocated for each unit.
  using CellChanges = absl::InlinedVector<CellChange, 64>;
  static CellChanges Changes(const UnitCells& from, const UnitCells& to);
  // Applies `changes` to one node's block. A cell whose n_units falls to 0
  // is removed, so that float residue never outlives the last unit.
  static void ApplyChanges(absl::Span<const CellChange> changes,
                           NodeRollups& block);

  std::shared_ptr<const Catalogue> catalogue_;
  std::shared_ptr<const RegistryHistory> registry_;
  CowMap<std::shared_ptr<Shard>> shards_;  // by period
  CowMap<int64_t> last_received_;          // by trust
  size_t unit_count_ = 0;
  const UpstreamRefusals* upstream_ = nullptr;       // not owned
  const RecoveryConfirmations* recovery_ = nullptr;  // not owned
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_INDEX_H_
