// RocksDB helpers shared by agent and aggregator: opening with a tuned
// footprint, synced writes, and the big-endian integer encoding used in keys.
#ifndef OHFED_COMMON_ROCKSDB_UTIL_H_
#define OHFED_COMMON_ROCKSDB_UTIL_H_

#include <rocksdb/db.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ohfed {

enum class DbFootprint {
  kSmall,   // agent: 4 MiB write buffers, 8 MiB block cache, few files
  kServer,  // aggregator: kServerWriteBufferBytes, 64 MiB block cache
  // kServer with the memtable a vector rather than a skiplist: an insert
  // appends, where a skiplist insert searched (~10 us a unit record at 10
  // ingest streams, mostly cache misses, on the one committing thread), and
  // the entries are sorted once, in the flush. Every read of the live
  // memtable copies and sorts it, so this is for a database read only as it
  // opens: an aggregator with no upstream to forward to
  // (docs/performance.md, "Stored summaries, thirteenth round").
  kServerWriteMostly,
};

// The options every ohfed database is opened with: the footprint, LZ4 then
// ZSTD at the bottom (kServer: flushes to L0 uncompressed), bloom filters,
// paranoid checks and point-in-time WAL recovery (common/db_recovery.h says
// why). `env` as for OpenDb.
rocksdb::Options DbOptions(DbFootprint footprint, rocksdb::Env* env = nullptr);

// A server's memtable (the aggregator's), of which it keeps at most
// kMaxWriteBuffers (one filling, one being flushed); the agent's is 4 MiB.
inline constexpr size_t kServerWriteBufferBytes = 32 << 20;
inline constexpr int kMaxWriteBuffers = 2;

// Opens (creating if missing) the database in `dir`. Errors name the
// directory: kUnavailable for I/O or a lock held by another process,
// kDataLoss for corruption. `env` (nullptr: the default) is a seam for
// tests that inject I/O faults.
absl::StatusOr<std::unique_ptr<rocksdb::DB>> OpenDb(
    const std::string& dir, DbFootprint footprint, rocksdb::Env* env = nullptr);

// Writes the batch with the WAL synced to disk before returning: the point
// after which an acknowledgement may be sent.
absl::Status WriteSynced(rocksdb::DB* db, rocksdb::WriteBatch* batch);

// Reads `key`; kNotFound if absent.
absl::StatusOr<std::string> GetValue(rocksdb::DB* db, absl::string_view key);

// Calls fn(key, value) for every key that starts with `prefix`, in key
// order; `key` includes the prefix. Stops at fn's first error and returns it.
// `fill_cache` false reads past the block cache: a scan that loads a whole
// store into memory once (the aggregator's units) would otherwise leave
// every block of it in the cache (44 MiB of 207 x 60 trust-months).
absl::Status ScanPrefix(
    rocksdb::DB* db, absl::string_view prefix,
    const std::function<absl::Status(absl::string_view key,
                                     absl::string_view value)>& fn,
    bool fill_cache = true);

// Appends `v` as 8 big-endian bytes, so byte order equals numeric order.
void PutBigEndian64(std::string* dst, uint64_t v);
// Decodes 8 big-endian bytes at the start of `src` (which must hold 8).
uint64_t GetBigEndian64(absl::string_view src);

}  // namespace ohfed

#endif  // OHFED_COMMON_ROCKSDB_UTIL_H_
