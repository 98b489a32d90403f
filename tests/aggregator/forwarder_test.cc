// The forwarder over a real store: what it hands the uploader (by size, with
// the first receipt time), what it records from upstream's acks (durably
// first, memory second), and the refusals it reports. And over a fake queue:
// how it turns acks into replies.
#include "aggregator/forwarder.h"

#include <grpcpp/grpcpp.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "common/transport.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/fake_ingest.h"
#include "tests/testing/fault_fs.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::AddDistribution;
using ::ohfed::aggregator::testing::Summary;
using ::ohfed::testing::FaultEnv;
using ::ohfed::testing::StatusIs;
using ::ohfed::testing::TempDir;
using ::testing::HasSubstr;

const char kImm[] = "activity.count.immunisation";

v1::Ack AckOf(const std::string& trust, const std::string& period,
              uint64_t revision, v1::Outcome outcome,
              const std::string& reason = "") {
  v1::Ack a;
  a.set_trust(trust);
  a.set_period(period);
  a.set_revision(revision);
  a.set_outcome(outcome);
  a.set_reason(reason);
  return a;
}

// A legal summary of about `mib` MiB: one wait-time distribution of many
// one-event buckets on the same day (the store merges them in the rollups).
v1::UnitSummary Large(const std::string& trust, const std::string& period,
                      size_t mib) {
  v1::UnitSummary s = Summary(trust, period, 1, {});
  std::vector<std::pair<double, uint64_t>> buckets((mib << 20) / 13, {3, 1});
  AddDistribution(&s, "activity.wait_days.immunisation", buckets);
  return s;
}

// An UpstreamQueue that remembers what it was asked and told.
class FakeQueue : public UpstreamQueue {
 public:
  absl::StatusOr<std::vector<v1::UnitSummary>> PendingUpstream(
      size_t max, size_t max_bytes,
      const absl::flat_hash_set<std::string>& skip) const override {
    asked_max = max;
    asked_bytes = max_bytes;
    asked_skip = skip;
    return std::vector<v1::UnitSummary>{Summary("RJ1", "2026-03", 1, {})};
  }
  size_t PendingUpstreamCount() const override { return 7; }
  absl::Status RecordUpstream(
      const std::vector<UpstreamReply>& replies) override {
    recorded.push_back(replies);
    return absl::OkStatus();
  }
  std::string UpstreamRefusalOf(absl::string_view trust,
                                absl::string_view period) const override {
    return "";
  }
  std::vector<UpstreamReply> RefusedUpstream(
      absl::string_view trust) const override {
    return {UpstreamReply{.trust = std::string(trust),
                          .period = "2026-02",
                          .revision = 4,
                          .refused = true,
                          .reason = "unknown trust"}};
  }
  size_t RefusedUpstreamCount() const override { return 1; }
  UpstreamRecord UpstreamRecordOf(absl::string_view trust,
                                  absl::string_view period) const override {
    return {};
  }
  std::vector<std::string> UpstreamTrusts() const override {
    return {"RAL", "RJ1"};
  }
  absl::StatusOr<size_t> RequeueLostUpstream(
      absl::string_view trust,
      const absl::flat_hash_map<std::string, uint64_t>& upstream_holds)
      override {
    requeued[std::string(trust)] = upstream_holds;
    return upstream_holds.size();
  }

  mutable size_t asked_max = 0, asked_bytes = 0;
  mutable absl::flat_hash_set<std::string> asked_skip;
  std::map<std::string, absl::flat_hash_map<std::string, uint64_t>> requeued;
  std::vector<std::vector<UpstreamReply>> recorded;
};

