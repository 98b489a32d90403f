// Sorted runs of records (byte strings of up to 64 KiB) in a temporary
// file, merged back in order in bounded memory: the external sort behind
// an import's months and distinct counts when they do not fit in memory.
//
// The file is made in `dir` at the first run and removed at destruction;
// it need not survive a crash (an interrupted import is abandoned, and the
// store empties its staging directory at open). Merging reads each run
// through a buffer of its share of `buffer_bytes`; more than kFanIn runs
// are first merged kFanIn at a time into longer runs, so memory stays
// bounded whatever the number of records. Not thread-safe.
#ifndef OHFED_AGENT_SORTED_RUNS_H_
#define OHFED_AGENT_SORTED_RUNS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ohfed::agent {

class SortedRuns {
 public:
  static constexpr size_t kFanIn = 32;
  // Orders two records: true if a goes before b.
  using Less = absl::FunctionRef<bool(absl::string_view, absl::string_view)>;

  SortedRuns(std::string dir, std::string stem);
  ~SortedRuns();
  SortedRuns(const SortedRuns&) = delete;
  SortedRuns& operator=(const SortedRuns&) = delete;

  // Appends one run: `records`, already in order. kUnavailable naming the
  // file if it cannot be written.
  absl::Status AddRun(const std::vector<absl::string_view>& records);
  size_t runs() const { return runs_.size(); }

  // Calls `fn` for every record of every run, in `less` order (records
  // that compare equal in any order). The runs are consumed.
  absl::Status Merge(Less less, size_t buffer_bytes,
                     absl::FunctionRef<absl::Status(absl::string_view)> fn);

 private:
  class Reader;
  // Merges runs_[first, first + n) and appends the result as a new run.
  absl::Status MergeInto(size_t first, size_t n, Less less,
                         size_t buffer_bytes);
  absl::Status MergeRange(
      size_t first, size_t n, Less less, size_t buffer_bytes,
      absl::FunctionRef<absl::Status(absl::string_view)> fn);
  absl::Status Open();
  absl::Status Write(absl::string_view bytes);

  const std::string dir_, stem_;
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  std::vector<std::pair<uint64_t, uint64_t>> runs_;  // offset, length
};

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_SORTED_RUNS_H_
