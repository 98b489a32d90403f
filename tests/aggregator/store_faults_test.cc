// The aggregator's store on a failing disk (tests/testing/fault_fs.h, real
// RocksDB underneath), through the real Ingest service on loopback and
// through the forwarder: a summary whose sync fails, whose write fails or
// that meets a full disk is never acknowledged; what is held and what the
// forwarder owes upstream survive every fault; and the store resumes by
// itself, without a restart, once the disk is back.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <thread>

#include "aggregator/aggregator.h"
#include "aggregator/forwarder.h"
#include "common/health.h"
#include "common/metrics.h"
#include "common/transport.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "ohfed/v1/ohfed.grpc.pb.h"
#include "tests/aggregator/rollup_check.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/fault_fs.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::ExpectSameRollups;
using ::ohfed::aggregator::testing::Summary;
using ::ohfed::testing::FaultEnv;
using ::ohfed::testing::StatusIs;
using ::ohfed::testing::TempDir;
using ::testing::HasSubstr;

const char kImm[] = "activity.count.immunisation";

v1::SubmitRequest Batch(std::vector<v1::UnitSummary> summaries) {
  v1::SubmitRequest req;
  for (auto& s : summaries) *req.add_summaries() = std::move(s);
  return req;
}

v1::Ack AckOf(const std::string& trust, const std::string& period,
              uint64_t revision) {
  v1::Ack a;
  a.set_trust(trust);
  a.set_period(period);
  a.set_revision(revision);
  a.set_outcome(v1::OUTCOME_ACCEPTED);
  return a;
}

class IngestFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EnableHealthChecking();
    AggregatorOptions options =
        ::ohfed::aggregator::testing::LoopbackOptions(dir_.File("db"));
    options.store.env = faults_.env.get();
    // The background retry (common/store_recovery.h), quick for the tests.
    options.store_retry_interval = absl::Milliseconds(10);
    auto a = Aggregator::Start(options);
    OHFED_ASSERT_OK(a);
    aggregator_ = std::move(*a);
    auto channel = MakeChannel(aggregator_->address(), {.insecure = true});
    OHFED_ASSERT_OK(channel);
    ingest_ = v1::Ingest::NewStub(*channel);
    health_ = grpc::health::v1::Health::NewStub(*channel);
  }
  void TearDown() override { aggregator_.reset(); }

  // What the health service says of `service`.
  grpc::health::v1::HealthCheckResponse::ServingStatus Health(
      const std::string& service) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status s = health_->Check(&ctx, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.status();
  }

  grpc::Status Send(const v1::SubmitRequest& batch,
                    std::vector<v1::SubmitResponse>* responses) {
    return ::ohfed::aggregator::testing::SendBatches(*ingest_, {batch},
                                                     responses);
  }
  SummaryStore& store() { return aggregator_->store(); }

  void ExpectConsistent() { ExpectSameRollups(store()); }

  TempDir dir_;
  FaultEnv faults_;
  std::unique_ptr<Aggregator> aggregator_;
  std::unique_ptr<v1::Ingest::Stub> ingest_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

// A failed sync ends the stream with UNAVAILABLE and no ack; the agent's
// resend after the disk is back is acknowledged. Before, the first failed
// sync stopped RocksDB for good: every later batch failed until a restart.
TEST_F(IngestFaultsTest, FailedSyncIsNeverAcknowledgedAndIngestResumes) {
  std::vector<v1::SubmitResponse> responses;
  ASSERT_TRUE(
      Send(Batch({Summary("RJ1", "2026-03", 1, {{kImm, 4}})}), &responses)
          .ok());
  faults_.fs->FailSyncs(true);
  responses.clear();
  grpc::Status s = Send(Batch({Summary("RJ1", "2026-03", 2, {{kImm, 5}}),
                               Summary("RAL", "2026-03", 1, {{kImm, 6}})}),
                        &responses);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(), HasSubstr("injected sync failure"));
  EXPECT_TRUE(responses.empty());  // no ack for either revision
  EXPECT_EQ(store().HeldRevisionOf("RJ1", "2026-03"), 1u);
  EXPECT_EQ(store().HeldRevisionOf("RAL", "2026-03"), 0u);
  EXPECT_TRUE(store().failing());
  // Still failing: the next batch fails too, and is not acknowledged.
  responses.clear();
  s = Send(Batch({Summary("RRK", "2026-03", 1, {{kImm, 1}})}), &responses);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(responses.empty());
  EXPECT_GE(faults_.fs->counts().failed_syncs, 2u);

  faults_.fs->Clear();
  responses.clear();
  ASSERT_TRUE(Send(Batch({Summary("RJ1", "2026-03", 2, {{kImm, 5}}),
                          Summary("RAL", "2026-03", 1, {{kImm, 6}}),
                          Summary("RRK", "2026-03", 1, {{kImm, 1}})}),
                   &responses)
                  .ok());
  ASSERT_EQ(responses.size(), 1u);
  ASSERT_EQ(responses[0].acks_size(), 3);
  for (const v1::Ack& a : responses[0].acks()) {
    // STALE if the failed write reached the disk after all: held either way.
    EXPECT_NE(a.outcome(), v1::OUTCOME_REJECTED) << a.ShortDebugString();
  }
  EXPECT_FALSE(store().failing());
  EXPECT_EQ(store().HeldRevisionOf("RJ1", "2026-03"), 2u);
  EXPECT_EQ(store().HeldRevisionOf("RAL", "2026-03"), 1u);
  EXPECT_EQ(store().HeldRevisionOf("RRK", "2026-03"), 1u);
  EXPECT_EQ(store().stats().units_held, 3u);
  ExpectConsistent();
}

