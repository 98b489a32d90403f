// The crash test's workload: on its own thread, changes the agents' data
// without pause through their control API (the `ohfed` CLI's client):
// imports of staffing, activity and profile files, hand-entered values
// (`set`, `unset`) and retractions, on random agents and months. Calls to an
// agent that is down, or killed mid-call, fail and are counted; the truth
// is what the agents hold afterwards, not what was asked.
//
// Choices come from a seeded generator; their timing against the kills
// does not (threads), so a seed reproduces the schedule, not every race.
#ifndef OHFED_TESTS_CHAOS_WORKLOAD_H_
#define OHFED_TESTS_CHAOS_WORKLOAD_H_

#include <atomic>
#include <map>
#include <string>
#include <thread>

#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"
#include "tests/chaos/federation.h"

namespace ohfed::chaos {

class Workload {
 public:
  Workload(Federation* f, uint64_t seed) : f_(f), rng_(seed) {}
  ~Workload() { Stop(); }

  void Start();
  // Waits for the call in flight to end.
  void Stop();

  // Calls by "kind ok|failed" (e.g. "import activity ok").
  std::map<std::string, int> counts() const;
  int calls_ok() const;
  // The highest revision an agent answered a change with, by
  // "trust/period" (set, unset, retract): what it promised to keep.
  std::map<std::string, uint64_t> acknowledged() const;

 private:
  void Loop();
  // One random change on a random agent; returns the count key.
  std::string RunOne();

  Federation* const f_;
  std::mt19937_64 rng_;  // used by the workload thread only
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable absl::Mutex mu_;
  std::map<std::string, int> counts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> acknowledged_ ABSL_GUARDED_BY(mu_);
  void Acknowledged(const std::string& trust, const std::string& period,
                    uint64_t revision);
};

}  // namespace ohfed::chaos

#endif  // OHFED_TESTS_CHAOS_WORKLOAD_H_
