// The agent's raw records (agent/raw_records.h) on a real RocksDB: staged
// writes read back before they are written, replacement and merging by
// source, removal, and the canonical encoding that makes an unchanged
// re-import a no-op.
#include "agent/raw_records.h"

#include <rocksdb/write_batch.h>

#include "agent/store_format.h"
#include "common/rocksdb_util.h"
#include "ohfed/agent_store/v1/agent_store.pb.h"
#include "tests/testing/testing.h"

namespace ohfed::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

class RawRecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = OpenDb(dir_.path(), DbFootprint::kSmall);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
  }
  void Write(rocksdb::WriteBatch& batch) {
    OHFED_ASSERT_OK(WriteSynced(db_.get(), &batch));
  }

  testing::TempDir dir_;
  std::unique_ptr<rocksdb::DB> db_;
};

const std::vector<StaffingRow> kRows = {
    {"nurse_general", 1.0, "employed", "N1"},
    {"admin", 3.5, "employed", ""},
    {"nurse_general", 0.6, "bank", "N2"}};

TEST_F(RawRecordsTest, ReplacedRowsAreReadBackStagedThenStored) {
  RawRecords raw(db_.get());
  rocksdb::WriteBatch batch;
  RawRecords::Staged st(&batch);
  ASSERT_TRUE(*raw.ReplaceStaffing("2026-01", kRows, st));
  // Staged, not yet written: visible through the stage only.
  EXPECT_EQ(raw.Load("2026-01", &st)->staffing.size(), 3u);
  EXPECT_TRUE(raw.Load("2026-01")->staffing.empty());
  Write(batch);
  auto r = raw.Load("2026-01");
  ASSERT_TRUE(r.ok()) << r.status();
  // Canonical order: sorted rows.
  ASSERT_EQ(r->staffing.size(), 3u);
  EXPECT_EQ(r->staffing[0].group, "admin");
  EXPECT_EQ(r->staffing[1].post_id, "N2");
  EXPECT_DOUBLE_EQ(r->staffing[1].wte, 0.6);
}

TEST_F(RawRecordsTest, TheSameRowsInAnotherOrderAreUnchanged) {
  RawRecords raw(db_.get());
  rocksdb::WriteBatch batch;
  RawRecords::Staged st(&batch);
  ASSERT_TRUE(*raw.ReplaceStaffing("2026-01", kRows, st));
  Write(batch);
  rocksdb::WriteBatch again;
  RawRecords::Staged st2(&again);
  std::vector<StaffingRow> reversed(kRows.rbegin(), kRows.rend());
  EXPECT_FALSE(*raw.ReplaceStaffing("2026-01", reversed, st2));
  EXPECT_EQ(again.Count(), 0u);
  reversed[0].post_id = "RENAMED";
  EXPECT_TRUE(*raw.ReplaceStaffing("2026-01", reversed, st2));
}

TEST_F(RawRecordsTest, ActivityKeepsAnUnrecordedWait) {
  RawRecords raw(db_.get());
  rocksdb::WriteBatch batch;
  RawRecords::Staged st(&batch);
  ASSERT_TRUE(*raw.ReplaceActivity(
      "2026-03",
      {{"2026-03-02", "immunisation", "RXY", "", -1},
       {"2026-03-01", "management_referral", "RJ1", "S1", 0}},
      st));
  Write(batch);
  auto r = raw.Load("2026-03");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->activity.size(), 2u);
  EXPECT_EQ(r->activity[0].wait_days, 0);
  EXPECT_EQ(r->activity[1].wait_days, -1);
  EXPECT_EQ(r->activity[1].client_org, "RXY");
}

// The encoding is written by hand for speed: it must stay byte for byte
// what protobuf writes, or every stored month would read as changed.
TEST(RawRecordsEncodingTest, ActivityIsWhatProtobufWrites) {
  std::vector<ActivityRow> rows = {
      {"2026-01-02", "immunisation", "RJ1", "S1", 0},
      {"2026-01-01", "counselling_session", "RJ1", "", -1},
      {"2026-01-03", "tb_screening", "", std::string(64, 'x'), 365},
      {"2026-01-03", "tb_screening", "R1K", "s", 200000},
      {"2026-01-01", "counselling_session", "RJ1", "", -1},
      // Lengths of two varint bytes, for the row and the field.
      {"2026-01-04", "immunisation", "RJ1", std::string(200, 'y'), 130}};
  agent_store::v1::ActivityRecords expected;
  std::vector<ActivityRow> sorted = rows;
  std::sort(sorted.begin(), sorted.end());
  for (const ActivityRow& r : sorted) {
    agent_store::v1::ActivityRow* row = expected.add_rows();
    row->set_date(r.date);
    row->set_activity(r.activity);
    row->set_client_org(r.client_org);
    row->set_subject_ref(r.subject_ref);
    if (r.wait_days >= 0) row->set_wait_days(r.wait_days);
  }
  const std::string bytes = RawRecords::EncodeActivity(rows);
  EXPECT_EQ(bytes, expected.SerializeAsString());
  auto back = RawRecords::DecodeActivity(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, sorted);
  EXPECT_EQ(RawRecords::EncodeActivity({}), "");
}

