// The summaries and revisions derived from the raw records
// (agent/summaries.h), through the local store: summaries from a
// hand-computed fixture, revision semantics of re-imports and corrections,
// hand-entered values, retractions, outlier warnings and holds (real
// RocksDB).
#include "agent/summaries.h"

#include "common/rocksdb_util.h"
#include "tests/agent/local_store_fixture.h"

namespace ohfed::agent {
namespace {

using ::testing::HasSubstr;

class SummariesTest : public LocalStoreTest {};

TEST_F(SummariesTest, StaffingSummaryMatchesHandComputation) {
  ImportOutcome o = Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  EXPECT_EQ(o.rows_imported, 5u);
  EXPECT_EQ(o.periods_changed,
            (std::vector<std::string>{"2026-01", "2026-02"}));
  auto jan = Cells("2026-01");
  EXPECT_DOUBLE_EQ(jan["staffing.wte.nurse_general"].value(), 1.6);
  EXPECT_DOUBLE_EQ(jan["staffing.vacant_wte.nurse_general"].value(), 0.4);
  EXPECT_DOUBLE_EQ(jan["staffing.wte.admin"].value(), 3.5);
  EXPECT_DOUBLE_EQ(jan["staffing.vacant_wte.admin"].value(), 0);
  EXPECT_DOUBLE_EQ(jan["staffing.wte_basis.employed"].value(), 4.5);
  EXPECT_DOUBLE_EQ(jan["staffing.wte_basis.bank"].value(), 0.6);
  EXPECT_EQ(jan.count("staffing.wte_basis.vacant"), 0u);
  EXPECT_EQ(jan.size(), 6u);
  EXPECT_DOUBLE_EQ(Cells("2026-02")["staffing.wte.nurse_general"].value(), 1.0);
}

TEST_F(SummariesTest, ActivitySummaryMatchesHandComputation) {
  Import(v1::IMPORT_KIND_ACTIVITY,
         "date,activity,client_org,subject_ref,wait_days\n"
         "2026-03-02,management_referral,,S1,10\n"
         "2026-03-09,management_referral,,S2,10\n"
         "2026-03-10,management_referral,,S1,3\n"
         "2026-03-11,management_referral,,,\n"
         "2026-03-12,immunisation,RXY,S3,\n"
         "2026-04-01,immunisation,,S9,\n");
  auto mar = Cells("2026-03");
  EXPECT_EQ(mar["activity.count.management_referral"].value(), 4);
  EXPECT_EQ(mar["activity.count.immunisation"].value(), 1);
  EXPECT_EQ(mar["activity.staff_seen"].value(), 3);  // S1, S2, S3
  const v1::Cell& wait = mar["activity.wait_days.management_referral"];
  EXPECT_EQ(wait.value(), 3);  // events with a wait recorded
  ASSERT_EQ(wait.buckets_size(), 2);
  EXPECT_EQ(wait.buckets(0).value(), 3);
  EXPECT_EQ(wait.buckets(0).count(), 1u);
  EXPECT_EQ(wait.buckets(1).value(), 10);
  EXPECT_EQ(wait.buckets(1).count(), 2u);
  EXPECT_EQ(mar.count("activity.wait_days.immunisation"), 0u);
  EXPECT_EQ(Cells("2026-04")["activity.staff_seen"].value(), 1);
}

TEST_F(SummariesTest, ProfileSummaryAndAnswerReplacement) {
  Import(v1::IMPORT_KIND_PROFILE,
         "year,question,answer\n2026,host_type,community\n"
         "2026,seqohs_accredited,yes\n2026,staff_served,8000\n");
  auto y = Cells("2026");
  EXPECT_EQ(y["profile.host_type.community"].value(), 1);
  EXPECT_EQ(y["profile.host_type.acute"].value(), 0);
  EXPECT_EQ(y.count("profile.host_type.other"), 1u);
  EXPECT_EQ(y["profile.seqohs_accredited"].value(), 1);
  EXPECT_EQ(y["profile.staff_served"].value(), 8000);
  // A later file with one answer replaces that answer only.
  ImportOutcome o = Import(v1::IMPORT_KIND_PROFILE,
                           "year,question,answer\n2026,seqohs_accredited,no\n");
  EXPECT_EQ(o.rows_imported, 1u);
  y = Cells("2026");
  EXPECT_EQ(y["profile.seqohs_accredited"].value(), 0);
  EXPECT_EQ(y["profile.staff_served"].value(), 8000);
}

TEST_F(SummariesTest, UnchangedReimportKeepsRevisions) {
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  uint64_t jan = Revision("2026-01"), feb = Revision("2026-02");
  clock_.Advance(absl::Minutes(1));
  // The same rows in another order are the same content.
  ImportOutcome o = Import(v1::IMPORT_KIND_STAFFING,
                           "post_id,period,staff_group,wte,basis\n"
                           "N1,2026-02,nurse_general,1.0,employed\n"
                           ",2026-01,admin,3.5,\n"
                           "N3,2026-01,nurse_general,0.4,vacant\n"
                           "N2,2026-01,nurse_general,0.6,bank\n"
                           "N1,2026-01,nurse_general,1.0,employed\n");
  EXPECT_EQ(o.rows_imported, 0u);
  EXPECT_EQ(o.rows_unchanged, 5u);
  EXPECT_TRUE(o.periods_changed.empty());
  EXPECT_EQ(Revision("2026-01"), jan);
  EXPECT_EQ(Revision("2026-02"), feb);
}

TEST_F(SummariesTest, CorrectionBumpsOnlyThatMonthAndRevisionsIncrease) {
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  uint64_t jan = Revision("2026-01"), feb = Revision("2026-02");
  EXPECT_EQ(jan, static_cast<uint64_t>(absl::ToUnixMillis(kNow)));
  // The clock does not move (or even goes back): still strictly increasing.
  clock_.Advance(-absl::Hours(1));
  ImportOutcome o = Import(v1::IMPORT_KIND_STAFFING,
                           std::string(kStaffing) + "2026-02,admin,1.0,,A9\n");
  EXPECT_EQ(o.periods_changed, std::vector<std::string>{"2026-02"});
  EXPECT_EQ(o.rows_unchanged, 4u);
  EXPECT_EQ(o.rows_imported, 2u);
  EXPECT_EQ(Revision("2026-01"), jan);
  EXPECT_EQ(Revision("2026-02"), feb + 1);
  clock_.Advance(absl::Hours(2));
  Import(v1::IMPORT_KIND_STAFFING,
         "period,staff_group,wte\n2026-02,admin,2\n");  // replaces February
  EXPECT_EQ(Revision("2026-02"),
            static_cast<uint64_t>(absl::ToUnixMillis(clock_.Now())));
  EXPECT_EQ(Cells("2026-02").count("staffing.wte.nurse_general"), 0u);
  EXPECT_EQ(Revision("2026-01"), jan);
}

TEST_F(SummariesTest, RawChangeWithTheSameSummaryKeepsTheRevision) {
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  uint64_t feb = Revision("2026-02");
  clock_.Advance(absl::Minutes(1));
  ImportOutcome o = Import(v1::IMPORT_KIND_STAFFING,
                           "period,staff_group,wte,basis,post_id\n"
                           "2026-02,nurse_general,1.0,employed,RENAMED\n");
  EXPECT_EQ(o.rows_imported, 1u);
  EXPECT_TRUE(o.periods_changed.empty());
  EXPECT_EQ(Revision("2026-02"), feb);
}

TEST_F(SummariesTest, OutOfRangeTotalRejectsTheWholeImport) {
  Import(v1::IMPORT_KIND_STAFFING,
         "period,staff_group,wte\n2026-01,admin,600\n");
  ImportContext ctx{Catalogue::Default().get(), "RJ1", Month::Of(2026, 6)};
  auto p = ParseImport(v1::IMPORT_KIND_STAFFING,
                       "period,staff_group,wte,basis\n2026-01,admin,600,\n"
                       "2026-01,admin,600,locum\n2026-02,admin,1,\n",
                       ctx);
  ASSERT_TRUE(p.ok() && p->errors.empty());
  EXPECT_THAT(store_->ApplyImport(RecordsOf(*p)),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                "staffing.wte.admin"));
  EXPECT_EQ(Cells("2026-01")["staffing.wte.admin"].value(), 600);
  EXPECT_THAT(store_->Summary("2026-02"),
              testing::StatusIs(absl::StatusCode::kNotFound, "2026-02"));
}

TEST_F(SummariesTest, HandEnteredValuesOverrideAndSurviveImports) {
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  uint64_t jan = Revision("2026-01");
  auto r = store_->SetValue("2026-01", "staffing.wte.nurse_general", "2.5");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->revision(), jan + 1);
  EXPECT_EQ(Cells("2026-01")["staffing.wte.nurse_general"].value(), 2.5);
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);  // re-import: still overridden
  EXPECT_EQ(Cells("2026-01")["staffing.wte.nurse_general"].value(), 2.5);
  EXPECT_EQ(Revision("2026-01"), jan + 1);
  // Setting the same value again changes nothing.
  EXPECT_EQ(store_->SetValue("2026-01", "staffing.wte.nurse_general", "2.5")
                ->revision(),
            jan + 1);
  ASSERT_TRUE(store_->SetValue("2026", "profile.host_type", "acute").ok());
  EXPECT_EQ(Cells("2026")["profile.host_type.acute"].value(), 1);
  EXPECT_EQ(Cells("2026")["profile.host_type.ambulance"].value(), 0);
}

