#include "common/rocksdb_bulk.h"

#include <unistd.h>

#include <atomic>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/rocksdb_util.h"
#include "common/status.h"

namespace ohfed {
namespace {

std::atomic<uint64_t> next_file{0};

// The entries of a WriteBatch, the last write of each key winning, in key
// order; nullopt: deleted.
class Collect : public rocksdb::WriteBatch::Handler {
 public:
  void Put(const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    entries[key.ToString()] = value.ToString();
  }
  void Delete(const rocksdb::Slice& key) override {
    entries[key.ToString()] = std::nullopt;
  }
  std::map<std::string, std::optional<std::string>> entries;
};

absl::Status FromSst(const rocksdb::Status& s, absl::string_view what,
                     absl::string_view path) {
  if (s.ok()) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("cannot ", what, " ", path, ": ", s.ToString()));
}

// The database's options, but LZ4 rather than its bottommost ZSTD, which
// SstFileWriter would use: writing the file is on the import's critical
// path, and ZSTD at its default level took most of the writer's time on a
// 1,000,000-event import. Compaction still recompresses the bottom level.
rocksdb::Options BulkFileOptions(rocksdb::DB* db) {
  rocksdb::Options options = db->GetOptions();
  options.bottommost_compression = rocksdb::kLZ4Compression;
  return options;
}

}  // namespace

BulkWrite::BulkWrite(rocksdb::DB* db, std::string dir)
    : db_(db), dir_(std::move(dir)) {}

BulkWrite::~BulkWrite() {
  writer_.reset();
  for (const std::string& p : paths_) unlink(p.c_str());
}

std::string BulkWrite::NewPath() {
  paths_.push_back(
      absl::StrCat(dir_, "/bulk-", getpid(), "-", next_file++, ".sst"));
  return paths_.back();
}

absl::Status BulkWrite::Next(absl::string_view key) {
  if (!last_key_.empty() && key <= last_key_) {
    return absl::InvalidArgumentError(
        absl::StrCat("bulk write keys out of order: '", key.substr(0, 64),
                     "' after '", last_key_.substr(0, 64), "'"));
  }
  if (writer_ == nullptr) {
    writer_ = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(),
                                                       BulkFileOptions(db_));
    const std::string path = NewPath();
    OHFED_RETURN_IF_ERROR(FromSst(writer_->Open(path), "create", path));
    first_key_ = std::string(key);
  }
  last_key_ = std::string(key);
  return absl::OkStatus();
}

absl::Status BulkWrite::Delete(absl::string_view key) {
  OHFED_RETURN_IF_ERROR(Next(key));
  return FromSst(writer_->Delete(rocksdb::Slice(key.data(), key.size())),
                 "write", paths_.front());
}

absl::Status BulkWrite::Put(absl::string_view key, absl::string_view value) {
  OHFED_RETURN_IF_ERROR(Next(key));
  return FromSst(writer_->Put(rocksdb::Slice(key.data(), key.size()),
                              rocksdb::Slice(value.data(), value.size())),
                 "write", paths_.front());
}

absl::Status BulkWrite::Commit(rocksdb::WriteBatch* small) {
  if (empty()) return WriteSynced(db_, small);
  OHFED_RETURN_IF_ERROR(FromSst(writer_->Finish(), "finish", paths_.front()));
  writer_.reset();
  Collect collect;
  OHFED_RETURN_IF_ERROR(
      FromSst(small->Iterate(&collect), "read the batch for", paths_.front()));
  // The small entries before and after the bulk range, one file each.
  std::vector<std::string> files = {paths_.front()};
  auto write_file = [&](auto begin, auto end) -> absl::Status {
    if (begin == end) return absl::OkStatus();
    rocksdb::SstFileWriter w(rocksdb::EnvOptions(), BulkFileOptions(db_));
    const std::string path = NewPath();
    OHFED_RETURN_IF_ERROR(FromSst(w.Open(path), "create", path));
    for (auto it = begin; it != end; ++it) {
      rocksdb::Status s = it->second.has_value() ? w.Put(it->first, *it->second)
                                                 : w.Delete(it->first);
      OHFED_RETURN_IF_ERROR(FromSst(s, "write", path));
    }
    OHFED_RETURN_IF_ERROR(FromSst(w.Finish(), "finish", path));
    files.push_back(path);
    return absl::OkStatus();
  };
  auto& entries = collect.entries;
  auto low_end = entries.lower_bound(first_key_);
  auto high_begin = entries.upper_bound(last_key_);
  if (low_end != high_begin) {
    return absl::InvalidArgumentError(
        absl::StrCat("bulk write: key '", low_end->first.substr(0, 64),
                     "' of the batch is inside the bulk range"));
  }
  OHFED_RETURN_IF_ERROR(write_file(entries.begin(), low_end));
  OHFED_RETURN_IF_ERROR(write_file(high_begin, entries.end()));
  rocksdb::IngestExternalFileOptions options;
  options.move_files = true;
  return FromRocks(db_->IngestExternalFile(files, options),
                   "ingest the import into the database");
}

}  // namespace ohfed