// Rows are sorted by an integer key first: the order must be ActivityRow's
// whatever ties the key leaves (shared 8-byte subject prefixes, a NUL) or
// dates it cannot key.
TEST(RawRecordsEncodingTest, ActivityOrderIsTheRowOrder) {
  std::vector<ActivityRow> rows;
  const std::vector<std::string> subjects = {
      "", "a", "a\0", "abcdefgh", "abcdefghi", "abcdefgh0", "b"};
  for (const std::string& date : {"2026-01-02", "2026-01-10", "2025-12-31"}) {
    for (const std::string& activity : {"tb", "immunisation", "covid_test"}) {
      for (const std::string& client : {"RJ1", "R1K", ""}) {
        for (const std::string& subject : subjects) {
          rows.push_back({date, activity, client, subject,
                          static_cast<int>(subject.size()) - 1});
        }
      }
    }
  }
  std::reverse(rows.begin(), rows.end());
  std::vector<ActivityRow> sorted = rows;
  std::sort(sorted.begin(), sorted.end());
  auto back = RawRecords::DecodeActivity(RawRecords::EncodeActivity(rows));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, sorted);
  rows.push_back({"2026-1-5", "tb", "RJ1", "x", 1});  // not keyable: all
  sorted = rows;                                      // compared in full
  std::sort(sorted.begin(), sorted.end());
  back = RawRecords::DecodeActivity(RawRecords::EncodeActivity(rows));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, sorted);
}

TEST_F(RawRecordsTest, AnswersMergeByCodeAndCanBeRemoved) {
  RawRecords raw(db_.get());
  rocksdb::WriteBatch batch;
  RawRecords::Staged st(&batch);
  auto m = raw.MergeAnswers(
      "2026", Source::kManual,
      {{"profile.host_type", "acute"}, {"profile.staff_served", "8000"}}, st);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->changed, 2u);
  m = raw.MergeAnswers(
      "2026", Source::kManual,
      {{"profile.host_type", "acute"}, {"profile.staff_served", "9000"}}, st);
  EXPECT_EQ(m->changed, 1u);
  EXPECT_EQ(m->unchanged, 1u);
  Write(batch);
  EXPECT_THAT(raw.Load("2026")->manual,
              ElementsAre(Pair("profile.host_type", "acute"),
                          Pair("profile.staff_served", "9000")));
  auto codes = raw.ManualCodes();
  ASSERT_TRUE(codes.ok());
  EXPECT_THAT(*codes,
              ElementsAre(Pair("2026", ElementsAre("profile.host_type",
                                                   "profile.staff_served"))));

  rocksdb::WriteBatch removal;
  RawRecords::Staged st2(&removal);
  EXPECT_FALSE(
      *raw.RemoveAnswer("2026", Source::kManual, "profile.other", st2));
  EXPECT_TRUE(
      *raw.RemoveAnswer("2026", Source::kManual, "profile.host_type", st2));
  EXPECT_TRUE(
      *raw.RemoveAnswer("2026", Source::kManual, "profile.staff_served", st2));
  Write(removal);
  // The last answer gone: the record itself is deleted.
  EXPECT_TRUE(absl::IsNotFound(
      GetValue(db_.get(), RawRecords::Key("2026", Source::kManual)).status()));
  EXPECT_TRUE(raw.ManualCodes()->empty());
}

TEST_F(RawRecordsTest, DeletePeriodRemovesEverySource) {
  RawRecords raw(db_.get());
  rocksdb::WriteBatch batch;
  RawRecords::Staged st(&batch);
  ASSERT_TRUE(*raw.ReplaceStaffing("2026-01", kRows, st));
  ASSERT_TRUE(raw.MergeAnswers("2026-01", Source::kManual,
                               {{"staffing.wte.admin", "4"}}, st)
                  .ok());
  Write(batch);
  rocksdb::WriteBatch deletion;
  RawRecords::Staged st2(&deletion);
  raw.DeletePeriod("2026-01", st2);
  EXPECT_TRUE(raw.Load("2026-01", &st2)->staffing.empty());
  Write(deletion);
  auto r = raw.Load("2026-01");
  EXPECT_TRUE(r->staffing.empty());
  EXPECT_TRUE(r->manual.empty());
}

TEST_F(RawRecordsTest, ACorruptRecordIsDataLoss) {
  rocksdb::WriteBatch batch;
  batch.Put(RawRecords::Key("2026-01", Source::kStaffing),
            "\xff\xff not a record");
  Write(batch);
  EXPECT_THAT(
      RawRecords(db_.get()).Load("2026-01"),
      testing::StatusIs(absl::StatusCode::kDataLoss, "corrupt raw record"));
}

}  // namespace
}  // namespace ohfed::agent