TEST_F(SummariesTest, OutlierWarningsAgainstOwnHistory) {
  Import(v1::IMPORT_KIND_STAFFING,
         "period,staff_group,wte\n2026-01,admin,4\n2026-02,admin,5\n"
         "2026-03,admin,6\n");
  // The admin total and the employed-basis total both jump.
  ImportOutcome o = Import(v1::IMPORT_KIND_STAFFING,
                           "period,staff_group,wte\n2026-04,admin,13\n");
  ASSERT_EQ(o.warnings.size(), 2u);
  EXPECT_EQ(o.warnings[0].column(), "staffing.wte.admin");
  EXPECT_THAT(o.warnings[0].reason(),
              HasSubstr("more than twice the highest (6)"));
  EXPECT_EQ(o.warnings[1].column(), "staffing.wte_basis.employed");
  o = Import(v1::IMPORT_KIND_STAFFING,
             "period,staff_group,wte\n2026-05,admin,1.9\n");
  ASSERT_EQ(o.warnings.size(), 2u);
  EXPECT_THAT(o.warnings[0].reason(),
              HasSubstr("less than half the lowest (4)"));
  // Within range, or with too little history: no warning.
  EXPECT_TRUE(Import(v1::IMPORT_KIND_STAFFING,
                     "period,staff_group,wte\n2026-06,admin,7\n")
                  .warnings.empty());
  EXPECT_TRUE(
      Import(v1::IMPORT_KIND_STAFFING,
             "period,staff_group,wte\n2026-01,manager,1\n2026-02,manager,9\n")
          .warnings.empty());
}

