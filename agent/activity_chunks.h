// How the agent store keeps a month's activity rows (format 2): in chunks,
// so that neither writing, reading nor summarising a month needs the month
// in memory, however many events it has.
//
//   raw/<month>/activity/<i>   chunk i (8 decimal digits): an
//                              agent_store.v1.ActivityRecords holding the
//                              next rows of the month in canonical order,
//                              cut after the row that takes it to
//                              kChunkBytes
//   raw/<month>/activity       format 1's single value: every row. Still
//                              read when a month has no chunk; replaced by
//                              chunks when the month is next written.
// Concatenated, a month's chunks are byte for byte the single value format
// 1 would have written (a repeated field's entries simply follow one
// another), so the two layouts compare as bytes.
#ifndef OHFED_AGENT_ACTIVITY_CHUNKS_H_
#define OHFED_AGENT_ACTIVITY_CHUNKS_H_

#include <rocksdb/db.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/activity_rows.h"

namespace ohfed::agent {

inline constexpr size_t kChunkBytes = size_t{64} << 10;

// raw/<period>/activity/<index>.
std::string ActivityChunkKey(absl::string_view period, uint64_t index);
// Whether `key` is a chunk key (what follows raw/<period>/activity/).
bool IsActivityChunkKey(absl::string_view key);

// Calls `fn` for the stored activity rows of `period`, in canonical order,
// reading one chunk at a time. kDataLoss for a value that does not decode.
absl::Status ForEachStoredActivity(
    rocksdb::DB* db, absl::string_view period,
    absl::FunctionRef<absl::Status(const ActivityView&)> fn);
// The stored rows' bytes, the chunks concatenated (a month in memory: for
// the single-message import and tests).
absl::StatusOr<std::string> StoredActivityBytes(rocksdb::DB* db,
                                                absl::string_view period);
// Every stored key of the month's activity, either layout, in order.
absl::StatusOr<std::vector<std::string>> StoredActivityKeys(
    rocksdb::DB* db, absl::string_view period);

// Where a month's writes go, in increasing key order.
class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  virtual absl::Status Put(absl::string_view key, absl::string_view value) = 0;
  virtual absl::Status Delete(absl::string_view key) = 0;
};

// Writes a month's rows, given in canonical order, as chunks: only the
// chunks that differ from the stored ones at the same index are put,
// chunks left over are deleted, and a format 1 value is deleted (first,
// its key sorting before the chunks'). Memory: one chunk, and a format 1
// value while it is compared.
class ActivityMonthWriter {
 public:
  static absl::StatusOr<std::unique_ptr<ActivityMonthWriter>> Start(
      rocksdb::DB* db, std::string period, ChunkSink* sink,
      size_t chunk_bytes = kChunkBytes);
  absl::Status Add(const ActivityView& row);
  // Whether the month's rows differ from what was stored.
  absl::StatusOr<bool> Finish();
  uint64_t rows() const { return rows_; }

 private:
  ActivityMonthWriter(std::string period, ChunkSink* sink, size_t chunk_bytes)
      : period_(std::move(period)), sink_(sink), chunk_bytes_(chunk_bytes) {}
  absl::Status Flush();

  const std::string period_;
  ChunkSink* const sink_;
  const size_t chunk_bytes_;
  std::unique_ptr<rocksdb::Iterator> old_;  // at the next stored chunk
  std::string old_prefix_;
  bool has_chunks_ = false;
  std::string legacy_;  // format 1 value, when there are no chunks
  size_t legacy_at_ = 0;
  std::string chunk_;
  uint64_t index_ = 0, rows_ = 0;
  bool changed_ = false;
};

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_ACTIVITY_CHUNKS_H_
