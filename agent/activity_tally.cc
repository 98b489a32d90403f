#include "agent/activity_tally.h"

#include <algorithm>

#include "common/status.h"

namespace ohfed::agent {
namespace {

constexpr size_t kBlock = size_t{64} << 10;
// A histogram is a vector up to this many days, a map beyond (the importer
// bounds waits by the catalogue's maximum, a few hundred days).
constexpr int kVectorWaitDays = 4096;

}  // namespace

DistinctCounter::DistinctCounter(TallyOptions options)
    : options_(std::move(options)) {
  const uint64_t most =
      options_.distinct_budget / 2 / (sizeof(absl::string_view) + 1);
  set_.reserve(static_cast<size_t>(std::min(options_.expected_rows, most)));
}

size_t DistinctCounter::Footprint() const {
  return bytes_ + set_.capacity() * (sizeof(absl::string_view) + 1);
}

absl::Status DistinctCounter::Add(absl::string_view s) {
  // One lookup: a new string is copied and inserted where it was not found.
  bool fresh = false;
  set_.lazy_emplace(s, [&](const auto& construct) {
    fresh = true;
    construct(Keep(s));
  });
  if (fresh && !options_.temp_dir.empty() &&
      Footprint() > options_.distinct_budget) {
    return Spill();
  }
  return absl::OkStatus();
}

absl::string_view DistinctCounter::Keep(absl::string_view s) {
  if (block_used_ + s.size() > block_size_) {
    block_size_ = std::max(kBlock, s.size());
    blocks_.push_back(std::make_unique<char[]>(block_size_));
    bytes_ += block_size_;
    block_used_ = 0;
  }
  char* at = blocks_.back().get() + block_used_;
  std::copy(s.begin(), s.end(), at);
  block_used_ += s.size();
  return absl::string_view(at, s.size());
}

absl::Status DistinctCounter::Spill() {
  if (runs_ == nullptr) {
    runs_ = std::make_unique<SortedRuns>(options_.temp_dir, "distinct");
  }
  std::vector<absl::string_view> sorted(set_.begin(), set_.end());
  std::sort(sorted.begin(), sorted.end());
  OHFED_RETURN_IF_ERROR(runs_->AddRun(sorted));
  absl::flat_hash_set<absl::string_view>().swap(set_);
  blocks_.clear();
  block_used_ = block_size_ = bytes_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> DistinctCounter::Finish() {
  if (runs_ == nullptr) return set_.size();
  if (!set_.empty()) OHFED_RETURN_IF_ERROR(Spill());
  uint64_t distinct = 0;
  std::string last;
  bool first = true;
  OHFED_RETURN_IF_ERROR(runs_->Merge(
      [](absl::string_view a, absl::string_view b) { return a < b; },
      options_.distinct_budget,
      [&](absl::string_view s) {
        if (first || s != last) {
          ++distinct;
          last.assign(s.data(), s.size());
          first = false;
        }
        return absl::OkStatus();
      }));
  runs_.reset();
  return distinct;
}

ActivityTally::PerActivity& ActivityTally::Find(absl::string_view activity) {
  if (last_ < activities_.size() && activities_[last_].name == activity) {
    return activities_[last_];
  }
  for (size_t i = 0; i < activities_.size(); ++i) {
    if (activities_[i].name == activity) {
      last_ = i;
      return activities_[i];
    }
  }
  last_ = activities_.size();
  activities_.push_back({std::string(activity)});
  return activities_.back();
}

absl::Status ActivityTally::Add(const ActivityView& row) {
  ++rows_;
  PerActivity& a = Find(row.activity);
  ++a.events;
  if (row.wait_days >= 0) {
    if (row.wait_days >= kVectorWaitDays) {
      ++a.large_waits[row.wait_days];
      return AddSubject(row);
    }
    const size_t d = static_cast<size_t>(row.wait_days);
    if (a.waits.size() <= d) a.waits.resize(d + 1);
    ++a.waits[d];
  }
  return AddSubject(row);
}

absl::Status ActivityTally::AddSubject(const ActivityView& row) {
  if (!row.subject_ref.empty()) {
    any_subject_ = true;
    return subjects_.Add(row.subject_ref);
  }
  return absl::OkStatus();
}

absl::StatusOr<ActivityCounts> ActivityTally::Finish() {
  ActivityCounts out;
  for (const PerActivity& a : activities_) {
    out.events[a.name] += a.events;
    for (size_t d = 0; d < a.waits.size(); ++d) {
      if (a.waits[d] > 0) out.waits[a.name][static_cast<int>(d)] += a.waits[d];
    }
    for (const auto& [d, n] : a.large_waits) out.waits[a.name][d] += n;
  }
  out.any_subject = any_subject_;
  OHFED_ASSIGN_OR_RETURN(out.staff_seen, subjects_.Finish());
  return out;
}

ActivityCounts CountActivity(const std::vector<ActivityRow>& rows) {
  ActivityCounts out;
  absl::flat_hash_set<absl::string_view> seen;
  for (const ActivityRow& r : rows) {
    ++out.events[r.activity];
    if (!r.subject_ref.empty()) seen.insert(r.subject_ref);
    if (r.wait_days >= 0) ++out.waits[r.activity][r.wait_days];
  }
  out.any_subject = !seen.empty();
  out.staff_seen = seen.size();
  return out;
}

}  // namespace ohfed::agent