TEST(ForwarderProtocolTest, AcksBecomeRepliesAndRefusalsAcks) {
  FakeQueue queue;
  Forwarder forwarder(&queue);
  OHFED_ASSERT_OK(forwarder.Pending(50));
  EXPECT_EQ(queue.asked_max, 50u);
  EXPECT_EQ(queue.asked_bytes, static_cast<size_t>(kMaxMessageBytes));
  EXPECT_TRUE(queue.asked_skip.empty());
  // The uploader's units in flight reach the store unread.
  OHFED_ASSERT_OK(forwarder.PendingExcept(40, {"RJ1/2026-01"}));
  EXPECT_EQ(queue.asked_max, 40u);
  EXPECT_THAT(queue.asked_skip, ::testing::ElementsAre("RJ1/2026-01"));
  EXPECT_EQ(forwarder.PendingCount(), 7u);

  const std::string long_reason(3000, 'x');
  OHFED_ASSERT_OK(forwarder.OnAcks(
      {AckOf("RJ1", "2026-01", 1, v1::OUTCOME_ACCEPTED),
       AckOf("RJ1", "2026-02", 2, v1::OUTCOME_STALE),
       AckOf("RJ1", "2026-03", 3, v1::OUTCOME_UNSPECIFIED),
       AckOf("RJ1", "2026-04", 4, v1::OUTCOME_REJECTED, long_reason)}));
  ASSERT_EQ(queue.recorded.size(), 1u);
  const std::vector<UpstreamReply>& r = queue.recorded[0];
  ASSERT_EQ(r.size(), 3u);  // the unspecified one teaches nothing
  EXPECT_EQ(r[0].period, "2026-01");
  EXPECT_FALSE(r[0].refused);
  EXPECT_EQ(r[1].revision, 2u);
  EXPECT_FALSE(r[1].refused);
  EXPECT_EQ(r[2].period, "2026-04");
  EXPECT_TRUE(r[2].refused);
  EXPECT_EQ(r[2].reason, long_reason.substr(0, kMaxReasonBytes));
  // Nothing to say: the queue is not asked to write.
  OHFED_ASSERT_OK(
      forwarder.OnAcks({AckOf("RJ1", "2026-03", 3, v1::OUTCOME_UNSPECIFIED)}));
  EXPECT_EQ(queue.recorded.size(), 1u);

  std::vector<v1::Ack> refused = forwarder.Refused("RAX");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].trust(), "RAX");
  EXPECT_EQ(refused[0].period(), "2026-02");
  EXPECT_EQ(refused[0].outcome(), v1::OUTCOME_REJECTED);
  EXPECT_EQ(refused[0].revision(), 4u);
  EXPECT_EQ(refused[0].held_revision(), 4u);
  EXPECT_EQ(refused[0].reason(), "unknown trust");
}

class ForwarderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SummaryStoreOptions o;
    o.clock = &clock_;
    o.env = faulty_.env.get();
    auto store = SummaryStore::Open(dir_.path(), o);
    OHFED_ASSERT_OK(store);
    store_ = std::move(*store);
    forwarder_ = std::make_unique<Forwarder>(store_.get());
  }

  void Commit(std::vector<v1::UnitSummary> batch) {
    OHFED_ASSERT_OK(store_->Commit(batch));
  }

  TempDir dir_;
  FaultEnv faulty_;
  FakeClock clock_{absl::FromUnixSeconds(1774000000)};
  std::unique_ptr<SummaryStore> store_;
  std::unique_ptr<Forwarder> forwarder_;
};

// Before, the record in memory was changed before the write: on a failed
// write the forwarder believed upstream had acknowledged what the disk did
// not say, and dropped the unit from its outbox. The store now keeps that
// memory, and changes it only after its synced write.
TEST_F(ForwarderTest, FailedWriteChangesNothingInMemory) {
  Commit({Summary("RJ1", "2026-03", 3, {{kImm, 1}})});
  ASSERT_EQ(forwarder_->outbox_size(), 1u);
  faulty_.fs->FailWrites(true);
  EXPECT_THAT(
      forwarder_->OnAcks({AckOf("RJ1", "2026-03", 3, v1::OUTCOME_ACCEPTED)}),
      StatusIs(absl::StatusCode::kUnavailable, "injected write failure"));
  EXPECT_EQ(forwarder_->RecordOf("RJ1", "2026-03").acked_revision, 0u);
  EXPECT_EQ(forwarder_->outbox_size(), 1u);
  EXPECT_THAT(
      forwarder_->OnAcks({AckOf("RJ1", "2026-03", 3, v1::OUTCOME_REJECTED,
                                "stricter catalogue")}),
      StatusIs(absl::StatusCode::kUnavailable, "injected"));
  EXPECT_EQ(forwarder_->RecordOf("RJ1", "2026-03").rejected_revision, 0u);
  EXPECT_EQ(forwarder_->RefusalReason("RJ1", "2026-03"), "");
  EXPECT_EQ(forwarder_->refused_count(), 0u);
  EXPECT_EQ(forwarder_->outbox_size(), 1u);
}

