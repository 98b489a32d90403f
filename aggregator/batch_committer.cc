#include "aggregator/batch_committer.h"

#include <utility>

namespace ohfed::aggregator {
namespace {

// A group stops growing at this many summaries (as SummaryStore bounds its
// own groups), so one commit stays bounded.
constexpr size_t kMaxGroupSummaries = 4096;

}  // namespace

BatchCommitter::BatchCommitter(SummaryStore* store, int threads)
    : store_(store), pool_("ohfed-commit", threads) {}

BatchCommitter::~BatchCommitter() { pool_.WaitIdle(); }

void BatchCommitter::Commit(std::vector<v1::UnitSummary> summaries, Done done) {
  if (summaries.empty()) {
    done(std::move(summaries), std::vector<v1::Outcome>());
    return;
  }
  {
    absl::MutexLock l(&mu_);
    queue_.push_back(Pending{std::move(summaries), std::move(done)});
  }
  // One turn per batch: a turn that finds the queue emptied by an earlier
  // one has nothing to do.
  pool_.Post([this] { CommitQueued(); });
}

void BatchCommitter::CommitQueued() {
  std::vector<Pending> group;
  size_t n = 0;
  {
    absl::MutexLock l(&mu_);
    while (!queue_.empty()) {
      const size_t next = queue_.front().summaries.size();
      if (!group.empty() && n + next > kMaxGroupSummaries) break;
      n += next;
      group.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
  }
  if (group.empty()) return;
  std::vector<v1::UnitSummary> all;
  if (group.size() == 1) {
    all = std::move(group[0].summaries);
  } else {
    all.reserve(n);
    for (Pending& p : group) {
      for (v1::UnitSummary& s : p.summaries) all.push_back(std::move(s));
    }
  }
  absl::StatusOr<std::vector<v1::Outcome>> outcomes = store_->Commit(all);
  if (group.size() == 1) {
    group[0].done(std::move(all), std::move(outcomes));
    return;
  }
  size_t at = 0;
  for (Pending& p : group) {
    const size_t count = p.summaries.size();
    for (size_t i = 0; i < count; ++i) p.summaries[i] = std::move(all[at + i]);
    if (outcomes.ok()) {
      p.done(std::move(p.summaries),
             std::vector<v1::Outcome>(outcomes->begin() + at,
                                      outcomes->begin() + at + count));
    } else {
      p.done(std::move(p.summaries), outcomes.status());
    }
    at += count;
  }
}

}  // namespace ohfed::aggregator
