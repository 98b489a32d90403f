// RocksDB sizes as metrics families, read from a database's integer
// properties at each scrape (thread-safe in RocksDB).
#ifndef OHFED_COMMON_ROCKSDB_METRICS_H_
#define OHFED_COMMON_ROCKSDB_METRICS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/metrics.h"

namespace ohfed::metrics {

// `property` answers a RocksDB integer property by name (0 if unknown).
// Appends ohfed_rocksdb_sst_files_bytes, ohfed_rocksdb_live_sst_files_bytes,
// ohfed_rocksdb_estimated_live_data_bytes, ohfed_rocksdb_memtable_bytes and
// ohfed_rocksdb_estimated_keys.
void CollectRocksDb(const std::function<uint64_t(const std::string&)>& property,
                    std::vector<Family>& out);

}  // namespace ohfed::metrics

#endif  // OHFED_COMMON_ROCKSDB_METRICS_H_