TEST_F(ForwarderTest, RefusalIsReportedForTheHeldRevisionOnly) {
  Commit({Summary("RAX", "2026-03", 3, {{kImm, 1}}),
          Summary("RAX", "2026-04", 1, {{kImm, 1}}),
          Summary("RJ1", "2026-03", 1, {{kImm, 1}})});
  OHFED_ASSERT_OK(forwarder_->OnAcks(
      {AckOf("RAX", "2026-03", 3, v1::OUTCOME_REJECTED, "unknown trust 'RAX'"),
       AckOf("RAX", "2026-04", 1, v1::OUTCOME_ACCEPTED),
       AckOf("RJ1", "2026-03", 1, v1::OUTCOME_ACCEPTED)}));
  EXPECT_EQ(forwarder_->outbox_size(), 0u);
  EXPECT_EQ(forwarder_->RefusalReason("RAX", "2026-03"), "unknown trust 'RAX'");
  EXPECT_EQ(forwarder_->RefusalReason("RAX", "2026-04"), "");
  std::vector<v1::Ack> refused = forwarder_->Refused("RAX");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].period(), "2026-03");
  EXPECT_EQ(refused[0].revision(), 3u);
  EXPECT_EQ(refused[0].outcome(), v1::OUTCOME_REJECTED);
  EXPECT_TRUE(forwarder_->Refused("RJ1").empty());
  EXPECT_EQ(forwarder_->refused_count(), 1u);
  // A new revision is forwarded and judged again; the old refusal no longer
  // describes what is held.
  Commit({Summary("RAX", "2026-03", 4, {{kImm, 2}})});
  EXPECT_EQ(forwarder_->outbox_size(), 1u);
  EXPECT_EQ(forwarder_->RefusalReason("RAX", "2026-03"), "");
  EXPECT_TRUE(forwarder_->Refused("RAX").empty());
  EXPECT_EQ(forwarder_->refused_count(), 0u);
}

v1::Ack HeldAck(const std::string& trust, const std::string& period,
                uint64_t held) {
  v1::Ack a;
  a.set_trust(trust);
  a.set_period(period);
  a.set_held_revision(held);
  return a;
}

// Upstream's store was damaged and recovered (aggregator/store_recovery.h):
// its Feedback lists less than it had acknowledged. What it lost is pending
// again, durably, except what it had refused; a failed write changes nothing.
TEST_F(ForwarderTest, UnitsUpstreamLostArePendingAgainDurably) {
  Commit({Summary("RJ1", "2026-03", 3, {{kImm, 1}}),
          Summary("RJ1", "2026-04", 2, {{kImm, 1}}),
          Summary("RAL", "2026-03", 1, {{kImm, 1}}),
          Summary("RAX", "2026-05", 4, {{kImm, 1}})});
  OHFED_ASSERT_OK(forwarder_->OnAcks(
      {AckOf("RJ1", "2026-03", 3, v1::OUTCOME_ACCEPTED),
       AckOf("RJ1", "2026-04", 2, v1::OUTCOME_ACCEPTED),
       AckOf("RAL", "2026-03", 1, v1::OUTCOME_STALE),
       AckOf("RAX", "2026-05", 4, v1::OUTCOME_REJECTED, "unknown trust")}));
  ASSERT_EQ(forwarder_->outbox_size(), 0u);
  EXPECT_EQ(forwarder_->FeedbackTrusts(),
            (std::vector<std::string>{"RAL", "RAX", "RJ1"}));

  faulty_.fs->FailWrites(true);
  EXPECT_THAT(forwarder_->OnReceiverHoldsFor("RJ1", {}),
              StatusIs(absl::StatusCode::kUnavailable, "injected"));
  EXPECT_EQ(forwarder_->outbox_size(), 0u);
  EXPECT_EQ(forwarder_->RecordOf("RJ1", "2026-03").acked_revision, 3u);
  faulty_.fs->FailWrites(false);

  // Upstream holds RJ1 2026-03 at an older revision and lacks 2026-04; an
  // entry for another trust is not about RJ1.
  auto lost = forwarder_->OnReceiverHoldsFor(
      "RJ1", {HeldAck("RJ1", "2026-03", 1), HeldAck("RAL", "2026-04", 9)});
  OHFED_ASSERT_OK(lost);
  EXPECT_EQ(*lost, 2u);
  auto same =
      forwarder_->OnReceiverHoldsFor("RAL", {HeldAck("RAL", "2026-03", 1)});
  OHFED_ASSERT_OK(same);
  EXPECT_EQ(*same, 0u);
  auto refused = forwarder_->OnReceiverHoldsFor("RAX", {});
  OHFED_ASSERT_OK(refused);
  EXPECT_EQ(*refused, 0u);
  EXPECT_EQ(forwarder_->outbox_size(), 2u);

  store_.reset();
  SetUp();  // the same directory, reopened
  EXPECT_EQ(forwarder_->outbox_size(), 2u);
  auto pending = forwarder_->Pending(10);
  OHFED_ASSERT_OK(pending);
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].period(), "2026-03");
  EXPECT_EQ((*pending)[0].revision(), 3u);
  EXPECT_EQ((*pending)[1].period(), "2026-04");
  EXPECT_EQ((*pending)[1].revision(), 2u);
  EXPECT_EQ(forwarder_->refused_count(), 1u);
  // Acknowledged again: nothing pending.
  OHFED_ASSERT_OK(
      forwarder_->OnAcks({AckOf("RJ1", "2026-03", 3, v1::OUTCOME_ACCEPTED),
                          AckOf("RJ1", "2026-04", 2, v1::OUTCOME_ACCEPTED)}));
  EXPECT_EQ(forwarder_->outbox_size(), 0u);
}

