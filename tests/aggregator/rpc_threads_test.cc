// Threads and scheduling of the RPC layer (issue 14, figures 7 and 4).
// Open Submit streams hold no thread (gRPC's callback API; commits on a
// fixed pool), and a heavy query neither holds up a light one nor runs past
// its deadline in a queue. Orders and counts only: nothing here is timed.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "aggregator/aggregator.h"
#include "aggregator/query_lanes.h"
#include "aggregator/summary_store.h"
#include "aggregator/work_pool.h"
#include "common/clock.h"
#include "common/registry.h"
#include "common/status.h"
#include "common/transport.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::Summary;
using ::ohfed::testing::StatusIs;
using ::ohfed::testing::TempDir;

const char kImm[] = "activity.count.immunisation";

int ThreadsOfThisProcess() {
  int n = 0;
  for ([[maybe_unused]] const auto& task :
       std::filesystem::directory_iterator("/proc/self/task")) {
    ++n;
  }
  return n;
}

// A channel of its own (its own connection), so that the streams are not
// capped by one connection's MAX_CONCURRENT_STREAMS.
std::shared_ptr<grpc::Channel> OwnChannel(const std::string& address, int i) {
  grpc::ChannelArguments args;
  args.SetInt("ohfed.test.channel", i);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   args);
}

struct OpenStream {
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<
      grpc::ClientReaderWriter<v1::SubmitRequest, v1::SubmitResponse>>
      stream;
};

// One stream open and known to the server: it answered an empty batch, and
// now waits for the next.
OpenStream Open(v1::Ingest::Stub& stub) {
  OpenStream s;
  s.context = std::make_unique<grpc::ClientContext>();
  s.context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  s.stream = stub.Submit(s.context.get());
  v1::SubmitResponse response;
  EXPECT_TRUE(s.stream->Write(v1::SubmitRequest()));
  EXPECT_TRUE(s.stream->Read(&response));
  return s;
}

// With gRPC's sync API each open stream held a server thread: 200 idle
// streams took 200 more threads.
TEST(RpcThreadsTest, IdleSubmitStreamsHoldNoThreads) {
  TempDir dir;
  AggregatorOptions options =
      ::ohfed::aggregator::testing::LoopbackOptions(dir.File("db"));
  options.ingest.max_streams_per_peer = 1000;
  auto started = Aggregator::Start(options);
  OHFED_ASSERT_OK(started);
  std::unique_ptr<Aggregator> aggregator = std::move(*started);
  constexpr int kChannels = 4, kStreamsPerChannel = 50;
  std::vector<std::unique_ptr<v1::Ingest::Stub>> stubs;
  for (int i = 0; i < kChannels; ++i) {
    stubs.push_back(v1::Ingest::NewStub(OwnChannel(aggregator->address(), i)));
  }
  // Every connection made and one stream on each served, so that what gRPC
  // starts once per process or connection is counted before.
  std::vector<OpenStream> streams;
  for (auto& stub : stubs) streams.push_back(Open(*stub));
  const int before = ThreadsOfThisProcess();
  for (auto& stub : stubs) {
    for (int i = 1; i < kStreamsPerChannel; ++i) streams.push_back(Open(*stub));
  }
  const int after = ThreadsOfThisProcess();
  EXPECT_LT(after - before, 32) << streams.size() << " open streams: " << before
                                << " threads before, " << after << " after";

  // The streams still work: a batch on the last one is acknowledged.
  v1::SubmitRequest batch;
  *batch.add_summaries() = Summary("RJ1", "2026-01", 1, {{kImm, 4}});
  v1::SubmitResponse acks;
  ASSERT_TRUE(streams.back().stream->Write(batch));
  ASSERT_TRUE(streams.back().stream->Read(&acks));
  ASSERT_EQ(acks.acks_size(), 1);
  EXPECT_EQ(acks.acks(0).outcome(), v1::OUTCOME_ACCEPTED);
  for (OpenStream& s : streams) {
    s.stream->WritesDone();
    EXPECT_TRUE(s.stream->Finish().ok());
  }
}

