// The query service over real gRPC (issue 8). A query held the store's
// reader lock for its whole run, so a long query delayed every
// acknowledgement: now, while a reader is paused inside the view, an agent's
// stream still gets its batch committed and acknowledged, and a query sees
// the new data. And a query whose deadline has passed is not evaluated.
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/synchronization/notification.h"
#include "aggregator/aggregator.h"
#include "common/clock.h"
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

TEST(QueryServiceTest, StreamCommitsWhileAQueryIsPaused) {
  TempDir dir;
  AggregatorOptions options =
      ::ohfed::aggregator::testing::LoopbackOptions(dir.File("db"));
  auto started = Aggregator::Start(options);
  OHFED_ASSERT_OK(started);
  std::unique_ptr<Aggregator> aggregator = std::move(*started);
  auto channel = MakeChannel(aggregator->address(), {.insecure = true});
  OHFED_ASSERT_OK(channel);
  auto ingest = v1::Ingest::NewStub(*channel);
  auto query = v1::Query::NewStub(*channel);

  absl::Notification inside, release;
  std::thread reader([&] {
    aggregator->store().Read([&](const View& view) {
      inside.Notify();
      release.WaitForNotification();
      EXPECT_EQ(view.Unit("RJ1", "2026-01"), nullptr);  // its snapshot
      return 0;
    });
  });
  // On any failure below, still release and join the reader before the
  // aggregator goes.
  absl::Cleanup join_reader = [&] {
    if (!release.HasBeenNotified()) release.Notify();
    reader.join();
  };
  inside.WaitForNotification();

  // Without snapshots this stream's commit waits for the paused reader and
  // the 20 s deadline expires first.
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  auto stream = ingest->Submit(&ctx);
  v1::SubmitRequest batch;
  *batch.add_summaries() = Summary("RJ1", "2026-01", 1, {{kImm, 4}});
  v1::SubmitResponse acks;
  EXPECT_TRUE(stream->Write(batch));
  EXPECT_TRUE(stream->Read(&acks)) << "no acknowledgement while paused";
  ASSERT_EQ(acks.acks_size(), 1);
  EXPECT_EQ(acks.acks(0).outcome(), v1::OUTCOME_ACCEPTED);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());

  grpc::ClientContext qctx;
  v1::QueryRequest req;
  req.set_scope("national");  // exact: below national 4 would read "*"
  req.set_period("2026-01");
  req.set_measure_prefix(kImm);
  v1::QueryResponse resp;
  ASSERT_TRUE(query->Query(&qctx, req, &resp).ok());
  ASSERT_EQ(resp.rows_size(), 1);
  EXPECT_EQ(resp.rows(0).value(), 4);

  release.Notify();
}

// The deadline is read against the aggregator's clock, here set a day past
// it: the query stops at its first check with CANCELLED, while one without a
// deadline is answered.
TEST(QueryServiceTest, QueryPastItsDeadlineIsAbandoned) {
  TempDir dir;
  FakeClock clock(absl::Now() + absl::Hours(24));
  AggregatorOptions options =
      ::ohfed::aggregator::testing::LoopbackOptions(dir.File("db"));
  options.store.clock = &clock;
  auto started = Aggregator::Start(options);
  OHFED_ASSERT_OK(started);
  std::unique_ptr<Aggregator> aggregator = std::move(*started);
  auto channel = MakeChannel(aggregator->address(), {.insecure = true});
  OHFED_ASSERT_OK(channel);
  auto query = v1::Query::NewStub(*channel);

  v1::QueryRequest req;
  // Below national, disclosive measures take standard periods only.
  req.set_period("FY2025");
  req.set_by("trust");
  v1::QueryResponse resp;
  grpc::ClientContext late;
  late.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  EXPECT_THAT(FromGrpc(query->Query(&late, req, &resp)),
              StatusIs(absl::StatusCode::kCancelled,
                       "query abandoned: the caller has gone or its deadline "
                       "has passed"));
  v1::CompletenessRequest creq;
  creq.set_period("2026-01");
  v1::CompletenessResponse cresp;
  grpc::ClientContext late_too;
  late_too.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  EXPECT_THAT(FromGrpc(query->Completeness(&late_too, creq, &cresp)),
              StatusIs(absl::StatusCode::kCancelled, "query abandoned"));

  req.set_period("2026-01");
  grpc::ClientContext no_deadline;
  EXPECT_TRUE(query->Query(&no_deadline, req, &resp).ok());
}

// Under the test clock (OHFED_TEST_NOW far from the machine's date) a
// caller's deadline is moved onto the aggregator's clock: a query with time
// to spare is answered, not abandoned as if its deadline had passed.
TEST(QueryServiceTest, DeadlineIsMovedOntoAShiftedTestClock) {
  const char* old = std::getenv(kTestNowVariable);
  const std::optional<std::string> saved =
      old ? std::optional<std::string>(old) : std::nullopt;
  absl::Cleanup restore = [&saved] {
    if (saved) {
      setenv(kTestNowVariable, saved->c_str(), 1);
    } else {
      unsetenv(kTestNowVariable);
    }
  };
  setenv(kTestNowVariable,
         absl::FormatTime(absl::RFC3339_sec, absl::Now() + absl::Hours(24),
                          absl::UTCTimeZone())
             .c_str(),
         1);
  absl::StatusOr<Clock*> clock = ClockFromEnvironment();
  OHFED_ASSERT_OK(clock);
  TempDir dir;
  AggregatorOptions options =
      ::ohfed::aggregator::testing::LoopbackOptions(dir.File("db"));
  options.store.clock = *clock;
  auto started = Aggregator::Start(options);
  OHFED_ASSERT_OK(started);
  std::unique_ptr<Aggregator> aggregator = std::move(*started);
  auto channel = MakeChannel(aggregator->address(), {.insecure = true});
  OHFED_ASSERT_OK(channel);
  auto query = v1::Query::NewStub(*channel);
  v1::QueryRequest req;
  req.set_period("2026-01");
  v1::QueryResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  OHFED_EXPECT_OK(FromGrpc(query->Query(&ctx, req, &resp)));
}

}  // namespace
}  // namespace ohfed::aggregator
