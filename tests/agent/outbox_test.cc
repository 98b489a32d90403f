// The agent's outbox and acknowledgements (agent/outbox.h). Its marks and
// states through the local store; then the store as OutboxSource with the
// real Uploader against a real gRPC Ingest sink on loopback that fails
// streams, delays and loses acks: the sink must end with exactly the
// agent's current summaries at their revisions and the outbox must drain.
// And nothing but summaries goes on the wire.
#include "agent/outbox.h"

#include <map>

#include "agent/sample_data.h"
#include "common/rocksdb_util.h"
#include "common/transport.h"
#include "common/uploader.h"
#include "tests/agent/local_store_fixture.h"
#include "tests/testing/fake_ingest.h"
#include "tests/testing/testing.h"

namespace ohfed::agent {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class OutboxMarksTest : public LocalStoreTest {};

TEST_F(OutboxMarksTest, OutboxMarks) {
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  uint64_t jan = Revision("2026-01"), feb = Revision("2026-02");
  auto pending = store_->Pending(10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].trust(), "RJ1");
  EXPECT_EQ(store_->Pending(1)->size(), 1u);
  // A stale ack for an older revision clears nothing; a rejection of the
  // current revision parks the period with its reason.
  ASSERT_TRUE(store_
                  ->OnAcks({MakeAck("2026-01", jan - 1, v1::OUTCOME_STALE),
                            MakeAck("2026-02", feb, v1::OUTCOME_REJECTED,
                                    "unknown trust 'RJ1'")})
                  .ok());
  auto states = store_->States();
  EXPECT_EQ(states[0].state(), "pending");
  EXPECT_EQ(states[1].state(), "rejected");
  EXPECT_EQ(states[1].reason(), "unknown trust 'RJ1'");
  EXPECT_EQ(store_->Pending(10)->size(), 1u);
  EXPECT_FALSE(store_->AwaitDrained(absl::Milliseconds(1)));
  ASSERT_TRUE(
      store_->OnAcks({MakeAck("2026-01", jan, v1::OUTCOME_STALE)}).ok());
  EXPECT_TRUE(store_->AwaitDrained(absl::ZeroDuration()));
  // A new revision of the rejected month is pending again.
  ASSERT_TRUE(store_->SetValue("2026-02", "staffing.wte.admin", "1").ok());
  EXPECT_EQ(store_->States()[1].state(), "pending");
  // A rejection of an older revision is ignored.
  ASSERT_TRUE(
      store_->OnAcks({MakeAck("2026-02", feb, v1::OUTCOME_REJECTED, "x")})
          .ok());
  EXPECT_EQ(store_->States()[1].state(), "pending");
}

// SPEC §4: the current month stays local until it has ended; the annual
// profile is sent at once.
TEST_F(OutboxMarksTest, MonthIsSentOnlyOnceItHasEnded) {
  Import(v1::IMPORT_KIND_STAFFING,
         "period,staff_group,wte\n2026-05,admin,2\n2026-06,admin,3\n");
  ASSERT_TRUE(store_->SetValue("2026", "profile.host_type", "acute").ok());
  EXPECT_EQ(PendingPeriods(), (std::vector<std::string>{"2026", "2026-05"}));
  EXPECT_EQ(State("2026-06").state(), "open");
  EXPECT_THAT(State("2026-06").reason(), HasSubstr("has not ended"));
  EXPECT_EQ(State("2026-05").state(), "pending");
  ASSERT_TRUE(
      store_
          ->OnAcks(
              {MakeAck("2026-05", Revision("2026-05"), v1::OUTCOME_ACCEPTED),
               MakeAck("2026", Revision("2026"), v1::OUTCOME_ACCEPTED)})
          .ok());
  // An open month is not waited for.
  EXPECT_TRUE(store_->AwaitDrained(absl::ZeroDuration()));
  // The last second of June: still open.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 6, 30, 23, 59, 59),
                             absl::UTCTimeZone()));
  EXPECT_TRUE(PendingPeriods().empty());
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(PendingPeriods(), std::vector<std::string>{"2026-06"});
  EXPECT_EQ(State("2026-06").state(), "pending");
  EXPECT_FALSE(store_->AwaitDrained(absl::ZeroDuration()));
}

TEST_F(OutboxMarksTest, StatesListYearsAfterTheirMonths) {
  Import(v1::IMPORT_KIND_STAFFING,
         "period,staff_group,wte\n2025-12,admin,2\n2026-01,admin,2\n"
         "2026-02,admin,2\n");
  ASSERT_TRUE(store_->SetValue("2026", "profile.host_type", "acute").ok());
  ASSERT_TRUE(store_->SetValue("2025", "profile.host_type", "acute").ok());
  std::vector<std::string> order;
  for (const auto& s : store_->States()) order.push_back(s.period());
  EXPECT_EQ(order, (std::vector<std::string>{"2025-12", "2025", "2026-01",
                                             "2026-02", "2026"}));
}

