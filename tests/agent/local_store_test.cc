// The local store's facade (agent/local_store.h): what it refuses before
// any room is asked, and everything persisting across reopen (real
// RocksDB).
#include <rocksdb/table_properties.h>

#include "absl/strings/str_cat.h"
#include "tests/agent/local_store_fixture.h"

namespace ohfed::agent {
namespace {

using ::testing::HasSubstr;

class LocalStoreFacadeTest : public LocalStoreTest {};

// An activity import's files are written with LZ4, not the bottommost
// level's ZSTD (common/rocksdb_bulk.h): ZSTD took most of the writer's time
// on the import's critical path.
TEST_F(LocalStoreFacadeTest, ActivityImportFilesAreWrittenWithLz4) {
  ActivityStage stage(store_->staging_dir());
  for (int day = 1; day <= 28; ++day) {
    OHFED_ASSERT_OK(
        stage.Add(Month::Of(2026, 1),
                  {absl::StrCat("2026-01-", absl::Dec(day, absl::kZeroPad2)),
                   "immunisation", "RJ1", absl::StrCat("S", day), day}));
  }
  ASSERT_TRUE(store_->ApplyActivityImport(stage).ok());
  store_.reset();
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(
      rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir_.path(), &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::TablePropertiesCollection tables;
  ASSERT_TRUE(db->GetPropertiesOfAllTables(&tables).ok());
  ASSERT_FALSE(tables.empty());
  for (const auto& [file, props] : tables) {
    EXPECT_EQ(props->compression_name, "LZ4") << file;
  }
}

TEST_F(LocalStoreFacadeTest, SetValueRejectsBadInput) {
  using absl::StatusCode;
  EXPECT_THAT(store_->SetValue("2026-01", "staffing.wte.surgeon", "1"),
              testing::StatusIs(StatusCode::kNotFound, "unknown measure"));
  EXPECT_THAT(store_->SetValue("2026", "staffing.wte.admin", "1"),
              testing::StatusIs(StatusCode::kInvalidArgument, "YYYY-MM"));
  EXPECT_THAT(store_->SetValue("2026-01", "profile.host_type", "acute"),
              testing::StatusIs(StatusCode::kInvalidArgument, "year"));
  EXPECT_THAT(store_->SetValue("2026-07", "staffing.wte.admin", "1"),
              testing::StatusIs(StatusCode::kInvalidArgument, "future"));
  EXPECT_THAT(store_->SetValue("2026-01", "staffing.wte.admin", "-1"),
              testing::StatusIs(StatusCode::kInvalidArgument, "outside"));
  EXPECT_THAT(store_->SetValue("2026-01", "activity.count.immunisation", "1.5"),
              testing::StatusIs(StatusCode::kInvalidArgument, "whole"));
  EXPECT_THAT(
      store_->SetValue("2026-01", "activity.wait_days.immunisation", "3"),
      testing::StatusIs(StatusCode::kInvalidArgument, "computed"));
  EXPECT_THAT(
      store_->SetValue("2026", "profile.host_type.acute", "yes"),
      testing::StatusIs(StatusCode::kInvalidArgument, "profile.host_type"));
  EXPECT_TRUE(store_->States().empty());
}

TEST_F(LocalStoreFacadeTest, MalformedPeriodsAreInvalidNotMissing) {
  for (const char* bad :
       {"2026-13", " 2026-01", "2026-01\n", "2026-Q1", "+202"}) {
    EXPECT_THAT(
        store_->Summary(bad),
        testing::StatusIs(absl::StatusCode::kInvalidArgument, "invalid period"))
        << bad;
  }
  EXPECT_THAT(store_->Summary("2026-13"),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                "month must be 01 to 12"));
  EXPECT_THAT(
      store_->SetValue(" 2026", "profile.host_type", "acute"),
      testing::StatusIs(absl::StatusCode::kInvalidArgument, "invalid period"));
  EXPECT_THAT(store_->Summary("2026-01"),
              testing::StatusIs(absl::StatusCode::kNotFound, "no data"));
}

TEST_F(LocalStoreFacadeTest, EverythingPersistsAcrossReopen) {
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  ASSERT_TRUE(
      store_->SetValue("2026", "profile.seqohs_accredited", "yes").ok());
  uint64_t jan = Revision("2026-01");
  ASSERT_TRUE(store_
                  ->OnAcks({[&] {
                    v1::Ack a;
                    a.set_trust("RJ1");
                    a.set_period("2026-01");
                    a.set_revision(jan);
                    a.set_outcome(v1::OUTCOME_ACCEPTED);
                    return a;
                  }()})
                  .ok());
  auto before = store_->States();
  Reopen();
  auto after = store_->States();
  ASSERT_EQ(after.size(), 3u);
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].SerializeAsString(), before[i].SerializeAsString());
  }
  EXPECT_EQ(after[0].period(), "2026-01");
  EXPECT_EQ(after[0].state(), "current");
  EXPECT_EQ(after[1].state(), "pending");
  EXPECT_EQ(after[2].period(), "2026");
  EXPECT_EQ(after[2].manual(0), "profile.seqohs_accredited");
  EXPECT_EQ(store_->last_ack(), kNow);
  EXPECT_DOUBLE_EQ(Cells("2026-01")["staffing.wte.nurse_general"].value(), 1.6);
  // And the raw records too: an identical re-import is still a no-op.
  EXPECT_TRUE(
      Import(v1::IMPORT_KIND_STAFFING, kStaffing).periods_changed.empty());
}

}  // namespace
}  // namespace ohfed::agent