// Codes are matched ignoring case: one entry per measure, whatever the
// spelling typed, and unset finds it the same way.
TEST_F(SummariesTest, HandEnteredCodesIgnoreCase) {
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  ASSERT_TRUE(
      store_->SetValue("2026-01", "Staffing.WTE.Nurse_General", "2.5").ok());
  ASSERT_TRUE(
      store_->SetValue("2026-01", "staffing.wte.nurse_general", "1.5").ok());
  EXPECT_THAT(State("2026-01").manual(),
              ::testing::ElementsAre("staffing.wte.nurse_general"));
  EXPECT_EQ(Cells("2026-01")["staffing.wte.nurse_general"].value(), 1.5);
  ASSERT_TRUE(
      store_->SetValue("2026-01", "STAFFING.WTE.NURSE_GENERAL", "0.5").ok());
  EXPECT_EQ(Cells("2026-01")["staffing.wte.nurse_general"].value(), 0.5);
  auto r = store_->UnsetValue("2026-01", "Staffing.Wte.Nurse_General");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed);
  EXPECT_TRUE(State("2026-01").manual().empty());
}

TEST_F(SummariesTest, HandEnteredValuesAreListedAndCanBeUnset) {
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  ASSERT_TRUE(
      store_->SetValue("2026-01", "staffing.wte.nurse_general", "2.5").ok());
  ASSERT_TRUE(store_->SetValue("2026", "profile.host_type", "acute").ok());
  EXPECT_THAT(State("2026-01").manual(),
              ::testing::ElementsAre("staffing.wte.nurse_general"));
  EXPECT_THAT(State("2026").manual(),
              ::testing::ElementsAre("profile.host_type"));
  EXPECT_TRUE(State("2026-02").manual().empty());

  // A corrected file for the month says the hand-entered value still wins.
  ImportOutcome o = Import(v1::IMPORT_KIND_STAFFING,
                           "period,staff_group,wte\n2026-01,nurse_general,3\n");
  ASSERT_EQ(o.warnings.size(), 1u);
  EXPECT_EQ(o.warnings[0].column(), "staffing.wte.nurse_general");
  EXPECT_THAT(o.warnings[0].reason(),
              HasSubstr("keeps the value entered by hand (2.5) over the "
                        "imported 3"));
  EXPECT_THAT(o.warnings[0].reason(),
              HasSubstr("ohfed unset 2026-01 staffing.wte.nurse_general"));
  EXPECT_EQ(Cells("2026-01")["staffing.wte.nurse_general"].value(), 2.5);

  // Unset: the imported figure counts again, as a new revision.
  uint64_t before = Revision("2026-01");
  auto r = store_->UnsetValue("2026-01", "staffing.wte.nurse_general");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed);
  EXPECT_GT(r->revision, before);
  EXPECT_EQ(Cells("2026-01")["staffing.wte.nurse_general"].value(), 3.0);
  EXPECT_TRUE(State("2026-01").manual().empty());
  // Nothing left to unset; unknown codes and periods are named.
  r = store_->UnsetValue("2026-01", "staffing.wte.nurse_general");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->changed);
  EXPECT_EQ(r->revision, Revision("2026-01"));
  EXPECT_THAT(
      store_->UnsetValue("2026-01", "staffing.wte.surgeon"),
      testing::StatusIs(absl::StatusCode::kNotFound, "unknown measure"));
  EXPECT_THAT(store_->UnsetValue("2026-03", "staffing.wte.admin"),
              testing::StatusIs(absl::StatusCode::kNotFound, "no data"));
  EXPECT_THAT(
      store_->UnsetValue("2026-13", "staffing.wte.admin"),
      testing::StatusIs(absl::StatusCode::kInvalidArgument, "invalid period"));

  // The list survives a restart.
  Reopen();
  EXPECT_THAT(State("2026").manual(),
              ::testing::ElementsAre("profile.host_type"));
  // A period made only of a hand-entered value is withdrawn when it goes.
  r = store_->UnsetValue("2026", "profile.host_type");
  ASSERT_TRUE(r.ok());
  auto year = store_->Summary("2026");
  ASSERT_TRUE(year.ok());
  EXPECT_TRUE(year->retracted());
  EXPECT_EQ(year->cells_size(), 0);
}

