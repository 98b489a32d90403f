// The agent's raw records (SPEC §4): what the trust imported or typed in,
// by period and source. They never leave the agent; summaries are computed
// from them (agent/summaries.h).
//
// Keys: raw/<period>/<source>, source = staffing | profile | manual; the
// value is the source's records of that period as one agent_store.v1
// message (StaffingRecords, AnswerRecords) in canonical order, so "the same
// content" is "the same bytes" and an unchanged re-import is found by
// comparing values. Activity, which can be any size, is kept in chunks of
// an ActivityRecords in canonical order (agent/activity_chunks.h), read
// and summarised a chunk at a time.
//
// Writes are staged in a Staged (the caller's WriteBatch plus the values
// staged so far, which reads through it see) and become durable when the
// caller writes the batch. Not thread-safe: the owner serialises calls.
#ifndef OHFED_AGENT_RAW_RECORDS_H_
#define OHFED_AGENT_RAW_RECORDS_H_

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/activity_rows.h"
#include "agent/activity_tally.h"
#include "agent/records.h"

namespace ohfed::agent {

class RawRecords {
 public:
  // The raw values of one change being assembled.
  struct Staged {
    explicit Staged(rocksdb::WriteBatch* b) : batch(b) {}
    rocksdb::WriteBatch* batch;
    std::map<std::string, std::string> values;  // by key; "": deleted
  };

  // How the rows of a merge compared with what was stored.
  struct MergeCount {
    uint32_t changed = 0;
    uint32_t unchanged = 0;
  };

  explicit RawRecords(rocksdb::DB* db) : db_(db) {}

  // Every record of `period`, as staged in `st` (if given) or stored.
  // kDataLoss for a value that does not decode.
  absl::StatusOr<PeriodRecords> Load(const std::string& period,
                                     const Staged* st = nullptr) const;
  // Load, but the activity rows counted as they are read (activity_counts,
  // set if there are any) rather than kept: memory bounded whatever the
  // month's size (agent/activity_tally.h).
  absl::StatusOr<PeriodRecords> LoadCounted(const std::string& period,
                                            const Staged* st,
                                            const TallyOptions& options) const;
  // Every record of `period` but the activity rows.
  absl::StatusOr<PeriodRecords> LoadOthers(const std::string& period,
                                           const Staged* st = nullptr) const;
  // Calls `fn` for the period's activity rows, staged or stored, in
  // canonical order.
  absl::Status ForEachActivity(
      const std::string& period, const Staged* st,
      absl::FunctionRef<absl::Status(const ActivityView&)> fn) const;

  // Replaces a month's staffing (activity) rows; false if the rows equal
  // the stored ones, in any order (nothing staged then).
  absl::StatusOr<bool> ReplaceStaffing(const std::string& month,
                                       std::vector<StaffingRow> rows,
                                       Staged& st) const;
  absl::StatusOr<bool> ReplaceActivity(const std::string& month,
                                       std::vector<ActivityRow> rows,
                                       Staged& st) const;
  // Merges `answers` into the period's profile or manual answers, each
  // replacing the answer to its code.
  absl::StatusOr<MergeCount> MergeAnswers(const std::string& period,
                                          Source source, const Answers& answers,
                                          Staged& st) const;
  // Removes the answer to `code`; false if there was none.
  absl::StatusOr<bool> RemoveAnswer(const std::string& period, Source source,
                                    const std::string& code, Staged& st) const;
  // Deletes every record of `period`.
  absl::Status DeletePeriod(const std::string& period, Staged& st) const;

  // The codes entered by hand, by period (for the index built at open).
  absl::StatusOr<std::map<std::string, std::vector<std::string>>> ManualCodes()
      const;
  // Every period with any raw record (for a rebuild after damage).
  absl::StatusOr<std::set<std::string>> Periods() const;

  // The key and canonical encodings, shared with the format migration
  // (agent/store_format.h).
  static std::string Key(absl::string_view period, Source source);
  static std::string EncodeStaffing(std::vector<StaffingRow> rows);
  static std::string EncodeActivity(const std::vector<ActivityRow>& rows);
  static std::string EncodeAnswers(const Answers& answers);
  static absl::StatusOr<std::vector<StaffingRow>> DecodeStaffing(
      absl::string_view v);
  static absl::StatusOr<std::vector<ActivityRow>> DecodeActivity(
      absl::string_view v);
  static absl::StatusOr<Answers> DecodeAnswers(absl::string_view v);

 private:
  // The staged or stored value of `key`; "" if absent.
  absl::StatusOr<std::string> Read(const std::string& key,
                                   const Staged* st) const;
  void Stage(const std::string& key, std::string value, Staged& st) const;
  // Stages the deletion of the month's stored activity, either layout.
  absl::Status DeleteActivity(const std::string& month, Staged& st) const;

  rocksdb::DB* const db_;
};

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_RAW_RECORDS_H_
