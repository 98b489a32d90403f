#include "common/rocksdb_util.h"

#include <rocksdb/write_batch.h>

#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::StatusIs;
using ::ohfed::testing::TempDir;

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

TEST(RocksDbUtilTest, SecondOpenOfTheSameDirectoryFailsNamingIt) {
  TempDir dir;
  auto first = OpenDb(dir.path(), DbFootprint::kSmall);
  OHFED_ASSERT_OK(first);
  auto second = OpenDb(dir.path(), DbFootprint::kSmall);
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kUnavailable, dir.path()));
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
