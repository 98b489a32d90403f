// Where a streamed activity import keeps its valid rows until the file has
// been read and checked (an import is all or nothing: nothing is stored
// before the last row): grouped by month, compactly encoded, in memory up
// to a budget and in a temporary file beyond it. The file lives in the
// directory given (the store's staging directory, emptied at open) and is
// removed when the stage is destroyed; it need not survive a crash, which
// abandons the import.
//
// Memory is bounded by the budget plus, while one month is taken, that
// month's rows, whatever the size of the file. Not thread-safe.
#ifndef OHFED_AGENT_IMPORT_STAGE_H_
#define OHFED_AGENT_IMPORT_STAGE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/importer.h"
#include "agent/records.h"
#include "common/period.h"

namespace ohfed::agent {

class ActivityStage final : public ActivitySink {
 public:
  // Encoded rows kept in memory before they are written to the file.
  static constexpr size_t kDefaultMemoryBudget = size_t{2} << 20;

  // `dir` must exist; the file is made only when the budget is exceeded.
  ActivityStage(std::string dir, size_t memory_budget = kDefaultMemoryBudget);
  ~ActivityStage() override;
  ActivityStage(const ActivityStage&) = delete;
  ActivityStage& operator=(const ActivityStage&) = delete;

  // kUnavailable if the file cannot be written (naming it).
  absl::Status Add(Month month, const ActivityRow& row) override;

  uint64_t rows() const { return rows_; }
  // The months that have rows, in order.
  std::vector<Month> Months() const;
  // The rows of `month` in the order they were added; they are no longer
  // kept afterwards. kUnavailable if the file cannot be read.
  absl::StatusOr<std::vector<ActivityRow>> Take(Month month);

 private:
  struct MonthRows {
    std::string buffer;  // encoded rows not yet spilled
    std::vector<std::pair<uint64_t, uint64_t>> spilled;  // offset, length
    uint64_t rows = 0;
  };
  absl::Status Spill();

  const std::string dir_;
  const size_t budget_;
  std::map<Month, MonthRows> months_;
  size_t buffered_ = 0;
  uint64_t rows_ = 0;
  std::string path_;  // empty until the first spill
  int fd_ = -1;
  uint64_t file_size_ = 0;
};

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_IMPORT_STAGE_H_