TEST_F(IngestFaultsTest, DiskFullIsNeverAcknowledgedAndIngestResumes) {
  faults_.fs->SetDiskFull(true);
  std::vector<v1::SubmitResponse> responses;
  grpc::Status s =
      Send(Batch({Summary("RJ1", "2026-03", 1, {{kImm, 4}})}), &responses);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(), HasSubstr("No space left on device"));
  EXPECT_TRUE(responses.empty());
  // Health and metrics say so: Ingest cannot take anything, queries can.
  using Serving = grpc::health::v1::HealthCheckResponse;
  EXPECT_EQ(Health(v1::Ingest::service_full_name()), Serving::NOT_SERVING);
  EXPECT_EQ(Health(v1::Query::service_full_name()), Serving::SERVING);
  EXPECT_THAT(metrics::Global().Expose(), HasSubstr("ohfed_store_failing 1"));
  faults_.fs->SetDiskFull(false);
  responses.clear();
  ASSERT_TRUE(
      Send(Batch({Summary("RJ1", "2026-03", 1, {{kImm, 4}})}), &responses)
          .ok());
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].acks(0).outcome(), v1::OUTCOME_ACCEPTED);
  EXPECT_EQ(store().HeldRevisionOf("RJ1", "2026-03"), 1u);
  ExpectConsistent();
  EXPECT_EQ(Health(v1::Ingest::service_full_name()), Serving::SERVING);
  EXPECT_THAT(metrics::Global().Expose(), HasSubstr("ohfed_store_failing 0"));
}

// Nothing writes after the fault: the store comes back by itself, and Ingest
// turns SERVING again. Before, a store that failed stayed failing (and, for
// a regional aggregator whose forwarder could not read it, stuck) until
// some write came.
TEST_F(IngestFaultsTest, StoreRecoversInTheBackgroundWithoutWrites) {
  faults_.fs->FailSyncs(true);
  std::vector<v1::SubmitResponse> responses;
  grpc::Status s =
      Send(Batch({Summary("RJ1", "2026-03", 1, {{kImm, 4}})}), &responses);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  using Serving = grpc::health::v1::HealthCheckResponse;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(v1::Ingest::service_full_name());
  auto watch = health_->Watch(&ctx, request);
  Serving response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), Serving::NOT_SERVING);
  faults_.fs->Clear();
  ASSERT_TRUE(watch->Read(&response));  // the next change
  EXPECT_EQ(response.status(), Serving::SERVING);
  ctx.TryCancel();
  EXPECT_FALSE(store().failing());
  // Whatever the failed write left is held exactly once.
  ExpectConsistent();
}

// While the sync is held, the stream has no ack and queries do not see the
// revision; both come once it is durable.
TEST_F(IngestFaultsTest, DelayedSyncDelaysTheAck) {
  faults_.fs->DelaySyncs(true);
  std::atomic<bool> answered{false};
  std::vector<v1::SubmitResponse> responses;
  grpc::Status s;
  std::thread t([&] {
    s = Send(Batch({Summary("RJ1", "2026-03", 1, {{kImm, 4}})}), &responses);
    answered = true;
  });
  faults_.fs->AwaitDelayedSyncs(1);
  EXPECT_FALSE(answered);
  EXPECT_EQ(store().HeldRevisionOf("RJ1", "2026-03"), 0u);
  faults_.fs->DelaySyncs(false);
  t.join();
  EXPECT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].acks(0).outcome(), v1::OUTCOME_ACCEPTED);
  EXPECT_EQ(store().HeldRevisionOf("RJ1", "2026-03"), 1u);
}