// Chosen rule (agent/overrides.h): a hand-entered count may not fall below
// the events its wait-time distribution is built from.
TEST_F(SummariesTest, HandCountCannotContradictItsWaitDistribution) {
  Import(v1::IMPORT_KIND_ACTIVITY,
         "date,activity,client_org,subject_ref,wait_days\n"
         "2026-03-02,management_referral,,S1,10\n"
         "2026-03-09,management_referral,,S2,4\n"
         "2026-03-10,management_referral,,S3,3\n"
         "2026-03-11,management_referral,,,\n");
  uint64_t rev = Revision("2026-03");
  EXPECT_THAT(
      store_->SetValue("2026-03", "activity.count.management_referral", "2"),
      testing::StatusIs(absl::StatusCode::kInvalidArgument,
                        "is below the 3 management_referral events with "
                        "a wait time"));
  EXPECT_EQ(Revision("2026-03"), rev);
  EXPECT_TRUE(State("2026-03").manual().empty());
  // At or above the events with a wait: consistent.
  ASSERT_TRUE(
      store_->SetValue("2026-03", "activity.count.management_referral", "3")
          .ok());
  EXPECT_EQ(Cells("2026-03")["activity.count.management_referral"].value(), 3);
  // An import that would put more waits under the hand count is refused.
  ImportContext ctx{Catalogue::Default().get(), "RJ1", Month::Of(2026, 6)};
  auto p = ParseImport(v1::IMPORT_KIND_ACTIVITY,
                       "date,activity,client_org,subject_ref,wait_days\n"
                       "2026-03-02,management_referral,,S1,10\n"
                       "2026-03-03,management_referral,,S1,10\n"
                       "2026-03-04,management_referral,,S1,10\n"
                       "2026-03-05,management_referral,,S1,10\n",
                       ctx);
  ASSERT_TRUE(p.ok());
  EXPECT_THAT(store_->ApplyImport(RecordsOf(*p)),
              testing::StatusIs(
                  absl::StatusCode::kInvalidArgument,
                  "ohfed unset 2026-03 activity.count.management_referral"));
  EXPECT_EQ(Cells("2026-03")["activity.wait_days.management_referral"].value(),
            3);
}

