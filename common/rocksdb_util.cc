#include "common/rocksdb_util.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/db_info_log.h"
#include "common/metrics.h"
#include "common/status.h"

namespace ohfed {

rocksdb::Options DbOptions(DbFootprint footprint, rocksdb::Env* env) {
  const bool small = footprint == DbFootprint::kSmall;
  rocksdb::Options options;
  options.create_if_missing = true;
  if (env != nullptr) options.env = env;
  options.write_buffer_size = small ? 4 << 20 : kServerWriteBufferBytes;
  options.max_write_buffer_number = kMaxWriteBuffers;
  options.max_background_jobs = 2;
  options.max_open_files = small ? 64 : 512;
  options.keep_log_file_num = 3;
  options.max_manifest_file_size = 8 << 20;
  options.compression = rocksdb::kLZ4Compression;
  options.bottommost_compression = rocksdb::kZSTD;
  if (!small) {
    // The aggregator's flushes write L0 uncompressed: LZ4 was 83% of a
    // flush's instructions and about a third of its CPU, and at 1,000
    // ingest streams flushes took ~13% of the aggregator's CPU. A
    // compaction into L1 rewrites them compressed; until then they take ~3x
    // the disk (docs/performance.md, "Memtable flushes, eleventh round").
    options.compression_per_level.assign(options.num_levels,
                                         rocksdb::kLZ4Compression);
    options.compression_per_level[0] = rocksdb::kNoCompression;
  }
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache((small ? 8 : 64) << 20);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (footprint == DbFootprint::kServerWriteMostly) {
    options.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
    // Required by a vector memtable; the store writes from one thread.
    options.allow_concurrent_memtable_write = false;
  }
  // Both are RocksDB's defaults; stated because recovery relies on them.
  options.paranoid_checks = true;
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  return options;
}

absl::StatusOr<std::unique_ptr<rocksdb::DB>> OpenDb(const std::string& dir,
                                                    DbFootprint footprint,
                                                    rocksdb::Env* env) {
  rocksdb::Options options = DbOptions(footprint, env);
  // Not RocksDB's own: it aborts the process on a full disk.
  OHFED_ASSIGN_OR_RETURN(options.info_log, OpenInfoLog(dir, options));
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("open database ", dir));
  return std::unique_ptr<rocksdb::DB>(raw);
}

absl::Status WriteSynced(rocksdb::DB* db, rocksdb::WriteBatch* batch) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  static metrics::Histogram& latency = metrics::Global().GetHistogram(
      "ohfed_rocksdb_synced_write_seconds",
      "Duration of synced (fsync'd) RocksDB write batches.",
      metrics::LatencyBuckets());
  const absl::Time start = absl::Now();
  rocksdb::Status s = db->Write(wo, batch);
  latency.Observe(absl::ToDoubleSeconds(absl::Now() - start));
  return FromRocks(s, "synced write");
}

absl::StatusOr<std::string> GetValue(rocksdb::DB* db, absl::string_view key) {
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(),
                              rocksdb::Slice(key.data(), key.size()), &value);
  if (!s.ok()) return FromRocks(s, absl::StrCat("get ", key));
  return value;
}

absl::Status ScanPrefix(
    rocksdb::DB* db, absl::string_view prefix,
    const std::function<absl::Status(absl::string_view key,
                                     absl::string_view value)>& fn,
    bool fill_cache) {
  rocksdb::ReadOptions options;
  options.fill_cache = fill_cache;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid();
       it->Next()) {
    absl::string_view key(it->key().data(), it->key().size());
    if (!absl::StartsWith(key, prefix)) break;
    absl::Status s =
        fn(key, absl::string_view(it->value().data(), it->value().size()));
    if (!s.ok()) return s;
  }
  return FromRocks(it->status(), absl::StrCat("scan ", prefix));
}

void PutBigEndian64(std::string* dst, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    dst->push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

uint64_t GetBigEndian64(absl::string_view src) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(src[i]);
  return v;
}

}  // namespace ohfed