TEST_F(ForwarderTest, ForwardsTheFirstReceiptTime) {
  const absl::Time first = clock_.Now();
  Commit({Summary("RJ1", "2026-03", 1, {{kImm, 1}})});
  clock_.Advance(absl::Hours(24 * 30));
  Commit({Summary("RJ1", "2026-03", 2, {{kImm, 2}})});
  auto pending = forwarder_->Pending(10);
  OHFED_ASSERT_OK(pending);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].revision(), 2u);
  EXPECT_EQ((*pending)[0].first_received_unix_ms(), absl::ToUnixMillis(first));
}

// After an outage the outbox holds two summaries that fit a message each but
// not together, one too large for any message, and a tiny one from another
// trust. Before, the forwarder handed all of them as one batch, which failed
// on every retry, so even the tiny one never arrived.
TEST_F(ForwarderTest, LargeSummariesAfterAnOutageDoNotBlockATinyOne) {
  Commit({Large("RJ1", "2026-01", 9), Large("RJ1", "2026-02", 9),
          Large("RJ2", "2026-01", 17),
          Summary("RRK", "2026-01", 1, {{kImm, 1}})});
  ASSERT_EQ(forwarder_->outbox_size(), 4u);
  ASSERT_EQ(forwarder_->PendingCount(), 4u);

  // The national aggregator comes back, with ohfed's message limits.
  ::ohfed::testing::FakeIngest national;
  grpc::ServerBuilder b;
  int port = 0;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(&national);
  ApplyServerLimits(b);
  auto server = b.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto channel =
      MakeChannel(absl::StrCat("127.0.0.1:", port), {.insecure = true});
  OHFED_ASSERT_OK(channel);
  std::vector<std::string> lines;
  UploaderOptions o;
  o.log = [&](absl::string_view line) { lines.emplace_back(line); };
  Uploader uploader(forwarder_.get(), v1::Ingest::NewStub(*channel), o,
                    &clock_);
  OHFED_ASSERT_OK(uploader.RunOnce());

  auto held = national.held();
  EXPECT_EQ(held.count("RRK/2026-01"), 1u);
  EXPECT_EQ(held.count("RJ1/2026-01"), 1u);
  EXPECT_EQ(held.count("RJ1/2026-02"), 1u);
  EXPECT_EQ(held.count("RJ2/2026-01"), 0u);
  EXPECT_EQ(forwarder_->outbox_size(), 0u);
  // The one that cannot travel is reported: in the log, and in the state
  // that completeness and Ingest.Feedback read.
  EXPECT_THAT(forwarder_->RefusalReason("RJ2", "2026-01"),
              HasSubstr("over the message limit"));
  ASSERT_EQ(forwarder_->Refused("RJ2").size(), 1u);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("cannot send RJ2 2026-01 revision 1"));
  server->Shutdown();
}

}  // namespace
}  // namespace ohfed::aggregator