// The store's group commit (the only grouping on the ingest path) answers
// each batch handed to CommitAsync with its own outcomes and held
// revisions, in order, on its committing thread.
TEST(RpcThreadsTest, CommitAsyncAnswersEachBatchWithItsOutcomes) {
  TempDir dir;
  SummaryStoreOptions options;
  options.commit_threads = 1;
  auto store = SummaryStore::Open(dir.File("db"), options);
  OHFED_ASSERT_OK(store);
  const std::vector<std::vector<v1::UnitSummary>> batches = {
      {Summary("RJ1", "2026-01", 2, {{kImm, 4}}),
       Summary("RJ2", "2026-01", 1, {{kImm, 4}})},
      {Summary("RJ1", "2026-01", 1, {{kImm, 4}})},
      {}};
  std::vector<std::vector<SummaryStore::Incoming>> incoming(batches.size());
  std::vector<SummaryStore::Committed> got(batches.size());
  absl::Mutex mu;
  int answered = 0;
  for (size_t i = 0; i < batches.size(); ++i) {
    for (const v1::UnitSummary& s : batches[i]) {
      incoming[i].push_back({&s, /*forwarded=*/true, /*received=*/{}});
    }
    (*store)->CommitAsync(incoming[i],
                          [&, i](absl::StatusOr<SummaryStore::Committed> r) {
                            ASSERT_TRUE(r.ok()) << r.status();
                            absl::MutexLock l(&mu);
                            got[i] = *std::move(r);
                            ++answered;
                          });
  }
  {
    absl::MutexLock l(&mu);
    mu.Await(absl::Condition(
        +[](int* n) { return *n == 3; }, &answered));
  }
  EXPECT_EQ(got[0].outcomes, (std::vector<v1::Outcome>{v1::OUTCOME_ACCEPTED,
                                                       v1::OUTCOME_ACCEPTED}));
  EXPECT_EQ(got[0].held_revisions, (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(got[1].outcomes, std::vector<v1::Outcome>{v1::OUTCOME_STALE});
  EXPECT_EQ(got[1].held_revisions, std::vector<uint64_t>{2});
  EXPECT_TRUE(got[2].outcomes.empty());
  EXPECT_EQ((*store)->HeldRevisionOf("RJ1", "2026-01"), 2u);
}

// A sender that keeps several batches in flight on one stream (a regional
// forwarder) has them read and committed together: the service reads ahead
// of its acks. Before, a stream's next batch was read only once the acks of
// the one before were sent, so each took a group commit of its own. The
// first group waits (group commit delay) while the others arrive.
TEST(RpcThreadsTest, BatchesInFlightOnAStreamShareAGroupCommit) {
  TempDir dir;
  AggregatorOptions options =
      ::ohfed::aggregator::testing::LoopbackOptions(dir.File("db"));
  options.store.group_commit_delay = absl::Milliseconds(500);
  auto started = Aggregator::Start(options);
  OHFED_ASSERT_OK(started);
  std::unique_ptr<Aggregator> aggregator = std::move(*started);
  auto stub = v1::Ingest::NewStub(OwnChannel(aggregator->address(), 0));
  grpc::ClientContext context;
  auto stream = stub->Submit(&context);
  const std::vector<std::string> trusts = {"RJ1", "RJ2", "R1H"};
  for (const std::string& trust : trusts) {
    v1::SubmitRequest batch;
    *batch.add_summaries() = Summary(trust, "2026-01", 1, {{kImm, 4}});
    ASSERT_TRUE(stream->Write(batch));
  }
  // Acks come in the order the batches went.
  for (const std::string& trust : trusts) {
    v1::SubmitResponse acks;
    ASSERT_TRUE(stream->Read(&acks));
    ASSERT_EQ(acks.acks_size(), 1);
    EXPECT_EQ(acks.acks(0).trust(), trust);
    EXPECT_EQ(acks.acks(0).outcome(), v1::OUTCOME_ACCEPTED);
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(aggregator->store().stats().commits, 1u);
}

TEST(RpcThreadsTest, WorkPoolLowersThePriorityOfItsOwnThreadsOnly) {
  const int process = getpriority(PRIO_PROCESS, 0);
  int in_pool = -100;
  {
    WorkPool pool("test-low", 1, 10);
    pool.Post([&] {
      in_pool =
          getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
    });
    pool.WaitIdle();
  }
  EXPECT_EQ(in_pool, std::min(process + 10, 19));
  EXPECT_EQ(getpriority(PRIO_PROCESS, 0), process);
}

v1::QueryRequest LightQuery() {
  v1::QueryRequest q;
  q.set_scope("trust:RJ1");
  q.set_period("2026-01");
  q.set_measure_prefix("staffing.wte");
  return q;
}

// The benchmark's heavy query: national by trust, a year, every measure.
v1::QueryRequest HeavyQuery() {
  v1::QueryRequest q;
  q.set_scope("national");
  q.set_period("2025");
  q.set_by("trust");
  return q;
}

TEST(RpcThreadsTest, QueryCostSeparatesLightFromHeavy) {
  QueryLanes lanes;
  const Registry& england = *Registry::England();
  const Catalogue& catalogue = *Catalogue::Default();
  EXPECT_EQ(lanes.LaneFor(QueryCost(LightQuery(), england, catalogue)),
            QueryLane::kLight);
  EXPECT_EQ(lanes.LaneFor(QueryCost(HeavyQuery(), england, catalogue)),
            QueryLane::kHeavy);
  v1::CompletenessRequest month;
  month.set_period("2026-01");
  EXPECT_EQ(lanes.LaneFor(CompletenessCost(month, england)), QueryLane::kLight);
}

// A heavy query held at its start (as if it ran for ever) and a light query
// sent after it: the light one is answered first. Before the lanes, both
// ran on gRPC's threads and competed for the CPU; with one heavy thread
// busy, a light query must still find a thread of its own.
class QueryLanesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AggregatorOptions options =
        ::ohfed::aggregator::testing::LoopbackOptions(dir_.File("db"));
    options.store.clock = &clock_;
    options.query_lanes.on_queued = [this](QueryLane lane) {
      if (lane == QueryLane::kHeavy) ++heavy_queued_;
      if (heavy_queued_ == 2 && !second_heavy_queued_.HasBeenNotified()) {
        second_heavy_queued_.Notify();
      }
    };
    options.query_lanes.on_start = [this](QueryLane lane) {
      if (lane != QueryLane::kHeavy) return;
      if (!heavy_started_.HasBeenNotified()) heavy_started_.Notify();
      gate_.WaitForNotification();
    };
    auto started = Aggregator::Start(options);
    OHFED_ASSERT_OK(started);
    aggregator_ = std::move(*started);
    auto channel = MakeChannel(aggregator_->address(), {.insecure = true});
    OHFED_ASSERT_OK(channel);
    stub_ = v1::Query::NewStub(*channel);
  }
  void TearDown() override {
    if (!gate_.HasBeenNotified()) gate_.Notify();
    for (std::thread& t : callers_) t.join();
    aggregator_.reset();
  }

  // Sends `q` from a thread of its own; its status goes to `*status`.
  void SendInBackground(v1::QueryRequest q, grpc::Status* status) {
    callers_.emplace_back([this, q, status] {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
      v1::QueryResponse response;
      *status = stub_->Query(&context, q, &response);
    });
  }

  TempDir dir_;
  FakeClock clock_{absl::Now()};
  std::atomic<int> heavy_queued_{0};
  absl::Notification heavy_started_, second_heavy_queued_, gate_;
  std::unique_ptr<Aggregator> aggregator_;
  std::unique_ptr<v1::Query::Stub> stub_;
  std::vector<std::thread> callers_;
};

TEST_F(QueryLanesTest, LightQueryIsAnsweredWhileAHeavyOneRuns) {
  grpc::Status heavy;
  SendInBackground(HeavyQuery(), &heavy);
  heavy_started_.WaitForNotification();

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  v1::QueryResponse response;
  grpc::Status light = stub_->Query(&context, LightQuery(), &response);
  EXPECT_TRUE(light.ok()) << light.error_message();
  EXPECT_FALSE(gate_.HasBeenNotified());  // the heavy query still "runs"

  gate_.Notify();
  callers_.back().join();
  callers_.pop_back();
  EXPECT_TRUE(heavy.ok()) << heavy.error_message();
}

TEST_F(QueryLanesTest, QueuedQueryPastItsDeadlineIsNotRun) {
  grpc::Status first, second;
  SendInBackground(HeavyQuery(), &first);
  heavy_started_.WaitForNotification();
  SendInBackground(HeavyQuery(), &second);  // waits for the heavy thread
  second_heavy_queued_.WaitForNotification();
  clock_.Advance(absl::Minutes(2));  // past its 60 s deadline
  gate_.Notify();
  for (std::thread& t : callers_) t.join();
  callers_.clear();
  EXPECT_THAT(FromGrpc(second),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       "query not run: its deadline passed while it waited"));
}

}  // namespace
}  // namespace ohfed::aggregator
