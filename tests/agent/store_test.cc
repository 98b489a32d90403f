// The agent store: summaries from a hand-computed fixture, revision
// semantics of re-imports and corrections, hand-entered values, outlier
// warnings and persistence across reopen (real RocksDB).
#include "agent/store.h"

#include <map>

#include "tests/testing/testing.h"

namespace ohfed::agent {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromCivil(absl::CivilSecond(2026, 6, 15, 12, 0, 0),
                                        absl::UTCTimeZone());

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    auto s = AgentStore::Open({.dir = dir_.path(), .trust = "RJ1", .clock = &clock_});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }

  ImportOutcome Import(v1::ImportKind kind, const std::string& csv) {
    ImportContext ctx{Catalogue::Default().get(), "RJ1", Month::Of(2026, 6)};
    absl::StatusOr<ParsedImport> p = ParseImport(kind, csv, ctx);
    EXPECT_TRUE(p.ok() && p->errors.empty());
    absl::StatusOr<ImportOutcome> o = store_->ApplyImport(*p);
    EXPECT_TRUE(o.ok()) << o.status();
    return o.ok() ? *o : ImportOutcome();
  }

  std::map<std::string, v1::Cell> Cells(const std::string& period) {
    std::map<std::string, v1::Cell> out;
    auto s = store_->Summary(period);
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) {
      for (const auto& c : s->cells()) out[c.measure()] = c;
    }
    return out;
  }

  uint64_t Revision(const std::string& period) {
    auto s = store_->Summary(period);
    return s.ok() ? s->revision() : 0;
  }

  testing::TempDir dir_;
  FakeClock clock_{kNow};
  std::unique_ptr<AgentStore> store_;
};

const char kStaffing[] =
    "period,staff_group,wte,basis,post_id\n"
    "2026-01,nurse_general,1.0,employed,N1\n"
    "2026-01,nurse_general,0.6,bank,N2\n"
    "2026-01,nurse_general,0.4,vacant,N3\n"
    "2026-01,admin,3.5,,\n"
    "2026-02,nurse_general,1.0,employed,N1\n";

