#include "common/rocksdb_metrics.h"

namespace ohfed::metrics {

void CollectRocksDb(const std::function<uint64_t(const std::string&)>& property,
                    std::vector<Family>& out) {
  struct Row {
    const char* name;
    const char* property;
    const char* help;
  };
  static constexpr Row kRows[] = {
      {"ohfed_rocksdb_sst_files_bytes", "rocksdb.total-sst-files-size",
       "Bytes of every SST file of the database, obsolete ones included."},
      {"ohfed_rocksdb_live_sst_files_bytes", "rocksdb.live-sst-files-size",
       "Bytes of the SST files the current database version uses."},
      {"ohfed_rocksdb_estimated_live_data_bytes",
       "rocksdb.estimate-live-data-size",
       "RocksDB's estimate of the live data in bytes."},
      {"ohfed_rocksdb_memtable_bytes", "rocksdb.cur-size-all-mem-tables",
       "Bytes held in memtables."},
      {"ohfed_rocksdb_estimated_keys", "rocksdb.estimate-num-keys",
       "RocksDB's estimate of the number of keys."},
  };
  for (const Row& r : kRows) {
    out.push_back(Family{r.name,
                         r.help,
                         "gauge",
                         {{{}, static_cast<double>(property(r.property))}}});
  }
}

}  // namespace ohfed::metrics
