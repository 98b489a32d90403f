// Where queries run (issue 14, isolation): on two small fixed pools, so that
// a heavy query (national by trust over years) neither holds up light ones
// nor takes the CPU from them and from commits.
//  - Each query's cost is estimated from its request before it runs:
//    breakdown units x measures x months (QueryCost). From
//    `heavy_cost` up it runs in the heavy lane, otherwise in the light lane.
//  - The heavy lane has few threads (the limit on heavy queries at once;
//    more wait their turn) running at a lower OS priority (`heavy_nice`),
//    so while light queries or commits want the CPU they get it first.
//  - The light lane has its own threads at the process's priority: a light
//    query never waits behind a heavy one.
// gRPC's threads only hand the work over, so the number of threads stays
// fixed however many calls are waiting.
//
// Thread-safe. The destructor runs what is queued, then joins.
#ifndef OHFED_AGGREGATOR_QUERY_LANES_H_
#define OHFED_AGGREGATOR_QUERY_LANES_H_

#include <cstdint>
#include <functional>

#include "aggregator/work_pool.h"
#include "common/catalogue.h"
#include "common/registry.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator {

enum class QueryLane { kLight, kHeavy };

struct QueryLaneOptions {
  int light_threads = 4;
  int heavy_threads = 1;  // also the number of heavy queries run at once
  int heavy_nice = 10;    // 0: the process's priority
  // The heavy lane's threads also in Linux's SCHED_IDLE class (best
  // effort): the scheduler's lowest weight, far below nice 19's, so a
  // heavy query runs on what light queries, commits and the rest of the
  // machine leave, whatever nice the whole process was started with.
  bool heavy_sched_idle = true;
  // The estimated cost (QueryCost) from which a query is heavy. A year of
  // the whole catalogue by ICS nationally (42 x ~300 x 12) is heavy; a
  // quarter of one ICS by trust is not.
  int64_t heavy_cost = 50000;
  // Compute the suppression patterns in the heavy lane as the query service
  // starts (aggregator/query_service.h), so that the first heavy query
  // finds them ready.
  bool warm_patterns = true;
  // TEST ONLY: called as each query is queued (on gRPC's thread), and on
  // the lane's thread as it starts (before its deadline is checked).
  std::function<void(QueryLane)> on_queued, on_start;
};

// Units of the breakdown (1 for "self", or for a scope or breakdown that does
// not parse: the engine refuses those cheaply) x measures under the prefix
// (at least 1) x months. An estimate from the request alone, computed
// before anything is read.
int64_t QueryCost(const v1::QueryRequest& request, const Registry& registry,
                  const Catalogue& catalogue);
// Trusts (or units, by region or ICS) in scope x months.
int64_t CompletenessCost(const v1::CompletenessRequest& request,
                         const Registry& registry);

class QueryLanes {
 public:
  explicit QueryLanes(QueryLaneOptions options = {});

  QueryLane LaneFor(int64_t cost) const {
    return cost >= options_.heavy_cost ? QueryLane::kHeavy : QueryLane::kLight;
  }
  // Runs `query` in `lane` once the lane has a free thread.
  void Run(QueryLane lane, std::function<void()> query);
  // Runs `work` on the lanes' background thread, at the heavy lane's
  // priority (SCHED_IDLE) but apart from it, so that a heavy query never
  // waits behind it; not counted as a query (no on_queued, on_start).
  void RunInBackground(std::function<void()> work);
  // Blocks until both lanes and the background thread are idle.
  void WaitIdle() {
    background_.WaitIdle();
    light_.WaitIdle();
    heavy_.WaitIdle();
  }

 private:
  const QueryLaneOptions options_;
  WorkPool light_;
  WorkPool heavy_;
  WorkPool background_;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_QUERY_LANES_H_
