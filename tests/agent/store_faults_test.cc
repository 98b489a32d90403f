// The agent's local store on a failing disk (tests/testing/fault_fs.h, real
// RocksDB underneath): a change whose sync fails, whose write fails or that
// meets a full disk is reported as a failure and changes nothing the agent
// believes; the outbox and its acknowledgements survive every fault; and
// the store resumes by itself, without a restart, once the disk is back.
#include <thread>

#include "agent/local_store.h"
#include "tests/agent/local_store_fixture.h"
#include "tests/testing/fault_fs.h"
#include "tests/testing/testing.h"

namespace ohfed::agent {
namespace {

using ::ohfed::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class StoreFaultsTest : public LocalStoreTest {
 protected:
  void SetUp() override {
    env_ = faults_.env.get();
    LocalStoreTest::SetUp();
    // January acknowledged upstream, February waiting in the outbox.
    Import(v1::IMPORT_KIND_STAFFING, kStaffing);
    jan_ = Revision("2026-01");
    feb_ = Revision("2026-02");
    OHFED_ASSERT_OK(
        store_->OnAcks({MakeAck("2026-01", jan_, v1::OUTCOME_ACCEPTED)}));
    ASSERT_THAT(PendingPeriods(), ElementsAre("2026-02"));
  }
  // The store goes before the file system under it.
  void TearDown() override { store_.reset(); }

  // Nothing acknowledged was lost and nothing pending was dropped.
  void ExpectOutboxIntact() {
    EXPECT_EQ(State("2026-01").state(), "current");
    EXPECT_EQ(Revision("2026-01"), jan_);
    EXPECT_THAT(PendingPeriods(), ElementsAre("2026-02"));
  }

  // What the agent holds in memory is what a fresh open reads from disk.
  void ExpectMemoryMatchesDisk() {
    std::vector<std::string> before;
    for (const v1::PeriodState& s : store_->States()) {
      before.push_back(s.SerializeAsString());
    }
    Reopen();
    std::vector<std::string> after;
    for (const v1::PeriodState& s : store_->States()) {
      after.push_back(s.SerializeAsString());
    }
    EXPECT_EQ(before, after);
  }

  testing::FaultEnv faults_;
  uint64_t jan_ = 0, feb_ = 0;
};

// Before, the agent's store had no seam for the environment and no way back
// from a failed write: RocksDB stops a database for good after a failed WAL
// sync, so every later `set`, import and ack failed until a restart.
TEST_F(StoreFaultsTest, FailedSyncIsReportedAndTheStoreResumesWhenItClears) {
  faults_.fs->FailSyncs(true);
  auto set = store_->SetValue("2026-02", "staffing.wte.admin", "1");
  EXPECT_THAT(set.status(), StatusIs(absl::StatusCode::kUnavailable,
                                     "injected sync failure"));
  EXPECT_THAT(set.status().message(), HasSubstr("store " + dir_.path()));
  EXPECT_TRUE(store_->failing());
  EXPECT_EQ(Revision("2026-02"), feb_);
  ExpectOutboxIntact();
  // Upstream's ack for February cannot be recorded: it stays pending, to be
  // sent again (and acknowledged as stale) later.
  EXPECT_THAT(store_->OnAcks({MakeAck("2026-02", feb_, v1::OUTCOME_ACCEPTED)}),
              StatusIs(absl::StatusCode::kUnavailable, "failing"));
  ExpectOutboxIntact();
  EXPECT_GE(faults_.fs->counts().failed_syncs, 2u);

  faults_.fs->Clear();
  auto again = store_->SetValue("2026-02", "staffing.wte.admin", "2");
  OHFED_ASSERT_OK(again);
  EXPECT_FALSE(store_->failing());
  // The failed `set` may have reached the disk (its sync's outcome is
  // unknown); either way this one is newer.
  EXPECT_GT(again->revision(), feb_);
  ExpectOutboxIntact();
  OHFED_ASSERT_OK(store_->OnAcks(
      {MakeAck("2026-02", again->revision(), v1::OUTCOME_ACCEPTED)}));
  EXPECT_THAT(PendingPeriods(), IsEmpty());
  ExpectMemoryMatchesDisk();
  EXPECT_THAT(PendingPeriods(), IsEmpty());
}

TEST_F(StoreFaultsTest, DiskFullFailsTheImportAndResumesWhenSpaceReturns) {
  const std::string march = "period,staff_group,wte\n2026-03,admin,2\n";
  faults_.fs->SetDiskFull(true);
  ImportContext ctx{Catalogue::Default().get(), "RJ1", Month::Of(2026, 6)};
  absl::StatusOr<ParsedImport> p =
      ParseImport(v1::IMPORT_KIND_STAFFING, march, ctx);
  ASSERT_TRUE(p.ok() && p->errors.empty());
  EXPECT_THAT(
      store_->ApplyImport(RecordsOf(*p)).status(),
      StatusIs(absl::StatusCode::kUnavailable, "No space left on device"));
  EXPECT_EQ(Revision("2026-03"), 0u);
  // Still full: the reopen fails too, and says so.
  EXPECT_THAT(store_->ApplyImport(RecordsOf(*p)).status(),
              StatusIs(absl::StatusCode::kUnavailable, "reopening it failed"));
  ExpectOutboxIntact();
  EXPECT_GT(faults_.fs->counts().total(), 0u);

  faults_.fs->SetDiskFull(false);
  absl::StatusOr<ImportOutcome> o = store_->ApplyImport(RecordsOf(*p));
  OHFED_ASSERT_OK(o);
  EXPECT_THAT(o->periods_changed, ElementsAre("2026-03"));
  EXPECT_THAT(PendingPeriods(), ElementsAre("2026-02", "2026-03"));
  ExpectMemoryMatchesDisk();
  EXPECT_THAT(PendingPeriods(), ElementsAre("2026-02", "2026-03"));
}

TEST_F(StoreFaultsTest, FailedAppendChangesNothingAndRetractResumes) {
  faults_.fs->FailWrites(true);
  EXPECT_THAT(
      store_->Retract("2026-02").status(),
      StatusIs(absl::StatusCode::kUnavailable, "injected write failure"));
  EXPECT_FALSE(store_->Summary("2026-02")->retracted());
  ExpectOutboxIntact();
  faults_.fs->FailWrites(false);
  auto retracted = store_->Retract("2026-02");
  OHFED_ASSERT_OK(retracted);
  EXPECT_TRUE(retracted->changed);
  EXPECT_TRUE(store_->Summary("2026-02")->retracted());
  EXPECT_EQ(State("2026-01").state(), "current");
  ExpectMemoryMatchesDisk();
}

// Recover() (what the daemon's background retry calls) brings the store
// back with no write.
TEST_F(StoreFaultsTest, RecoverWithoutAWrite) {
  faults_.fs->FailSyncs(true);
  EXPECT_FALSE(store_->SetValue("2026-02", "staffing.wte.admin", "1").ok());
  EXPECT_THAT(store_->Recover(),
              StatusIs(absl::StatusCode::kUnavailable, "reopening it failed"));
  EXPECT_TRUE(store_->failing());
  faults_.fs->Clear();
  OHFED_EXPECT_OK(store_->Recover());
  EXPECT_FALSE(store_->failing());
  EXPECT_EQ(State("2026-01").state(), "current");
  ExpectMemoryMatchesDisk();
}

// `set` answers only once its change is durable: while the sync is held,
// the call has not returned.
TEST_F(StoreFaultsTest, DelayedSyncDelaysTheAnswer) {
  faults_.fs->DelaySyncs(true);
  std::atomic<bool> answered{false};
  absl::StatusOr<v1::SetValueResponse> set;
  std::thread t([&] {
    set = store_->SetValue("2026-02", "staffing.wte.admin", "1");
    answered = true;
  });
  faults_.fs->AwaitDelayedSyncs(1);
  EXPECT_FALSE(answered);
  faults_.fs->DelaySyncs(false);
  t.join();
  OHFED_ASSERT_OK(set);
  EXPECT_EQ(set->revision(), feb_ + 1);
  ExpectMemoryMatchesDisk();
  EXPECT_EQ(Revision("2026-02"), feb_ + 1);
}

}  // namespace
}  // namespace ohfed::agent
