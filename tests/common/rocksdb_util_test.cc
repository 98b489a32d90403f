#include "common/rocksdb_util.h"

#include <rocksdb/table_properties.h>
#include <rocksdb/write_batch.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::StatusIs;
using ::ohfed::testing::TempDir;
using ::testing::AllOf;
using ::testing::Each;
using ::testing::IsEmpty;
using ::testing::Not;

// The compression of each table file of `db`, as its properties name it.
std::vector<std::string> TableCompressions(rocksdb::DB* db) {
  rocksdb::TablePropertiesCollection tables;
  EXPECT_TRUE(db->GetPropertiesOfAllTables(&tables).ok());
  std::vector<std::string> out;
  for (const auto& [file, properties] : tables) {
    out.push_back(properties->compression_name);
  }
  return out;
}

// 200 unit-sized, compressible records, synced, then flushed to L0.
void WriteAndFlush(rocksdb::DB* db) {
  rocksdb::WriteBatch batch;
  for (int i = 0; i < 200; ++i) {
    batch.Put(absl::StrCat("u/", i), std::string(3500, 'a' + i % 3));
  }
  OHFED_ASSERT_OK(WriteSynced(db, &batch));
  ASSERT_TRUE(db->Flush(rocksdb::FlushOptions()).ok());
}

TEST(RocksDbUtilTest, SyncedWritesSurviveReopen) {
  TempDir dir;
  {
    auto db = OpenDb(dir.path(), DbFootprint::kSmall);
    OHFED_ASSERT_OK(db);
    rocksdb::WriteBatch batch;
    batch.Put("k", "v");
    OHFED_ASSERT_OK(WriteSynced(db->get(), &batch));
  }
  auto db = OpenDb(dir.path(), DbFootprint::kSmall);
  OHFED_ASSERT_OK(db);
  EXPECT_EQ(*GetValue(db->get(), "k"), "v");
  EXPECT_THAT(GetValue(db->get(), "missing"),
              StatusIs(absl::StatusCode::kNotFound, "missing"));
}

// The live memtable of a write-mostly database is a vector, unsorted until
// read or flushed: what it answers is still newest-first per key and in key
// order, before a flush, after it, and after a reopen replays the WAL.
TEST(RocksDbUtilTest, WriteMostlyDatabaseReadsAsAnyOther) {
  EXPECT_STREQ(
      DbOptions(DbFootprint::kServerWriteMostly).memtable_factory->Name(),
      "VectorRepFactory");
  EXPECT_STREQ(DbOptions(DbFootprint::kServer).memtable_factory->Name(),
               "SkipListFactory");
  TempDir dir;
  auto scan = [](rocksdb::DB* db) {
    std::string out;
    OHFED_EXPECT_OK(
        ScanPrefix(db, "u/", [&](absl::string_view k, absl::string_view v) {
          absl::StrAppend(&out, k, "=", v, " ");
          return absl::OkStatus();
        }));
    return out;
  };
  const std::string expected = "u/a=3 u/b=2 u/c=1 ";
  {
    auto db = OpenDb(dir.path(), DbFootprint::kServerWriteMostly);
    OHFED_ASSERT_OK(db);
    // Out of key order, and "u/a" twice in one batch and again later.
    rocksdb::WriteBatch batch;
    batch.Put("u/c", "1");
    batch.Put("u/a", "1");
    batch.Put("u/b", "2");
    batch.Put("u/a", "2");
    OHFED_ASSERT_OK(WriteSynced(db->get(), &batch));
    batch.Clear();
    batch.Put("u/a", "3");
    OHFED_ASSERT_OK(WriteSynced(db->get(), &batch));
    EXPECT_EQ(*GetValue(db->get(), "u/a"), "3");
    EXPECT_EQ(scan(db->get()), expected);
  }
  auto db = OpenDb(dir.path(), DbFootprint::kServerWriteMostly);
  OHFED_ASSERT_OK(db);
  EXPECT_EQ(scan(db->get()), expected);  // replayed from the WAL
  ASSERT_TRUE((*db)->Flush(rocksdb::FlushOptions()).ok());
  EXPECT_EQ(scan(db->get()), expected);  // from the table file
  EXPECT_EQ(*GetValue(db->get(), "u/b"), "2");
}

TEST(RocksDbUtilTest, SecondOpenOfTheSameDirectoryFailsNamingIt) {
  TempDir dir;
  auto first = OpenDb(dir.path(), DbFootprint::kSmall);
  OHFED_ASSERT_OK(first);
  auto second = OpenDb(dir.path(), DbFootprint::kSmall);
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kUnavailable, dir.path()));
}

TEST(RocksDbUtilTest, ServerFlushesUncompressedAndCompactsCompressed) {
  TempDir dir;
  auto db = OpenDb(dir.path(), DbFootprint::kServer);
  OHFED_ASSERT_OK(db);
  WriteAndFlush(db->get());
  EXPECT_THAT(TableCompressions(db->get()),
              AllOf(Not(IsEmpty()), Each("NoCompression")));
  // Rewritten, not moved down as it is (a lone file that overlaps
  // nothing below would be): as a compaction of L0 into L1 does.
  rocksdb::CompactRangeOptions rewrite;
  rewrite.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kForce;
  ASSERT_TRUE((*db)->CompactRange(rewrite, nullptr, nullptr).ok());
  EXPECT_THAT(TableCompressions(db->get()),
              AllOf(Not(IsEmpty()), Each("ZSTD")));
  EXPECT_EQ(*GetValue(db->get(), "u/7"), std::string(3500, 'b'));
}

// Stores written before the eleventh round have LZ4 files at L0.
TEST(RocksDbUtilTest, ServerStoreWithCompressedL0OpensAndReads) {
  TempDir dir;
  {
    rocksdb::Options before = DbOptions(DbFootprint::kServer);
    before.compression_per_level.clear();
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(before, dir.path(), &raw).ok());
    std::unique_ptr<rocksdb::DB> old(raw);
    WriteAndFlush(old.get());
    EXPECT_THAT(TableCompressions(old.get()),
                AllOf(Not(IsEmpty()), Each("LZ4")));
  }
  auto db = OpenDb(dir.path(), DbFootprint::kServer);
  OHFED_ASSERT_OK(db);
  EXPECT_EQ(*GetValue(db->get(), "u/8"), std::string(3500, 'c'));
  WriteAndFlush(db->get());
  ASSERT_TRUE((*db)->CompactRange({}, nullptr, nullptr).ok());
  EXPECT_EQ(*GetValue(db->get(), "u/8"), std::string(3500, 'c'));
}

TEST(RocksDbUtilTest, BigEndianKeysSortNumerically) {
  std::string a, b;
  PutBigEndian64(&a, 255);
  PutBigEndian64(&b, 256);
  EXPECT_LT(a, b);
  EXPECT_EQ(GetBigEndian64(b), 256u);
  std::string max;
  PutBigEndian64(&max, ~0ull);
  EXPECT_EQ(GetBigEndian64(max), ~0ull);
}

}  // namespace
}  // namespace ohfed
