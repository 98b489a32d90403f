// Serialized answers kept per data version (issue 14 figure 3). Answering
// the same light query twice on unchanged data (a dashboard's pages, the
// bench's repetitions) rebuilt and reserialized every row each time: for
// completeness of a year, 2,484 seven-field messages. A published View never
// changes while held (SummaryStore::Snapshot), so an answer computed on it
// stays right for as long as that View is the one published; the first
// answer on a new View empties the cache.
//
// What a View does not hold is the caller's to check: an entry carries a
// `live` string (what the answer read outside the View: the sync states
// `now` gives, upstream refusals, recovery confirmations), and Lookup hits
// only if the caller's freshly computed `live` is equal. The answers'
// warnings (also outside the View) are never cached: the caller appends
// them to the bytes (AppendWarning).
//
// Bounded: at most `max_entries` answers and `max_bytes` of them; an answer
// that does not fit is simply not kept. Thread-safe.
#ifndef OHFED_AGGREGATOR_QUERY_ANSWER_CACHE_H_
#define OHFED_AGGREGATOR_QUERY_ANSWER_CACHE_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "aggregator/view.h"

namespace ohfed::aggregator {

class AnswerCache {
 public:
  struct Answer {
    std::string bytes;  // the serialized response, without its warning
    std::string live;   // what it read outside the View (see above)
  };

  explicit AnswerCache(size_t max_entries = 256, size_t max_bytes = 8 << 20)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}

  // The answer kept for `key` on `view` if its `live` equals `live`;
  // nullptr otherwise.
  std::shared_ptr<const Answer> Lookup(const std::shared_ptr<const View>& view,
                                       absl::string_view key,
                                       absl::string_view live) const;
  // Keeps `answer` for `key` on `view` (the first on a newer View drops
  // those of the older one). Not kept if over the bounds.
  void Insert(const std::shared_ptr<const View>& view, std::string key,
              std::shared_ptr<const Answer> answer);

  size_t size() const;
  // Whether any answer may be kept (false with max_entries 0).
  bool enabled() const { return max_entries_ > 0; }

 private:
  const size_t max_entries_;
  const size_t max_bytes_;
  mutable absl::Mutex mu_;
  // A weak reference: a superseded View is freed when its last query ends,
  // not kept alive here.
  std::weak_ptr<const View> view_ ABSL_GUARDED_BY(mu_);
  const View* view_address_ ABSL_GUARDED_BY(mu_) = nullptr;
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, std::shared_ptr<const Answer>> answers_
      ABSL_GUARDED_BY(mu_);
};

// Appends `warning` to a serialized QueryResponse or CompletenessResponse
// (both: string warning = 4) as its field 4; nothing if it is empty. A
// message's fields may come in any order, so the result parses as the
// message with its warning set.
void AppendWarning(absl::string_view warning, std::string* bytes);

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_QUERY_ANSWER_CACHE_H_
