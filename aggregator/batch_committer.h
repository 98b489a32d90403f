// Commits without a thread per waiting caller. SummaryStore::Commit blocks
// its caller until the summaries are durable, and group commit shares one
// sync among the callers waiting at once; with the Ingest service's callback
// API nobody should block per stream. BatchCommitter queues each batch of
// validated summaries with a completion callback; a small fixed set of
// threads takes everything queued (up to a bound), makes it durable in one
// SummaryStore::Commit, and calls each batch's callback with its outcomes,
// in order. One call's outcomes are what separate calls in one group commit
// would give (a summary superseded within the commit counts as ACCEPTED), and
// a failed commit fails every batch in it.
//
// Thread-safe. The store must outlive the committer; the destructor commits
// what is queued and runs its callbacks.
#ifndef OHFED_AGGREGATOR_BATCH_COMMITTER_H_
#define OHFED_AGGREGATOR_BATCH_COMMITTER_H_

#include <deque>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "aggregator/summary_store.h"
#include "aggregator/work_pool.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator {

class BatchCommitter {
 public:
  // The batch handed back, and its outcomes (one per summary, in order) or
  // the commit's error.
  using Done =
      std::function<void(std::vector<v1::UnitSummary> summaries,
                         absl::StatusOr<std::vector<v1::Outcome>> outcomes)>;

  // `threads` committing threads: two let one gather the next group while
  // the other waits for its sync.
  explicit BatchCommitter(SummaryStore* store, int threads = 2);
  ~BatchCommitter();
  BatchCommitter(const BatchCommitter&) = delete;
  BatchCommitter& operator=(const BatchCommitter&) = delete;

  // Makes `summaries` durable (SummaryStore::Commit) and then calls `done`
  // on a committing thread: it should be quick (it delays the next commit).
  // An empty batch is answered at once, on the caller's thread.
  void Commit(std::vector<v1::UnitSummary> summaries, Done done);

  // Blocks until every batch committed so far has been answered.
  void WaitIdle() { pool_.WaitIdle(); }

 private:
  struct Pending {
    std::vector<v1::UnitSummary> summaries;
    Done done;
  };
  // A committing thread's turn: everything queued, up to the bound.
  void CommitQueued();

  SummaryStore* const store_;
  absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  WorkPool pool_;  // last: its threads use the members above
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_BATCH_COMMITTER_H_
