// Secondary suppression for one disclosive measure (SPEC §7), computed over
// everything the aggregator holds for it, independent of any query's scope,
// so that the same cell is suppressed in every view and no re-scoped or
// repeated query reveals more.
//
// A table: the units of a subtree of the registry (its root and every ICS
// and trust below it) × every month, calendar quarter, calendar year and
// financial year of the calendar years that hold data for the measure ("the
// period family"). Its equations: each node = Σ its children for every
// period (registry in effect at the period's end, as the query engine
// uses), and for every unit each quarter = Σ its months, each year and
// financial year = Σ its quarters (where the unit has the same trusts
// throughout). National cells are exact. common/disclosure.h chooses the
// pattern.
//
// Patterns are built bottom-up so that aggregators at different levels
// agree: each ICS's subtree is protected on its own data alone; a region's
// table starts from its ICSs' patterns and adds only the complements its
// region equations need; England's starts from the regions' patterns and
// adds only what the exact national figure needs. An aggregator computes
// the pattern of its coverage, so a regional aggregator, holding only its
// region, suppresses the same cells as the national one does for that
// region, except cells the national one adds to protect another region's
// small total against the exact national figure (rare: a region total of
// 1..7 whose siblings do not hide it). Such a cell shows at the regional
// aggregator only to callers who cannot see the national figure, because
// an aggregator refuses callers whose scope is wider than its coverage
// (aggregator/authz.h). Every view an aggregator gives is protected: a
// caller within one ICS who asks the ICS's aggregator and the regional one
// learns no more than the ICS's own pattern protects.
//
// Arbitrary month ranges are not in the table: below national, the query
// engine answers disclosive measures only for standard periods
// (IsStandardPeriod).
#ifndef OHFED_AGGREGATOR_DISCLOSURE_PATTERN_H_
#define OHFED_AGGREGATOR_DISCLOSURE_PATTERN_H_

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "aggregator/view.h"
#include "common/catalogue.h"
#include "common/disclosure.h"
#include "common/period.h"
#include "common/registry.h"

namespace ohfed::aggregator {

// A month, calendar quarter, calendar year or financial year, whatever text
// asked for it ("2026-01:2026-03" is the first quarter).
bool IsStandardPeriod(const Period& period);

class SuppressionPattern {
 public:
  // The pattern of the subtree `coverage` (national, a region or an ICS),
  // reading the measure's cells through `view`, which is not kept.
  static SuppressionPattern Compute(const View& view, const Measure& m,
                                    const DisclosureOptions& options,
                                    const Scope& coverage = Scope::National());

  // Whether the cell of `unit` for `period` is suppressed, primary or
  // secondary. False for cells outside the table (national, non-standard
  // periods, no data), which the caller handles.
  bool Suppressed(const Scope& unit, const Period& period) const;

  // The same cells suppressed (tests compare a carried-over pattern with a
  // fresh one).
  bool operator==(const SuppressionPattern& other) const {
    return suppressed_ == other.suppressed_;
  }

 private:
  absl::flat_hash_set<std::string> suppressed_;  // by CellKey
};

// Patterns computed once and shared by several queries that read the same
// View snapshot with the same coverage and disclosure options (e.g. the
// dashboard's dozens of queries for one page): a pattern depends only on
// those and the measure, and below national one costs time proportional to
// everything held for the measure. The holder of a cache guarantees that
// every query given it reads that one snapshot; a new snapshot needs a new
// cache, which may carry over the patterns of measures whose cells did not
// change (CarryOver). What a query computes in an older cache after a newer
// one was carried over from it is passed on to the newest one of the chain
// if the measure has not changed since (so that a query that outlasts many
// commits, say a heavy one under steady ingest, leaves its work to the next
// query instead of to a cache nobody will read again). Thread-safe.
class PatternCache {
 public:
  // A cache for the snapshot that follows `previous`'s, holding its patterns
  // of every measure not in `changed`: a pattern reads only the measure's
  // cells (their presence and values), the registry and the disclosure
  // options, so when a commit changed no cell of a measure, its pattern is
  // the one computed before. The holder guarantees the registry and the
  // options did not change between the two snapshots.
  static std::shared_ptr<PatternCache> CarryOver(
      const PatternCache& previous,
      const absl::flat_hash_set<std::string>& changed);