TEST_F(SummariesTest, RetractionIsARevisionWithoutCellsAndReimportRevives) {
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  ASSERT_TRUE(store_->SetValue("2026-01", "staffing.wte.admin", "4").ok());
  uint64_t live = Revision("2026-01");
  auto r = store_->Retract("2026-01");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed);
  EXPECT_GT(r->revision, live);
  auto s = store_->Summary("2026-01");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->retracted());
  EXPECT_EQ(s->cells_size(), 0);
  EXPECT_EQ(s->revision(), r->revision);
  v1::PeriodState state = State("2026-01");
  EXPECT_TRUE(state.retracted());
  EXPECT_EQ(state.state(), "pending");
  EXPECT_EQ(state.measures(), 0u);
  EXPECT_TRUE(state.manual().empty());
  // It travels through the outbox like any other revision.
  auto pending = store_->Pending(10);
  ASSERT_TRUE(pending.ok());
  auto it = std::find_if(pending->begin(), pending->end(),
                         [](const auto& u) { return u.period() == "2026-01"; });
  ASSERT_NE(it, pending->end());
  EXPECT_TRUE(it->retracted());
  EXPECT_EQ(it->trust(), "RJ1");
  // Retracting again changes nothing; unknown periods are named.
  EXPECT_FALSE(store_->Retract("2026-01")->changed);
  EXPECT_EQ(Revision("2026-01"), r->revision);
  EXPECT_THAT(store_->Retract("2026-04"),
              testing::StatusIs(absl::StatusCode::kNotFound, "2026-04"));
  // The same file imported again makes the month live, at a higher revision.
  Reopen();
  ImportOutcome o = Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  EXPECT_THAT(o.periods_changed, ::testing::ElementsAre("2026-01"));
  s = store_->Summary("2026-01");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->retracted());
  EXPECT_GT(s->revision(), r->revision);
  EXPECT_DOUBLE_EQ(Cells("2026-01")["staffing.wte.admin"].value(), 3.5);
  EXPECT_FALSE(State("2026-01").retracted());
}

