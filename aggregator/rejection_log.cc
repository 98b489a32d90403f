#include "aggregator/rejection_log.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace ohfed::aggregator {

void RejectionLog::Record(absl::string_view trust, absl::string_view reason,
                          absl::string_view line) {
  {
    absl::MutexLock l(&mu_);
    const absl::Time now = clock_->Now();
    if (now >= interval_start_ + interval_) EndInterval(now);
    auto key = std::make_pair(std::string(trust), std::string(reason));
    if (auto it = counts_.find(key); it != counts_.end()) {
      ++it->second;
      return;
    }
    if (counts_.size() >= static_cast<size_t>(max_keys_)) {
      ++others_;
      return;
    }
    counts_.emplace(std::move(key), 0);
  }
  sink_(line);
}

void RejectionLog::Flush() {
  absl::MutexLock l(&mu_);
  const absl::Time now = clock_->Now();
  if (now >= interval_start_ + interval_) EndInterval(now);
}

void RejectionLog::EndInterval(absl::Time now) {
  const std::string since = absl::FormatTime(
      "%Y-%m-%dT%H:%M:%SZ", interval_start_, absl::UTCTimeZone());
  for (const auto& [key, count] : counts_) {
    if (count == 0) continue;
    sink_(absl::StrCat("rejected ", count, " more from ", key.first, " since ",
                       since, ": ", key.second));
  }
  if (others_ > 0) {
    sink_(absl::StrCat("rejected ", others_,
                       " more summaries for other reasons since ", since));
  }
  counts_.clear();
  others_ = 0;
  interval_start_ = now;
}

}  // namespace ohfed::aggregator
