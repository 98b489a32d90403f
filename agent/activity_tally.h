// Counts a month's activity rows as they stream by (ActivityCounts, from
// which agent/summary.h makes the cells), in memory bounded whatever the
// number of rows: per activity, events and a wait-day histogram (days are
// bounded by the catalogue); distinct subject references exactly, by a
// DistinctCounter that spills sorted runs to a file past its budget.
#ifndef OHFED_AGENT_ACTIVITY_TALLY_H_
#define OHFED_AGENT_ACTIVITY_TALLY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "agent/activity_rows.h"
#include "agent/records.h"
#include "agent/sorted_runs.h"

namespace ohfed::agent {

// Where the tally may spill, and how much it keeps in memory first.
struct TallyOptions {
  std::string temp_dir;  // "": never spill (rows known to be few)
  size_t distinct_budget = size_t{2} << 20;
  // Rows expected, if known: the distinct set is sized for them at once
  // (up to half the budget) instead of growing through every size.
  uint64_t expected_rows = 0;
};

// The exact number of distinct strings added. Memory: the strings kept
// plus the hash set's slots, up to the budget; past it the strings go to
// a sorted run in the temporary directory, merged at Finish.
class DistinctCounter {
 public:
  explicit DistinctCounter(TallyOptions options);
  // kUnavailable if a run cannot be written.
  absl::Status Add(absl::string_view s);
  absl::StatusOr<uint64_t> Finish();
  size_t spilled_runs() const { return runs_ ? runs_->runs() : 0; }

 private:
  // A copy of `s` in blocks_.
  absl::string_view Keep(absl::string_view s);
  absl::Status Spill();
  size_t Footprint() const;

  const TallyOptions options_;
  std::vector<std::unique_ptr<char[]>> blocks_;  // the strings, never moved
  size_t block_used_ = 0, block_size_ = 0, bytes_ = 0;
  absl::flat_hash_set<absl::string_view> set_;
  std::unique_ptr<SortedRuns> runs_;
};

class ActivityTally {
 public:
  explicit ActivityTally(TallyOptions options)
      : subjects_(std::move(options)) {}
  absl::Status Add(const ActivityView& row);
  uint64_t rows() const { return rows_; }
  absl::StatusOr<ActivityCounts> Finish();

 private:
  struct PerActivity {
    std::string name;
    uint64_t events = 0;
    std::vector<uint64_t> waits;  // by days
    std::map<int, uint64_t> large_waits;
  };
  absl::Status AddSubject(const ActivityView& row);
  PerActivity& Find(absl::string_view activity);

  DistinctCounter subjects_;
  std::vector<PerActivity> activities_;  // few: searched in order
  size_t last_ = 0;
  uint64_t rows_ = 0;
  bool any_subject_ = false;
};

// Counts rows already in memory.
ActivityCounts CountActivity(const std::vector<ActivityRow>& rows);

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_ACTIVITY_TALLY_H_
