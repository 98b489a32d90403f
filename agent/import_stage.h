// Where a streamed activity import keeps its valid rows until the file has
// been read and checked (an import is all or nothing: nothing is stored
// before the last row): grouped by month, compactly encoded, in memory up
// to a budget and in a temporary file beyond it. The file lives in the
// directory given (the store's staging directory, emptied at open) and is
// removed when the stage is destroyed; it need not survive a crash, which
// abandons the import.
//
// Memory is bounded by the budget plus, while one month is sorted, the sort
// budget (and about as much again for its sort keys), whatever the size of
// the file or of a month: a month larger than the sort budget is sorted in
// runs written to a second file (agent/sorted_runs.h) and merged.
//
// While the caller consumes one month of ForEachSorted, the next month (if
// it fits the sort budget, and the two months' rows and sort keys fit in
// three) is read and sorted on a thread of the stage's own, so that an
// import's months are sorted on one core while they are stored on the
// other. Not thread-safe otherwise: one caller at a time.
#ifndef OHFED_AGENT_IMPORT_STAGE_H_
#define OHFED_AGENT_IMPORT_STAGE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "agent/activity_rows.h"
#include "agent/importer.h"
#include "agent/records.h"
#include "common/period.h"

namespace ohfed::agent {

class ActivityStage final : public ActivitySink {
 public:
  // Encoded rows kept in memory before they are written to the file.
  static constexpr size_t kDefaultMemoryBudget = size_t{2} << 20;

  // Staged rows of one month sorted in memory at a time.
  static constexpr size_t kDefaultSortBudget = size_t{2} << 20;

  // `dir` must exist; the file is made only when the budget is exceeded.
  ActivityStage(std::string dir, size_t memory_budget = kDefaultMemoryBudget,
                size_t sort_budget = kDefaultSortBudget);
  ~ActivityStage() override;
  ActivityStage(const ActivityStage&) = delete;
  ActivityStage& operator=(const ActivityStage&) = delete;

  // kUnavailable if the file cannot be written (naming it).
  absl::Status AddView(Month month, const ActivityView& row) override;
  absl::Status Add(Month month, const ActivityRow& row) {
    return AddView(month, ViewOf(row));
  }

  uint64_t rows() const { return rows_; }
  // The staged rows' bytes, in memory and in the file.
  uint64_t bytes() const { return file_size_ + buffered_; }
  // The rows staged for `month`.
  uint64_t rows(Month month) const;
  // The months that have rows, in order.
  std::vector<Month> Months() const;
  // The rows of `month` in the order they were added; they are no longer
  // kept afterwards. kUnavailable if the file cannot be read.
  absl::StatusOr<std::vector<ActivityRow>> Take(Month month);
  // Calls `fn` for the rows of `month` in canonical order (ActivityRow's),
  // in memory bounded by the sort budget; the rows are no longer kept
  // afterwards. `fn`'s view is valid during the call. Stops at the first
  // error of `fn`; kUnavailable / kDataLoss for the staging files.
  absl::Status ForEachSorted(
      Month month, absl::FunctionRef<absl::Status(const ActivityView&)> fn);
  // How many sorted runs the last ForEachSorted wrote (0: it fit).
  size_t last_sort_runs() const { return last_sort_runs_; }
  // How many months ForEachSorted found already sorted, ahead of the call.
  uint64_t months_sorted_ahead() const { return months_sorted_ahead_; }

  struct Keyed;  // a row's sort key

 private:
  struct MonthRows {
    std::string buffer;  // encoded rows not yet spilled
    std::vector<std::pair<uint64_t, uint64_t>> spilled;  // offset, length
    uint64_t rows = 0;
  };
  // A batch of rows and their sort keys, in canonical order once sorted;
  // kept from month to month (not given back and faulted in again).
  struct Sorted {
    std::string batch;
    std::vector<Keyed> keyed;
  };
  // The month after the one being consumed, sorted on `thread` into
  // `spare_`. Its rows stay here until ForEachSorted takes the month.
  struct Ahead {
    Month month;
    MonthRows rows;
    absl::Status status;
    std::thread thread;
  };
  // Reads all of `m` into `out` and sorts it.
  absl::Status SortWhole(const MonthRows& m, Sorted& out) const;
  // Starts sorting the month after `month`, if it fits the sort budget.
  void StartAhead(Month month);
  // Waits for the month sorted ahead and gives its rows back to the stage.
  void RestoreAhead();
  absl::Status Spill();
  absl::Status ReadExtent(std::pair<uint64_t, uint64_t> extent,
                          std::string* out) const;
  // Calls `fn` for the rows of `month` in the order they were added.
  absl::Status ForEachStaged(
      Month month, absl::FunctionRef<absl::Status(const ActivityView&)> fn);
  // Takes `month` off the stage.
  MonthRows Remove(Month month);

  const std::string dir_;
  const size_t budget_;
  const size_t sort_budget_;
  size_t last_sort_runs_ = 0;
  std::map<Month, MonthRows> months_;
  size_t buffered_ = 0;
  uint64_t rows_ = 0;
  // ForEachSorted's buffers: the month being consumed, and the next.
  std::unique_ptr<Sorted> current_, spare_;
  std::unique_ptr<Ahead> ahead_;
  uint64_t months_sorted_ahead_ = 0;
  std::string path_;  // empty until the first spill
  int fd_ = -1;
  uint64_t file_size_ = 0;
};

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_IMPORT_STAGE_H_