// The aggregator holds a newer revision than this agent made (a restored
// backup, a clock gone back): the period is reasserted above it, durably.
TEST_F(OutboxMarksTest, ReassertsAboveARevisionTheAggregatorHeld) {
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  const uint64_t jan = Revision("2026-01");
  v1::Ack stale = MakeAck("2026-01", jan, v1::OUTCOME_STALE);
  stale.set_held_revision(jan + 5);
  OHFED_ASSERT_OK(store_->OnAcks({stale}));
  EXPECT_EQ(Revision("2026-01"), jan + 6);
  EXPECT_EQ(State("2026-01").state(), "pending");
  EXPECT_THAT(State("2026-01").reason(), HasSubstr("resent as revision"));
  Reopen();
  EXPECT_EQ(Revision("2026-01"), jan + 6);
  OHFED_ASSERT_OK(
      store_->OnAcks({MakeAck("2026-01", jan + 6, v1::OUTCOME_ACCEPTED)}));
  EXPECT_EQ(State("2026-01").state(), "current");
}

// Refusals from further up are shown for the revision they name only, and
// only for this trust.
TEST_F(OutboxMarksTest, UpstreamRefusalsApplyToTheirRevision) {
  Import(v1::IMPORT_KIND_STAFFING, kStaffing);
  const uint64_t jan = Revision("2026-01");
  v1::Ack other =
      MakeAck("2026-02", Revision("2026-02"), v1::OUTCOME_REJECTED, "not ours");
  other.set_trust("RXY");
  OHFED_ASSERT_OK(store_->OnUpstreamFeedback(
      {MakeAck("2026-01", jan, v1::OUTCOME_REJECTED, "national says no"),
       other}));
  EXPECT_EQ(State("2026-01").upstream_reason(), "national says no");
  EXPECT_EQ(State("2026-02").upstream_reason(), "");
  ASSERT_TRUE(store_->SetValue("2026-01", "staffing.wte.admin", "1").ok());
  EXPECT_EQ(State("2026-01").upstream_reason(), "");
}

// The room itself: acks for another trust or an unknown period stage
// nothing but the time of the last ack; no acks stage nothing at all.
TEST(OutboxRoomTest, StagesOnlyThisTrustsKnownPeriods) {
  testing::TempDir dir;
  auto db = OpenDb(dir.path(), DbFootprint::kSmall);
  ASSERT_TRUE(db.ok());
  FakeClock clock(kNow);
  Summaries summaries(db->get(), Catalogue::Default().get(), &clock);
  Outbox outbox(db->get(), "RJ1", &clock);
  OHFED_ASSERT_OK(summaries.Load({}));
  OHFED_ASSERT_OK(outbox.Load());
  rocksdb::WriteBatch batch;
  Outbox::Staged none = outbox.StageAcks({}, summaries, &batch);
  EXPECT_EQ(batch.Count(), 0u);
  v1::Ack other = MakeAck("2026-01", 1, v1::OUTCOME_ACCEPTED);
  other.set_trust("RXY");
  Outbox::Staged st = outbox.StageAcks(
      {other, MakeAck("2026-02", 1, v1::OUTCOME_ACCEPTED)}, summaries, &batch);
  EXPECT_TRUE(st.marks.empty());
  EXPECT_EQ(batch.Count(), 1u);  // meta/last_ack
  OHFED_ASSERT_OK(WriteSynced(db->get(), &batch));
  outbox.Apply(st);
  EXPECT_EQ(outbox.last_ack(), kNow);
  Outbox reopened(db->get(), "RJ1", &clock);
  OHFED_ASSERT_OK(reopened.Load());
  EXPECT_EQ(reopened.last_ack(), kNow);
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = LocalStore::Open({.dir = dir_.path(), .trust = "RJ1"});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    auto channel = MakeChannel(sink_.address(), {.insecure = true});
    ASSERT_TRUE(channel.ok());
    UploaderOptions o;
    o.batch_size = 3;  // many batches, so faults hit mid-outbox
    o.initial_backoff = absl::Milliseconds(5);
    o.max_backoff = absl::Milliseconds(50);
    o.stream_deadline = absl::Seconds(10);
    uploader_ = std::make_unique<Uploader>(store_.get(),
                                           v1::Ingest::NewStub(*channel), o);
  }
  void TearDown() override { uploader_.reset(); }

  void Import(v1::ImportKind kind, const std::string& csv) {
    ImportContext ctx{Catalogue::Default().get(), "RJ1",
                      Month::Containing(absl::Now())};
    auto p = ParseImport(kind, csv, ctx);
    ASSERT_TRUE(p.ok() && p->errors.empty());
    // Random sample data has outliers; holding them is not the point here.
    OHFED_ASSERT_OK(
        store_->ApplyImport(RecordsOf(*p), /*accept_outliers=*/true));
    uploader_->Kick();
  }

  // The sink holds exactly the agent's current summaries.
  void ExpectSinkMatchesStore() {
    auto held = sink_.ingest().held();
    auto states = store_->States();
    EXPECT_EQ(held.size(), states.size());
    for (const v1::PeriodState& s : states) {
      EXPECT_EQ(s.state(), "current") << s.period();
      auto mine = store_->Summary(s.period());
      ASSERT_TRUE(mine.ok());
      auto it = held.find("RJ1/" + s.period());
      ASSERT_NE(it, held.end()) << s.period();
      EXPECT_EQ(it->second.revision(), mine->revision()) << s.period();
      EXPECT_EQ(it->second.SerializeAsString(), mine->SerializeAsString());
    }
  }

  testing::TempDir dir_;
  testing::IngestServer sink_;
  std::unique_ptr<LocalStore> store_;
  std::unique_ptr<Uploader> uploader_;
};