// The forwarder's state (what upstream acknowledged, what it still owes)
// across every kind of fault, and after the store resumes.
class ForwarderFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void TearDown() override {
    forwarder_.reset();
    store_.reset();
  }
  void Open() {
    forwarder_.reset();
    store_.reset();
    SummaryStoreOptions o;
    o.env = faults_.env.get();
    o.write_mostly = OHFED_STORE_WRITE_MOSTLY;
    auto store = SummaryStore::Open(dir_.path(), o);
    OHFED_ASSERT_OK(store);
    store_ = std::move(*store);
    forwarder_ = std::make_unique<Forwarder>(store_.get());
  }
  // "RJ1" acknowledged upstream at 1; "RAL" pending.
  void Seed() {
    OHFED_ASSERT_OK(
        store_->Commit({Summary("RJ1", "2026-03", 1, {{kImm, 1}}),
                        Summary("RAL", "2026-03", 1, {{kImm, 2}})}));
    OHFED_ASSERT_OK(forwarder_->OnAcks({AckOf("RJ1", "2026-03", 1)}));
    ExpectIntact(1);
    ExpectOnlyRalPending();
  }
  // RJ1 acknowledged upstream at `acked`, RAL still owed. (While the
  // database is closed, between failed reopens, Pending itself is
  // unavailable: forwarding waits, nothing is dropped.)
  void ExpectIntact(uint64_t acked) {
    EXPECT_EQ(forwarder_->RecordOf("RJ1", "2026-03").acked_revision, acked);
    EXPECT_EQ(forwarder_->RecordOf("RAL", "2026-03").acked_revision, 0u);
    EXPECT_EQ(forwarder_->outbox_size(), 1u);
  }
  void ExpectOnlyRalPending() {
    auto pending = forwarder_->Pending(10);
    OHFED_ASSERT_OK(pending);
    ASSERT_EQ(pending->size(), 1u);
    EXPECT_EQ((*pending)[0].trust(), "RAL");
  }

  TempDir dir_;
  FaultEnv faults_;
  std::unique_ptr<SummaryStore> store_;
  std::unique_ptr<Forwarder> forwarder_;
};

TEST_F(ForwarderFaultsTest, StateSurvivesEveryFaultAndResumes) {
  Seed();
  struct Fault {
    const char* name;
    void (::ohfed::testing::FaultFs::*set)(bool);
    const char* message;
  };
  const Fault faults[] = {
      {"failed sync", &::ohfed::testing::FaultFs::FailSyncs,
       "injected sync failure"},
      {"failed write", &::ohfed::testing::FaultFs::FailWrites,
       "injected write"},
      {"disk full", &::ohfed::testing::FaultFs::SetDiskFull, "No space left"},
  };
  uint64_t rev = 1;
  for (const Fault& f : faults) {
    SCOPED_TRACE(f.name);
    (faults_.fs.get()->*f.set)(true);
    EXPECT_THAT(
        store_->Commit({Summary("RJ1", "2026-03", rev + 1, {{kImm, 3}})}),
        StatusIs(absl::StatusCode::kUnavailable, f.message));
    EXPECT_THAT(forwarder_->OnAcks({AckOf("RAL", "2026-03", 1)}),
                StatusIs(absl::StatusCode::kUnavailable, ""));
    ExpectIntact(rev);
    (faults_.fs.get()->*f.set)(false);
    // Resumes: the ack first (a write, so the store reopens), then back to
    // the state before it, so the next fault starts from the same place.
    EXPECT_EQ(store_->HeldRevisionOf("RJ1", "2026-03") >= rev, true);
    rev = std::max(rev, store_->HeldRevisionOf("RJ1", "2026-03"));
    OHFED_ASSERT_OK(
        store_->Commit({Summary("RJ1", "2026-03", rev + 1, {{kImm, 3}})}));
    ++rev;
    OHFED_ASSERT_OK(forwarder_->OnAcks({AckOf("RJ1", "2026-03", rev)}));
    EXPECT_FALSE(store_->failing());
    EXPECT_EQ(forwarder_->RecordOf("RJ1", "2026-03").acked_revision, rev);
    ExpectIntact(rev);
    ExpectOnlyRalPending();
    ExpectSameRollups(*store_);
  }
  // What memory said is what the disk says.
  Open();
  EXPECT_EQ(store_->HeldRevisionOf("RJ1", "2026-03"), rev);
  EXPECT_EQ(forwarder_->RecordOf("RJ1", "2026-03").acked_revision, rev);
  EXPECT_EQ(forwarder_->outbox_size(), 1u);
  OHFED_ASSERT_OK(forwarder_->OnAcks({AckOf("RAL", "2026-03", 1)}));
  EXPECT_EQ(forwarder_->outbox_size(), 0u);
}

// Acknowledgements alone are recorded without a sync, but a failed record
// is still a failed write: the store is failing, nothing is installed, and
// the next acknowledgement reopens it.
TEST_F(ForwarderFaultsTest, AFailedAckRecordMarksTheStoreFailing) {
  Seed();
  faults_.fs->FailWrites(true);
  EXPECT_THAT(forwarder_->OnAcks({AckOf("RAL", "2026-03", 1)}),
              StatusIs(absl::StatusCode::kUnavailable, "injected write"));
  EXPECT_TRUE(store_->failing());
  ExpectIntact(1);
  faults_.fs->FailWrites(false);
  OHFED_ASSERT_OK(forwarder_->OnAcks({AckOf("RAL", "2026-03", 1)}));
  EXPECT_FALSE(store_->failing());
  EXPECT_EQ(forwarder_->RecordOf("RAL", "2026-03").acked_revision, 1u);
  EXPECT_EQ(forwarder_->outbox_size(), 0u);
  Open();
  EXPECT_EQ(forwarder_->RecordOf("RAL", "2026-03").acked_revision, 1u);
  EXPECT_EQ(forwarder_->outbox_size(), 0u);
}

}  // namespace
}  // namespace ohfed::aggregator
