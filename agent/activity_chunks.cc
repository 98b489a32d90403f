#include "agent/activity_chunks.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/rocksdb_util.h"
#include "common/status.h"

namespace ohfed::agent {
namespace {

constexpr size_t kIndexDigits = 8;

std::string LegacyKey(absl::string_view period) {
  return absl::StrCat("raw/", period, "/activity");
}
std::string ChunkPrefix(absl::string_view period) {
  return absl::StrCat("raw/", period, "/activity/");
}

// Calls `fn` with each stored chunk of `period`, in order; false if none.
absl::StatusOr<bool> ForEachChunk(
    rocksdb::DB* db, absl::string_view period,
    absl::FunctionRef<absl::Status(absl::string_view key,
                                   absl::string_view value)>
        fn) {
  const std::string prefix = ChunkPrefix(period);
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions()));
  bool any = false;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    any = true;
    OHFED_RETURN_IF_ERROR(
        fn(absl::string_view(it->key().data(), it->key().size()),
           absl::string_view(it->value().data(), it->value().size())));
  }
  OHFED_RETURN_IF_ERROR(FromRocks(it->status(), "read activity chunks"));
  return any;
}

absl::StatusOr<std::string> Legacy(rocksdb::DB* db, absl::string_view period) {
  absl::StatusOr<std::string> v = GetValue(db, LegacyKey(period));
  if (absl::IsNotFound(v.status())) return std::string();
  return v;
}

}  // namespace

std::string ActivityChunkKey(absl::string_view period, uint64_t index) {
  return absl::StrCat(ChunkPrefix(period),
                      absl::StrFormat("%0*d", kIndexDigits, index));
}

bool IsActivityChunkKey(absl::string_view key) {
  const size_t slash = key.rfind('/');
  if (slash == absl::string_view::npos) return false;
  const absl::string_view index = key.substr(slash + 1);
  return absl::EndsWith(key.substr(0, slash), "/activity") &&
         index.size() == kIndexDigits &&
         std::all_of(index.begin(), index.end(), absl::ascii_isdigit);
}

absl::Status ForEachStoredActivity(
    rocksdb::DB* db, absl::string_view period,
    absl::FunctionRef<absl::Status(const ActivityView&)> fn) {
  absl::Status failed;
  auto each = [&](const ActivityView& row) {
    if (failed.ok()) failed = fn(row);
  };
  OHFED_ASSIGN_OR_RETURN(
      bool chunks,
      ForEachChunk(db, period,
                   [&](absl::string_view, absl::string_view v) -> absl::Status {
                     OHFED_RETURN_IF_ERROR(ForEachStored(v, each));
                     return failed;
                   }));
  if (chunks) return absl::OkStatus();
  OHFED_ASSIGN_OR_RETURN(std::string legacy, Legacy(db, period));
  OHFED_RETURN_IF_ERROR(ForEachStored(legacy, each));
  return failed;
}

absl::StatusOr<std::string> StoredActivityBytes(rocksdb::DB* db,
                                                absl::string_view period) {
  std::string out;
  OHFED_ASSIGN_OR_RETURN(
      bool chunks,
      ForEachChunk(db, period, [&](absl::string_view, absl::string_view v) {
        out.append(v.data(), v.size());
        return absl::OkStatus();
      }));
  if (chunks) return out;
  return Legacy(db, period);
}

absl::StatusOr<std::vector<std::string>> StoredActivityKeys(
    rocksdb::DB* db, absl::string_view period) {
  std::vector<std::string> out;
  OHFED_ASSIGN_OR_RETURN(std::string legacy, Legacy(db, period));
  if (!legacy.empty()) out.push_back(LegacyKey(period));
  OHFED_RETURN_IF_ERROR(
      ForEachChunk(db, period, [&](absl::string_view key, absl::string_view) {
        out.emplace_back(key);
        return absl::OkStatus();
      }).status());
  return out;
}

absl::StatusOr<std::unique_ptr<ActivityMonthWriter>> ActivityMonthWriter::Start(
    rocksdb::DB* db, std::string period, ChunkSink* sink, size_t chunk_bytes) {
  std::unique_ptr<ActivityMonthWriter> w(
      new ActivityMonthWriter(std::move(period), sink, chunk_bytes));
  OHFED_ASSIGN_OR_RETURN(std::string legacy, Legacy(db, w->period_));
  w->old_prefix_ = ChunkPrefix(w->period_);
  w->old_.reset(db->NewIterator(rocksdb::ReadOptions()));
  w->old_->Seek(w->old_prefix_);
  OHFED_RETURN_IF_ERROR(FromRocks(w->old_->status(), "read activity chunks"));
  w->has_chunks_ =
      w->old_->Valid() && w->old_->key().starts_with(w->old_prefix_);
  if (!legacy.empty()) {
    OHFED_RETURN_IF_ERROR(sink->Delete(LegacyKey(w->period_)));
    if (!w->has_chunks_) w->legacy_ = std::move(legacy);
  }
  // Nothing stored: every month written is a change.
  w->changed_ = !w->has_chunks_ && w->legacy_.empty();
  return w;
}

absl::Status ActivityMonthWriter::Add(const ActivityView& row) {
  AppendStored(row, &chunk_);
  ++rows_;
  return chunk_.size() >= chunk_bytes_ ? Flush() : absl::OkStatus();
}

absl::Status ActivityMonthWriter::Flush() {
  const std::string key = ActivityChunkKey(period_, index_++);
  bool same = false;
  if (old_->Valid() && old_->key().starts_with(old_prefix_)) {
    same = old_->key() == key && old_->value() == chunk_;
    old_->Next();
    OHFED_RETURN_IF_ERROR(FromRocks(old_->status(), "read activity chunks"));
  }
  if (!legacy_.empty()) {
    changed_ |=
        absl::string_view(legacy_).substr(legacy_at_, chunk_.size()) != chunk_;
    legacy_at_ += chunk_.size();
  } else {
    changed_ |= !same;
  }
  if (!same) OHFED_RETURN_IF_ERROR(sink_->Put(key, chunk_));
  chunk_.clear();
  return absl::OkStatus();
}

absl::StatusOr<bool> ActivityMonthWriter::Finish() {
  if (!chunk_.empty()) OHFED_RETURN_IF_ERROR(Flush());
  // Chunks beyond the new last one.
  for (; old_->Valid() && old_->key().starts_with(old_prefix_); old_->Next()) {
    OHFED_RETURN_IF_ERROR(sink_->Delete(
        absl::string_view(old_->key().data(), old_->key().size())));
    changed_ = true;
  }
  OHFED_RETURN_IF_ERROR(FromRocks(old_->status(), "read activity chunks"));
  if (!legacy_.empty() && legacy_at_ != legacy_.size()) changed_ = true;
  old_.reset();
  return changed_;
}

}  // namespace ohfed::agent
