// The agent's store opened after damage to its files (agent/local_store.h,
// common/db_recovery.h): a torn WAL tail, a truncated table, a flipped byte
// in a table. The store starts, says what it found in one line, keeps what
// survived, rebuilds summaries from the raw records, and resends.
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "tests/agent/local_store_fixture.h"
#include "tests/testing/db_damage.h"

namespace ohfed::agent {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Staffing for 2024-01 .. 2025-12, 36 posts a month: enough rows that the
// store's table has several data blocks, the raw records' before the
// summaries' (keys "raw/" < "sum/").
std::string TwoYearsOfStaffing() {
  const char* groups[] = {"nurse_general", "admin",   "manager",
                          "physio_ot",     "trainee", "technician_hca"};
  std::string csv = "period,staff_group,wte,basis,post_id\n";
  for (int year : {2024, 2025}) {
    for (int month = 1; month <= 12; ++month) {
      for (const char* group : groups) {
        for (int post = 0; post < 6; ++post) {
          absl::StrAppend(&csv, year, "-", month < 10 ? "0" : "", month, ",",
                          group, ",0.", 5 + post % 5, ",employed,", group, "-",
                          post, "\n");
        }
      }
    }
  }
  return csv;
}

class AgentCorruptionTest : public LocalStoreTest {
 protected:
  // Acknowledges every period at its revision: nothing pending.
  void AckAll() {
    std::vector<v1::Ack> acks;
    for (const v1::PeriodState& s : store_->States()) {
      acks.push_back(MakeAck(s.period(), s.revision(), v1::OUTCOME_ACCEPTED));
    }
    OHFED_ASSERT_OK(store_->OnAcks(acks));
    ASSERT_THAT(PendingPeriods(), IsEmpty());
  }

  // Every period's cells, serialized, by period.
  std::map<std::string, std::string> AllCells() {
    std::map<std::string, std::string> out;
    for (const v1::PeriodState& s : store_->States()) {
      auto summary = store_->Summary(s.period());
      EXPECT_TRUE(summary.ok()) << summary.status();
      v1::UnitSummary cells;
      *cells.mutable_cells() = summary->cells();
      out[s.period()] = cells.SerializeAsString();
    }
    return out;
  }

  // Closes the store and writes what its WAL holds into a table.
  void CloseAndFlush() {
    store_.reset();
    testing::FlushDb(dir_.path());
  }

  size_t QuarantinedFiles() {
    size_t n = 0;
    std::filesystem::path q = std::filesystem::path(dir_.path()) / "quarantine";
    if (!std::filesystem::exists(q)) return 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(q)) {
      n += e.is_regular_file() ? 1 : 0;
    }
    return n;
  }
};

TEST_F(AgentCorruptionTest, SoundStoreReportsNothing) {
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  Reopen();
  EXPECT_THAT(store_->recovery(), IsEmpty());
}

TEST_F(AgentCorruptionTest, TornWalTailLosesOnlyTheLastChangeAndSaysSo) {
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  const uint64_t jan = Revision("2026-01");
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(store_->SetValue("2026-03", "staffing.wte.admin", "2").ok());
  store_.reset();
  testing::TruncateFile(testing::NewestDbFile(dir_.path(), ".log"), 5);

  Reopen();
  EXPECT_THAT(store_->recovery(), HasSubstr("was damaged and recovered: WAL "));
  EXPECT_THAT(store_->recovery(), HasSubstr("torn tail, dropped"));
  EXPECT_THAT(store_->recovery(), HasSubstr("import it again if missing"));
  EXPECT_EQ(Revision("2026-01"), jan);  // the import before survives
  EXPECT_EQ(Revision("2026-03"), 0u);   // the torn write is gone
  // The store works on.
  EXPECT_TRUE(store_->SetValue("2026-03", "staffing.wte.admin", "2").ok());
  Reopen();
  EXPECT_THAT(store_->recovery(), IsEmpty());
  EXPECT_GT(Revision("2026-03"), 0u);
}

TEST_F(AgentCorruptionTest, TruncatedTableIsQuarantinedAndTheRestSurvives) {
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);  // 2026-01, 2026-02
  CloseAndFlush();
  Reopen();
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(store_->SetValue("2026-04", "staffing.wte.admin", "2").ok());
  CloseAndFlush();
  testing::TruncateFile(testing::NewestDbFile(dir_.path(), ".sst"), 100);

  Reopen();  // without recovery: kDataLoss, "file is too short"
  EXPECT_THAT(store_->recovery(), HasSubstr(": SST 0"));
  EXPECT_THAT(store_->recovery(), HasSubstr("Corruption"));
  EXPECT_THAT(store_->recovery(), HasSubstr("damaged tables moved to"));
  EXPECT_EQ(QuarantinedFiles(), 1u);
  EXPECT_GT(Revision("2026-01"), 0u);
  EXPECT_GT(Revision("2026-02"), 0u);
  EXPECT_EQ(Revision("2026-04"), 0u);  // only in the lost table
  Reopen();
  EXPECT_THAT(store_->recovery(), IsEmpty());
}

TEST_F(AgentCorruptionTest, FlippedByteRebuildsSummariesFromRawRecords) {
  Import(v1::IMPORT_KIND_STAFFING, TwoYearsOfStaffing(),
         /*accept_outliers=*/true);
  AckAll();
  const std::map<std::string, std::string> before = AllCells();
  ASSERT_EQ(before.size(), 24u);
  CloseAndFlush();
  const std::string sst = testing::NewestDbFile(dir_.path(), ".sst");
  // The last data block holds the last summaries ("sum/2025-..").
  testing::FlipByte(sst, testing::DataBlockBytes(sst) - 40);
  clock_.Advance(absl::Minutes(1));

  Reopen();  // without recovery: kDataLoss, "block checksum mismatch"
  EXPECT_THAT(store_->recovery(), HasSubstr("checksum mismatch"));
  EXPECT_THAT(store_->recovery(), HasSubstr("readable entries copied back"));
  EXPECT_THAT(store_->recovery(),
              HasSubstr("period summaries rebuilt from raw records (2025-"));
  // Every summary is back, equal to what the records give.
  EXPECT_EQ(AllCells(), before);
  // Those rebuilt carry a new revision and go out again; the aggregator
  // holds the same figures, so nothing changes there.
  std::vector<std::string> pending = PendingPeriods();
  EXPECT_THAT(pending, Not(IsEmpty()));
  EXPECT_LT(pending.size(), 24u);
  for (const std::string& p : pending) EXPECT_EQ(p.substr(0, 4), "2025") << p;
}

TEST_F(AgentCorruptionTest, StoreThatCannotBeRecoveredIsAClearError) {
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  CloseAndFlush();
  testing::TruncateFile(testing::NewestDbFile(dir_.path(), ".sst"), 100);
  // Nowhere to move the damaged table.
  dir_.Write("quarantine", "a file, not a folder");
  store_.reset();
  auto s =
      LocalStore::Open({.dir = dir_.path(), .trust = "RJ1", .clock = &clock_});
  EXPECT_THAT(s, testing::StatusIs(absl::StatusCode::kDataLoss,
                                   "cannot move damaged tables"));
}

}  // namespace
}  // namespace ohfed::agent