  // The measure's pattern: the cached one, or `compute()`'s, which is then
  // cached. Two callers racing on a new measure may both compute it; the
  // first to finish is kept.
  std::shared_ptr<const SuppressionPattern> Get(
      const std::string& measure,
      absl::FunctionRef<SuppressionPattern()> compute);
  // The same as Get, ahead of any query (a warm-up: WarmPatterns), and
  // counted apart from Get's computations.
  void Warm(const std::string& measure,
            absl::FunctionRef<SuppressionPattern()> compute);
  // Patterns computed so far by this cache and the others of its lineage
  // (those carried over one from another): for a query that found none
  // cached (Get), or in advance (Warm).
  struct Counts {
    uint64_t on_demand = 0;
    uint64_t in_advance = 0;
  };
  Counts counts() const;
  // The measure's cached pattern, nullptr if none.
  std::shared_ptr<const SuppressionPattern> Find(
      const std::string& measure) const;
  size_t size() const;  // measures cached

  // A node's monthly rollup sums of one measure over one calendar year, as
  // View::Rollup gives them (`held` false where it gives none). Like a
  // pattern they read only the measure's cells and the registry, so they
  // are carried over with it; a query summing a node over several months
  // (aggregator/query_grid.h) reads them here instead of 12 Rollup
  // lookups per node, measure and year.
  struct YearSums {
    std::array<double, 12> sum{};
    std::array<bool, 12> held{};
  };
  // The cached sums, or `compute()`'s, which are then cached.
  YearSums Sums(const std::string& measure, const std::string& node, int year,
                absl::FunctionRef<YearSums()> compute);

  // A node's total of one measure over a period of several months: the sum
  // of its monthly rollup sums (in month order) and the number of its
  // trusts (registry in effect at the period's end) holding the measure in
  // any of those months. It reads what YearSums reads plus the presence of
  // the trusts' cells, so it is carried over with them; repeated queries
  // of a year or quarter by ICS then read one entry per node and measure
  // instead of a cell lookup per trust and month. Callers cache standard
  // periods only (IsStandardPeriod), which bounds the entries by the data
  // held, not by the ranges asked.
  struct PeriodTotal {
    double sum = 0;
    uint32_t n_units = 0;
  };
  // The cached total, or `compute()`'s, which is then cached.
  PeriodTotal Total(const std::string& measure, const std::string& node,
                    const Period& period,
                    absl::FunctionRef<PeriodTotal()> compute);

 private:
  // The caches carried over one from another (CarryOver), newest last: the
  // newest, and when each measure last changed, counted in carry-overs.
  struct Lineage {
    absl::Mutex mu;
    uint64_t version ABSL_GUARDED_BY(mu) = 0;
    std::weak_ptr<PatternCache> newest ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<std::string, uint64_t> changed_at ABSL_GUARDED_BY(mu);
    std::atomic<uint64_t> on_demand{0}, in_advance{0};  // Counts
  };
  // Get, counting what it computes as on demand or in advance.
  std::shared_ptr<const SuppressionPattern> GetCounted(
      const std::string& measure,
      absl::FunctionRef<SuppressionPattern()> compute, bool in_advance);
  // The lineage's newest cache if it is not this one and `measure` has not
  // changed since this cache's version, else nullptr. Called outside mu_.
  std::shared_ptr<PatternCache> NewerToShare(const std::string& measure) const;

  // One measure's sums and totals, shared by the caches of successive
  // snapshots while the measure's cells do not change.
  struct MeasureSums {
    absl::Mutex mu;
    absl::flat_hash_map<std::pair<std::string, int>, YearSums> by_node_year
        ABSL_GUARDED_BY(mu);
    // By (node, first month index, last month index).
    absl::flat_hash_map<std::tuple<std::string, int, int>, PeriodTotal>
        by_node_period ABSL_GUARDED_BY(mu);
  };
  std::shared_ptr<MeasureSums> SumsOf(const std::string& measure);

  std::shared_ptr<Lineage> lineage_ = std::make_shared<Lineage>();
  uint64_t version_ = 0;  // in lineage_; set before the cache is shared
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const SuppressionPattern>>
      patterns_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<MeasureSums>> sums_
      ABSL_GUARDED_BY(mu_);
};

// Computes in `cache` the pattern of every disclosive measure of the view's
// catalogue not cached yet, as a query's RowProtector would (`options`,
// `coverage`: the aggregator's), so that the first query after a start
// finds them ready: below national, the first query touching every measure
// (say national by trust) otherwise computes them all (4-5 s for 207 trusts
// x 60 months). Nothing when secondary suppression is off (no query reads
// patterns then). Starts at the catalogue's measure `*next` and stops
// before a measure once `stop()` says so, leaving `*next` there (the
// catalogue's size when done), so that a caller resuming on newer data
// passes over each measure once. Returns the patterns it computed.
int WarmPatterns(const View& view, const DisclosureOptions& options,
                 const Scope& coverage, PatternCache& cache,
                 absl::FunctionRef<bool()> stop, size_t* next);

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_DISCLOSURE_PATTERN_H_