TEST_F(OutboxTest, ConvergesThroughFailuresDelaysAndLostAcks) {
  sink_.ingest().set_faults(
      {.fail_every = 3, .lose_ack_every = 4, .delay = absl::Milliseconds(2)});
  Month last = Month::Containing(absl::Now()) - 1;
  agent::SampleFiles f = agent::MakeSampleData("RJ1", last - 11, last);
  Import(v1::IMPORT_KIND_STAFFING, f.staffing);
  uploader_->Start();
  Import(v1::IMPORT_KIND_ACTIVITY, f.activity);  // while uploading
  Import(v1::IMPORT_KIND_PROFILE, f.profile);
  ASSERT_TRUE(store_->AwaitDrained(absl::Seconds(60)))
      << uploader_->stats().last_error;
  ExpectSinkMatchesStore();
  EXPECT_GT(uploader_->stats().stream_failures, 0u);  // the faults did bite

  // A correction of one month: only that month gets a new revision, and the
  // sink keeps the highest.
  std::string month = (last - 3).ToString();
  Import(v1::IMPORT_KIND_STAFFING,
         "period,staff_group,wte\n" + month + ",consultant_om,7.5\n");
  ASSERT_TRUE(store_->AwaitDrained(absl::Seconds(60)));
  ExpectSinkMatchesStore();
  auto held = sink_.ingest().held();
  bool found = false;
  for (const auto& c : held["RJ1/" + month].cells()) {
    if (c.measure() == "staffing.wte.consultant_om") {
      EXPECT_EQ(c.value(), 7.5);
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

// The agent's store behind the default upload window: the first stream has
// 4 batches in flight when its 3rd is refused (the way an aggregator ends a
// stream), later streams break or lose acks. The sink ends with exactly the
// store's summaries, each revision applied once; the outbox is trimmed
// only by acks, so nothing unanswered is lost.
TEST_F(OutboxTest, WindowBrokenWithBatchesInFlightLosesAndRepeatsNothing) {
  sink_.ingest().set_faults({.fail_every = 3,
                             .fail_code = grpc::StatusCode::INVALID_ARGUMENT,
                             .lose_ack_every = 4,
                             .hold_first = 4});
  Month last = Month::Containing(absl::Now()) - 1;
  agent::SampleFiles f = agent::MakeSampleData("RJ1", last - 11, last);
  Import(v1::IMPORT_KIND_STAFFING, f.staffing);
  Import(v1::IMPORT_KIND_ACTIVITY, f.activity);
  Import(v1::IMPORT_KIND_PROFILE, f.profile);
  const size_t periods = store_->States().size();
  ASSERT_GE(periods, 12u);
  uploader_->Start();
  ASSERT_TRUE(store_->AwaitDrained(absl::Seconds(60)))
      << uploader_->stats().last_error;
  ExpectSinkMatchesStore();
  EXPECT_EQ(sink_.ingest().most_unanswered(), 4u);
  EXPECT_EQ(sink_.ingest().applied(), static_cast<int>(periods));
  EXPECT_GT(uploader_->stats().stream_failures, 0u);
  EXPECT_GT(uploader_->stats().acks_stale, 0u);
}

TEST_F(OutboxTest, RejectionIsKeptWithItsReasonAndNotResent) {
  sink_.ingest().set_faults({.reject_trust = "RJ1"});
  uploader_->Start();
  Import(v1::IMPORT_KIND_STAFFING, "period,staff_group,wte\n2026-01,admin,2\n");
  EXPECT_TRUE(store_->AwaitDrained(absl::Seconds(30)));  // nothing pending
  auto states = store_->States();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].state(), "rejected");
  EXPECT_EQ(states[0].reason(), "unknown trust 'RJ1'");
  int batches = sink_.ingest().batches();
  uploader_->Kick();
  EXPECT_TRUE(uploader_->RunOnce().ok());
  EXPECT_EQ(sink_.ingest().batches(), batches);
}

TEST_F(OutboxTest, IdentifiersAndDatesNeverLeaveTheAgent) {
  uploader_->Start();
  Import(v1::IMPORT_KIND_STAFFING,
         "period,staff_group,wte,basis,post_id\n"
         "2026-03,consultant_om,1.0,employed,POSTSECRET4711\n"
         "2026-03,admin,0.5,vacant,POSTSECRET4712\n");
  Import(v1::IMPORT_KIND_ACTIVITY,
         "date,activity,client_org,subject_ref,wait_days\n"
         "2026-03-17,management_referral,RXQ,SUBJSECRET0815,9\n"
         "2026-03-17,immunisation,,SUBJSECRET0816,\n"
         "2026-03-23,self_referral,,SUBJSECRET0817,4\n");
  ASSERT_TRUE(store_->AwaitDrained(absl::Seconds(30)));
  std::string wire = sink_.ingest().wire();
  EXPECT_THAT(wire, HasSubstr("RJ1"));  // the capture sees the traffic
  EXPECT_THAT(wire, HasSubstr("activity.count.management_referral"));
  for (const char* secret :
       {"POSTSECRET", "SUBJSECRET", "2026-03-17", "2026-03-23", "RXQ"}) {
    EXPECT_THAT(wire, Not(HasSubstr(secret))) << secret;
  }
}

// The current month stays local; when it ends, the running uploader's idle
// poll finds it without anyone kicking.
TEST(OutboxClockTest, MonthIsUploadedOnceItEnds) {
  testing::TempDir dir;
  testing::IngestServer sink;
  FakeClock clock(absl::FromCivil(absl::CivilSecond(2026, 6, 30, 23, 0, 0),
                                  absl::UTCTimeZone()));
  auto store =
      LocalStore::Open({.dir = dir.path(), .trust = "RJ1", .clock = &clock});
  ASSERT_TRUE(store.ok()) << store.status();
  auto channel = MakeChannel(sink.address(), {.insecure = true});
  ASSERT_TRUE(channel.ok());
  UploaderOptions o;
  o.idle_poll = absl::Milliseconds(10);
  Uploader uploader(store->get(), v1::Ingest::NewStub(*channel), o, &clock);
  ImportContext ctx{Catalogue::Default().get(), "RJ1", Month::Of(2026, 6)};
  auto p = ParseImport(
      v1::IMPORT_KIND_STAFFING,
      "period,staff_group,wte\n2026-05,admin,2\n2026-06,admin,3\n", ctx);
  ASSERT_TRUE(p.ok() && p->errors.empty());
  OHFED_ASSERT_OK((*store)->ApplyImport(RecordsOf(*p)));

  OHFED_ASSERT_OK(uploader.RunOnce());
  auto held = sink.ingest().held();
  EXPECT_EQ(held.count("RJ1/2026-05"), 1u);
  EXPECT_EQ(held.count("RJ1/2026-06"), 0u);

  uploader.Start();
  clock.Set(absl::FromCivil(absl::CivilSecond(2026, 7, 1, 0, 0, 1),
                            absl::UTCTimeZone()));
  ASSERT_TRUE((*store)->AwaitDrained(absl::Seconds(30)))
      << uploader.stats().last_error;
  held = sink.ingest().held();
  ASSERT_EQ(held.count("RJ1/2026-06"), 1u);
  EXPECT_EQ(held["RJ1/2026-06"].revision(),
            (*store)->Summary("2026-06")->revision());
  uploader.Stop();
}

// A retraction goes out like any other revision: no cells, retracted set,
// at a revision above the live one it replaces.
TEST_F(OutboxTest, RetractionTravelsThroughTheOutbox) {
  uploader_->Start();
  Import(v1::IMPORT_KIND_STAFFING, "period,staff_group,wte\n2026-01,admin,2\n");
  ASSERT_TRUE(store_->AwaitDrained(absl::Seconds(30)));
  uint64_t live = sink_.ingest().held()["RJ1/2026-01"].revision();
  OHFED_ASSERT_OK(store_->Retract("2026-01"));
  uploader_->Kick();
  ASSERT_TRUE(store_->AwaitDrained(absl::Seconds(30)));
  v1::UnitSummary held = sink_.ingest().held()["RJ1/2026-01"];
  EXPECT_TRUE(held.retracted());
  EXPECT_EQ(held.cells_size(), 0);
  EXPECT_GT(held.revision(), live);
  ExpectSinkMatchesStore();
}

}  // namespace
}  // namespace ohfed::agent
