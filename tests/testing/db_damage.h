// Damage to a closed RocksDB database, as disks and crashes do it, for the
// corruption tests of both stores (common/db_recovery.h): flush the
// memtable into a table, tear the tail of the newest WAL, truncate a
// table, flip a byte in a table's data blocks. Header-only; each call
// fails the test (and returns an empty result) if the file is missing.
#ifndef OHFED_TESTS_TESTING_DB_DAMAGE_H_
#define OHFED_TESTS_TESTING_DB_DAMAGE_H_

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table_properties.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/rocksdb_util.h"

namespace ohfed::testing {

// The file in `dir` with extension `ext` (".log", ".sst") and the highest
// number; "" if none.
inline std::string NewestDbFile(const std::string& dir,
                                const std::string& ext) {
  std::string newest;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ext && e.path().string() > newest) {
      newest = e.path().string();
    }
  }
  EXPECT_FALSE(newest.empty()) << "no " << ext << " file in " << dir;
  return newest;
}

// Opens the closed database in `dir`, writes its memtable (replayed from
// the WAL) into a table, and closes it again.
inline void FlushDb(const std::string& dir) {
  rocksdb::Options options = DbOptions(DbFootprint::kSmall);
  options.create_if_missing = false;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, dir, &db).ok()) << dir;
  ASSERT_TRUE(db->Flush(rocksdb::FlushOptions()).ok());
  ASSERT_TRUE(db->Close().ok());
  delete db;
}

// Cuts `bytes` off the end of `path`; returns its new size.
inline uintmax_t TruncateFile(const std::string& path, uintmax_t bytes) {
  const uintmax_t size = std::filesystem::file_size(path);
  EXPECT_GT(size, bytes) << path;
  std::filesystem::resize_file(path, size - bytes);
  return size - bytes;
}

// Inverts one byte of `path` at `offset`.
inline void FlipByte(const std::string& path, uintmax_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << path;
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(~c));
  ASSERT_TRUE(f.good()) << path << " at " << offset;
}

// The bytes of the table's data blocks: they come first in the file, so
// an offset below this lands in a data block (the last one just below).
inline uint64_t DataBlockBytes(const std::string& sst) {
  rocksdb::SstFileReader reader(DbOptions(DbFootprint::kSmall));
  EXPECT_TRUE(reader.Open(sst).ok()) << sst;
  auto props = reader.GetTableProperties();
  EXPECT_GT(props->num_data_blocks, 1u) << sst << ": one data block only";
  return props->data_size;
}

}  // namespace ohfed::testing

#endif  // OHFED_TESTS_TESTING_DB_DAMAGE_H_