TEST_F(StoreTest, StaffingSummaryMatchesHandComputation) {
  ImportOutcome o = Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  EXPECT_EQ(o.rows_imported, 5u);
  EXPECT_EQ(o.periods_changed, (std::vector<std::string>{"2026-01", "2026-02"}));
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

TEST_F(StoreTest, ActivitySummaryMatchesHandComputation) {
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

TEST_F(StoreTest, ProfileSummaryAndAnswerReplacement) {
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

TEST_F(StoreTest, UnchangedReimportKeepsRevisions) {
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

TEST_F(StoreTest, CorrectionBumpsOnlyThatMonthAndRevisionsIncrease) {
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

TEST_F(StoreTest, RawChangeWithTheSameSummaryKeepsTheRevision) {
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

TEST_F(StoreTest, OutOfRangeTotalRejectsTheWholeImport) {
  Import(v1::IMPORT_KIND_STAFFING, "period,staff_group,wte\n2026-01,admin,600\n");
  ImportContext ctx{Catalogue::Default().get(), "RJ1", Month::Of(2026, 6)};
  auto p = ParseImport(v1::IMPORT_KIND_STAFFING,
                       "period,staff_group,wte,basis\n2026-01,admin,600,\n"
                       "2026-01,admin,600,locum\n2026-02,admin,1,\n",
                       ctx);
  ASSERT_TRUE(p.ok() && p->errors.empty());
  EXPECT_THAT(store_->ApplyImport(*p),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                "staffing.wte.admin"));
  EXPECT_EQ(Cells("2026-01")["staffing.wte.admin"].value(), 600);
  EXPECT_THAT(store_->Summary("2026-02"),
              testing::StatusIs(absl::StatusCode::kNotFound, "2026-02"));
}

TEST_F(StoreTest, HandEnteredValuesOverrideAndSurviveImports) {
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
  EXPECT_EQ(store_->SetValue("2026-01", "staffing.wte.nurse_general", "2.5")->revision(),
            jan + 1);
  ASSERT_TRUE(store_->SetValue("2026", "profile.host_type", "acute").ok());
  EXPECT_EQ(Cells("2026")["profile.host_type.acute"].value(), 1);
  EXPECT_EQ(Cells("2026")["profile.host_type.ambulance"].value(), 0);
}

TEST_F(StoreTest, SetValueRejectsBadInput) {
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
  EXPECT_THAT(store_->SetValue("2026-01", "activity.wait_days.immunisation", "3"),
              testing::StatusIs(StatusCode::kInvalidArgument, "computed"));
  EXPECT_THAT(store_->SetValue("2026", "profile.host_type.acute", "yes"),
              testing::StatusIs(StatusCode::kInvalidArgument, "profile.host_type"));
  EXPECT_TRUE(store_->States().empty());
}

TEST_F(StoreTest, OutlierWarningsAgainstOwnHistory) {
  Import(v1::IMPORT_KIND_STAFFING,
         "period,staff_group,wte\n2026-01,admin,4\n2026-02,admin,5\n"
         "2026-03,admin,6\n");
  // The admin total and the employed-basis total both jump.
  ImportOutcome o =
      Import(v1::IMPORT_KIND_STAFFING, "period,staff_group,wte\n2026-04,admin,13\n");
  ASSERT_EQ(o.warnings.size(), 2u);
  EXPECT_EQ(o.warnings[0].column(), "staffing.wte.admin");
  EXPECT_THAT(o.warnings[0].reason(), HasSubstr("more than twice the highest (6)"));
  EXPECT_EQ(o.warnings[1].column(), "staffing.wte_basis.employed");
  o = Import(v1::IMPORT_KIND_STAFFING, "period,staff_group,wte\n2026-05,admin,1.9\n");
  ASSERT_EQ(o.warnings.size(), 2u);
  EXPECT_THAT(o.warnings[0].reason(), HasSubstr("less than half the lowest (4)"));
  // Within range, or with too little history: no warning.
  EXPECT_TRUE(Import(v1::IMPORT_KIND_STAFFING,
                     "period,staff_group,wte\n2026-06,admin,7\n").warnings.empty());
  EXPECT_TRUE(Import(v1::IMPORT_KIND_STAFFING,
                     "period,staff_group,wte\n2026-01,manager,1\n2026-02,manager,9\n")
                  .warnings.empty());
}

TEST_F(StoreTest, EverythingPersistsAcrossReopen) {
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  ASSERT_TRUE(store_->SetValue("2026", "profile.seqohs_accredited", "yes").ok());
  uint64_t jan = Revision("2026-01");
  ASSERT_TRUE(store_->OnAcks({[&] {
    v1::Ack a;
    a.set_trust("RJ1");
    a.set_period("2026-01");
    a.set_revision(jan);
    a.set_outcome(v1::OUTCOME_ACCEPTED);
    return a;
  }()}).ok());
  auto before = store_->States();
  Reopen();
  auto after = store_->States();
  ASSERT_EQ(after.size(), 3u);
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].SerializeAsString(), before[i].SerializeAsString());
  }
  EXPECT_EQ(after[1].period(), "2026-01");
  EXPECT_EQ(after[1].state(), "current");
  EXPECT_EQ(after[2].state(), "pending");
  EXPECT_EQ(store_->last_ack(), kNow);
  EXPECT_DOUBLE_EQ(Cells("2026-01")["staffing.wte.nurse_general"].value(), 1.6);
  // And the raw records too: an identical re-import is still a no-op.
  EXPECT_TRUE(Import(v1::IMPORT_KIND_STAFFING, kStaffing).periods_changed.empty());
}

v1::Ack MakeAck(const std::string& period, uint64_t rev, v1::Outcome outcome,
                const std::string& reason = "") {
  v1::Ack a;
  a.set_trust("RJ1");
  a.set_period(period);
  a.set_revision(rev);
  a.set_outcome(outcome);
  a.set_reason(reason);
  return a;
}

TEST_F(StoreTest, OutboxMarks) {
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  uint64_t jan = Revision("2026-01"), feb = Revision("2026-02");
  auto pending = store_->Pending(10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].trust(), "RJ1");
  EXPECT_EQ(store_->Pending(1)->size(), 1u);
  // A stale ack for an older revision clears nothing; a rejection of the
  // current revision parks the period with its reason.
  ASSERT_TRUE(store_->OnAcks({MakeAck("2026-01", jan - 1, v1::OUTCOME_STALE),
                              MakeAck("2026-02", feb, v1::OUTCOME_REJECTED,
                                      "unknown trust 'RJ1'")}).ok());
  auto states = store_->States();
  EXPECT_EQ(states[0].state(), "pending");
  EXPECT_EQ(states[1].state(), "rejected");
  EXPECT_EQ(states[1].reason(), "unknown trust 'RJ1'");
  EXPECT_EQ(store_->Pending(10)->size(), 1u);
  EXPECT_FALSE(store_->AwaitDrained(absl::Milliseconds(1)));
  ASSERT_TRUE(store_->OnAcks({MakeAck("2026-01", jan, v1::OUTCOME_STALE)}).ok());
  EXPECT_TRUE(store_->AwaitDrained(absl::ZeroDuration()));
  // A new revision of the rejected month is pending again.
  ASSERT_TRUE(store_->SetValue("2026-02", "staffing.wte.admin", "1").ok());
  EXPECT_EQ(store_->States()[1].state(), "pending");
  // A rejection of an older revision is ignored.
  ASSERT_TRUE(store_->OnAcks({MakeAck("2026-02", feb, v1::OUTCOME_REJECTED, "x")}).ok());
  EXPECT_EQ(store_->States()[1].state(), "pending");
}

}  // namespace
}  // namespace ohfed::agent
