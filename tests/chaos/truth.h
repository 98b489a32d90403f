// The crash test's oracle: the truth is what the agents hold once every
// change is acknowledged (their current summary of every period), and every
// level must show exactly that. Checks compare an aggregator's store, opened
// offline after the federation stopped, and live queries against it.
//
// Expected rollups are computed here from the agents' summaries, by the
// registry's placement of each trust (national, its region, its ICS), not by
// the aggregator's code: a sum and a count of units per measure, and the
// merged distribution buckets.
#ifndef OHFED_TESTS_CHAOS_TRUTH_H_
#define OHFED_TESTS_CHAOS_TRUTH_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/chaos/federation.h"

namespace ohfed::chaos {

struct Truth {
  // Every agent's current summary by "trust/period", retractions included.
  std::map<std::string, v1::UnitSummary> units;
};

// Asks every agent for its periods and their summaries. Fails if an agent
// does not answer, or a period is anything but "current" (acknowledged at
// its revision): the caller syncs first.
absl::StatusOr<Truth> CollectTruth(Federation& f);
// The same from agents given as their control socket by trust.
absl::StatusOr<Truth> CollectTruth(
    const std::map<std::string, std::string>& sockets);

// What one check found; `problems` empty means it passed.
struct CheckResult {
  std::vector<std::string> problems;  // at most kMaxProblems, then a count
  int revisions_checked = 0;          // units compared
  int rollups_checked = 0;            // rollup cells compared
  void Add(std::string problem);
};
inline constexpr size_t kMaxProblems = 20;

// Opens the stopped aggregator's store in `dir` offline and checks that it
// holds exactly the units of `trusts` in `truth` (same revisions, same cells,
// retractions held without cells), that its rollups equal a rebuild
// (SummaryStore::RecomputedRollups) and the rollups computed from the truth.
CheckResult CheckStore(const std::string& dir, const Truth& truth,
                       const std::set<std::string>& trusts);

// Asks the running national aggregator for the national sum of every
// measure of every month the truth holds, and compares them with the truth
// (national figures are not rounded).
CheckResult CheckNationalQueries(Federation& f, const Truth& truth);

}  // namespace ohfed::chaos

#endif  // OHFED_TESTS_CHAOS_TRUTH_H_
