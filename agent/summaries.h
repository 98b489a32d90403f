// The summaries and revisions derived from the raw records (SPEC §4): each
// period's current summary as it is sent, the codes entered by hand in it,
// and whether it is held back for outlier review.
//
// A period's summary is recomputed only from the raw records of that
// period (incremental maintenance) and gets a new revision, max(previous +
// 1, now in unix ms), only when its cells change. A retraction is a new
// revision with retracted = true and no cells; a period left with no cells
// (its last hand-entered value cleared) is retracted the same way.
//
// Keys: sum/<period> and hold/<period> (agent/store_format.h). The index of
// every period is in memory, loaded at Load. Changes are staged in a Staged
// and take effect in the index at Apply, once the caller has written the
// batch. Not thread-safe: the owner serialises calls.
#ifndef OHFED_AGENT_SUMMARIES_H_
#define OHFED_AGENT_SUMMARIES_H_

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/records.h"
#include "common/catalogue.h"
#include "common/clock.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::agent {

// One period's derived state.
struct PeriodSummary {
  v1::UnitSummary summary;          // without trust: stamped when read
  std::string held;                 // why held back; empty: not held
  std::vector<std::string> manual;  // codes entered by hand, sorted
};

// True for a "YYYY-MM" period, false for a year (asks Period).
bool IsMonthPeriod(const std::string& period);

class Summaries {
 public:
  // The summaries of one change being assembled.
  struct Staged {
    explicit Staged(rocksdb::WriteBatch* b) : batch(b) {}
    rocksdb::WriteBatch* batch;
    std::map<std::string, PeriodSummary> periods;
  };
  // Outlier warning reasons by period.
  using PeriodWarnings = std::map<std::string, std::vector<std::string>>;

  // `catalogue` and `clock` must outlive the summaries.
  Summaries(rocksdb::DB* db, const Catalogue* catalogue, Clock* clock)
      : db_(db), catalogue_(catalogue), clock_(clock) {}

  // Reads every summary and hold; `manual` gives the hand-entered codes by
  // period. kDataLoss for a corrupt summary or hold.
  absl::Status Load(std::map<std::string, std::vector<std::string>> manual);

  // The period's staged (if `st`) or current entry; nullptr: no data.
  const PeriodSummary* Find(const std::string& period,
                            const Staged* st = nullptr) const;
  const std::map<std::string, PeriodSummary>& periods() const {
    return periods_;
  }

  // Recomputes `period` from `records` and stages a new revision if its
  // cells changed. kInvalidArgument naming the period if a total is out of
  // range or a hand-entered value contradicts the records
  // (agent/overrides.h).
  absl::Status Recompute(const std::string& period,
                         const PeriodRecords& records, Staged& st) const;
  // Stages a retraction of a period that has data: no cells, not held, no
  // hand-entered codes.
  void StageRetraction(const std::string& period, Staged& st) const;
  // Holds the period (reason set) or releases it (empty reason).
  void StageHold(const std::string& period, std::string reason,
                 Staged& st) const;
  // Stages the period's summary as `revision`, produced now, cells
  // unchanged (a reassertion above a revision the aggregator held).
  void StageReassertion(const std::string& period, uint64_t revision,
                        Staged& st) const;
  // Outlier warnings (agent/outliers.h) for the cells the staged periods
  // change, against the earlier months; `flagged` (if given) receives each
  // period's warning reasons.
  std::vector<v1::RowProblem> Outliers(const Staged& st,
                                       PeriodWarnings* flagged = nullptr) const;
  // Makes the staged entries current; call once the batch is written.
  void Apply(Staged& st);

  // Why an import's period is held, bounded: the first warning and how
  // many more.
  static std::string HoldReason(const std::string& period,
                                const std::vector<std::string>& warnings);

 private:
  void StageRevision(const std::string& period, PeriodSummary entry,
                     v1::UnitSummary next, Staged& st) const;

  rocksdb::DB* const db_;
  const Catalogue* const catalogue_;
  Clock* const clock_;
  std::map<std::string, PeriodSummary> periods_;
};

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_SUMMARIES_H_
