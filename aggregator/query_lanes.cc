#include "aggregator/query_lanes.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <utility>

#include "common/period.h"

namespace ohfed::aggregator {
namespace {

int64_t Months(const std::string& period) {
  absl::StatusOr<Period> p = Period::Parse(period);
  return p.ok() ? std::max(p->months(), 1) : 1;
}

// Units the answer breaks `scope` into at level `by` ("" or "self": one).
int64_t Units(const std::string& scope, const std::string& by,
              const Registry& registry) {
  absl::StatusOr<Scope> s = Scope::Parse(scope.empty() ? "national" : scope);
  if (!s.ok() || by.empty() || by == "self") return 1;
  absl::StatusOr<Scope::Level> level = Scope::ParseLevel(by);
  if (!level.ok()) return 1;
  return std::max<int64_t>(registry.Children(*s, *level).size(), 1);
}

// Moves the calling thread into SCHED_IDLE, once per thread (the heavy
// lane's threads never leave it). Best effort: on failure it keeps its nice.
void EnterIdleClass() {
  thread_local bool entered = false;
  if (entered) return;
  entered = true;
  sched_param param{};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
}

}  // namespace

int64_t QueryCost(const v1::QueryRequest& request, const Registry& registry,
                  const Catalogue& catalogue) {
  const int64_t measures = std::max<int64_t>(
      catalogue.WithPrefix(request.measure_prefix()).size(), 1);
  return Units(request.scope(), request.by(), registry) * measures *
         Months(request.period());
}

int64_t CompletenessCost(const v1::CompletenessRequest& request,
                         const Registry& registry) {
  const std::string by = request.by().empty() ? "trust" : request.by();
  return Units(request.scope(), by, registry) * Months(request.period());
}

QueryLanes::QueryLanes(QueryLaneOptions options)
    : options_(std::move(options)),
      light_("ohfed-query", options_.light_threads),
      heavy_("ohfed-heavyq", options_.heavy_threads, options_.heavy_nice),
      background_("ohfed-warmq", 1, options_.heavy_nice) {}

void QueryLanes::Run(QueryLane lane, std::function<void()> query) {
  if (options_.on_queued) options_.on_queued(lane);
  if (lane == QueryLane::kHeavy) {
    return heavy_.Post([this, query = std::move(query)] {
      if (options_.heavy_sched_idle) EnterIdleClass();
      if (options_.on_start) options_.on_start(QueryLane::kHeavy);
      query();
    });
  }
  light_.Post([this, query = std::move(query)] {
    if (options_.on_start) options_.on_start(QueryLane::kLight);
    query();
  });
}

void QueryLanes::RunInBackground(std::function<void()> work) {
  background_.Post([this, work = std::move(work)] {
    if (options_.heavy_sched_idle) EnterIdleClass();
    work();
  });
}

}  // namespace ohfed::aggregator