TEST_F(SummariesTest, OutlierImportIsHeldUntilConfirmed) {
  Import(v1::IMPORT_KIND_STAFFING,
         "period,staff_group,wte\n2026-01,admin,4\n2026-02,admin,5\n"
         "2026-03,admin,6\n");
  ImportOutcome o = Import(v1::IMPORT_KIND_STAFFING,
                           "period,staff_group,wte\n2026-04,admin,13\n");
  EXPECT_FALSE(o.warnings.empty());
  EXPECT_EQ(o.periods_held, std::vector<std::string>{"2026-04"});
  v1::PeriodState held = State("2026-04");
  EXPECT_EQ(held.state(), "held");
  EXPECT_THAT(held.reason(), HasSubstr("more than twice the highest (6)"));
  EXPECT_THAT(held.reason(), HasSubstr("ohfed confirm 2026-04"));
  EXPECT_EQ(PendingPeriods(),
            (std::vector<std::string>{"2026-01", "2026-02", "2026-03"}));
  // Not waited for: Sync reports it instead.
  for (const char* p : {"2026-01", "2026-02", "2026-03"}) {
    ASSERT_TRUE(
        store_->OnAcks({MakeAck(p, Revision(p), v1::OUTCOME_ACCEPTED)}).ok());
  }
  EXPECT_TRUE(store_->AwaitDrained(absl::ZeroDuration()));

  Reopen();  // the hold is durable
  EXPECT_EQ(State("2026-04").state(), "held");
  auto c = store_->Confirm("2026-04");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->changed);
  EXPECT_EQ(c->revision, Revision("2026-04"));
  EXPECT_EQ(State("2026-04").state(), "pending");
  EXPECT_EQ(PendingPeriods(), std::vector<std::string>{"2026-04"});
  EXPECT_FALSE(store_->Confirm("2026-04")->changed);
  EXPECT_THAT(store_->Confirm("2026-05"),
              testing::StatusIs(absl::StatusCode::kNotFound, "2026-05"));

  // --accept-outliers: warned, not held.
  o = Import(v1::IMPORT_KIND_STAFFING,
             "period,staff_group,wte\n2026-05,admin,40\n",
             /*accept_outliers=*/true);
  EXPECT_FALSE(o.warnings.empty());
  EXPECT_TRUE(o.periods_held.empty());
  EXPECT_EQ(State("2026-05").state(), "pending");
  // Retracting a held period releases the hold along with the data.
  Import(v1::IMPORT_KIND_STAFFING,
         "period,staff_group,wte\n2026-04,admin,99\n");
  EXPECT_EQ(State("2026-04").state(), "held");
  ASSERT_TRUE(store_->Retract("2026-04").ok());
  EXPECT_EQ(State("2026-04").state(), "pending");
}

// The room itself: a new revision only when the cells change, above both
// the previous revision and the clock; nothing is current before Apply.
TEST(SummariesRoomTest, RevisionsFromRecords) {
  testing::TempDir dir;
  auto db = OpenDb(dir.path(), DbFootprint::kSmall);
  ASSERT_TRUE(db.ok());
  FakeClock clock(kNow);
  Summaries summaries(db->get(), Catalogue::Default().get(), &clock);
  OHFED_ASSERT_OK(summaries.Load({}));
  PeriodRecords records;
  records.staffing = {{"admin", 2, "employed", ""}};
  rocksdb::WriteBatch batch;
  Summaries::Staged st(&batch);
  OHFED_ASSERT_OK(summaries.Recompute("2026-01", records, st));
  EXPECT_EQ(summaries.Find("2026-01"), nullptr);
  const uint64_t first = summaries.Find("2026-01", &st)->summary.revision();
  EXPECT_EQ(first, static_cast<uint64_t>(absl::ToUnixMillis(kNow)));
  OHFED_ASSERT_OK(WriteSynced(db->get(), &batch));
  summaries.Apply(st);
  ASSERT_NE(summaries.Find("2026-01"), nullptr);

  rocksdb::WriteBatch same;
  Summaries::Staged st2(&same);
  OHFED_ASSERT_OK(summaries.Recompute("2026-01", records, st2));
  EXPECT_EQ(same.Count(), 0u);
  clock.Advance(-absl::Hours(1));
  records.staffing[0].wte = 3;
  OHFED_ASSERT_OK(summaries.Recompute("2026-01", records, st2));
  EXPECT_EQ(summaries.Find("2026-01", &st2)->summary.revision(), first + 1);
  EXPECT_THAT(summaries.Recompute("2026-02",
                                  {.staffing = {{"admin", 600, "", ""}}}, st2),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, "2026-02"));
}

}  // namespace
}  // namespace ohfed::agent
