// Coverage (SPEC §6, `--covers`): a regional aggregator refuses summaries
// from trusts outside its region and refuses queries and completeness
// outside it, over real gRPC, rather than presenting its trusts as England.
#include "aggregator/coverage.h"

#include <memory>
#include <string>
#include <vector>

#include "aggregator/aggregator.h"
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

TEST(CoverageParseTest, AcceptsRegionsAndIcssOnly) {
  const Registry& england = *Registry::England();
  auto everything = Coverage::Parse("", england);
  OHFED_ASSERT_OK(everything);
  EXPECT_TRUE(everything->everything());
  auto region = Coverage::Parse("region:y56", england);
  OHFED_ASSERT_OK(region);
  EXPECT_EQ(region->ToString(), "region:Y56");
  EXPECT_THAT(Coverage::Parse("trust:RJ1", england),
              StatusIs(absl::StatusCode::kInvalidArgument, "not one trust"));
  EXPECT_THAT(Coverage::Parse("region:ZZZ", england),
              StatusIs(absl::StatusCode::kNotFound, "--covers: "));
  EXPECT_THAT(Coverage::Parse("Y56", england),
              StatusIs(absl::StatusCode::kInvalidArgument, "--covers: "));
}

TEST(CoverageParseTest, ScopesInsideAnIcs) {
  const Registry& england = *Registry::England();
  auto ics = Coverage::Parse("ics:QKK", england);
  OHFED_ASSERT_OK(ics);
  OHFED_EXPECT_OK(ics->CheckScope(*Scope::Parse("ics:QKK"), england));
  OHFED_EXPECT_OK(ics->CheckScope(*Scope::Parse("trust:RJZ"), england));
  EXPECT_THAT(ics->CheckScope(*Scope::Parse("region:Y56"), england),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "this aggregator covers ics:QKK only; ask the "
                       "aggregator that covers it or the national one for "
                       "region:Y56"));
}

class RegionalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AggregatorOptions options =
        ::ohfed::aggregator::testing::LoopbackOptions(dir_.File("db"));
    options.covers = "region:Y56";
    auto a = Aggregator::Start(options);
    OHFED_ASSERT_OK(a);
    aggregator_ = std::move(*a);
    auto channel = MakeChannel(aggregator_->address(), {.insecure = true});
    OHFED_ASSERT_OK(channel);
    ingest_ = v1::Ingest::NewStub(*channel);
    query_ = v1::Query::NewStub(*channel);
  }

  v1::SubmitResponse Submit(std::vector<v1::UnitSummary> summaries) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    auto stream = ingest_->Submit(&ctx);
    v1::SubmitRequest req;
    for (auto& s : summaries) *req.add_summaries() = std::move(s);
    v1::SubmitResponse resp;
    EXPECT_TRUE(stream->Write(req));
    EXPECT_TRUE(stream->Read(&resp));
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
    return resp;
  }

  absl::Status Query(const std::string& scope,
                     v1::QueryResponse* resp = nullptr) {
    grpc::ClientContext ctx;
    v1::QueryRequest req;
    req.set_scope(scope);
    req.set_period("2026-01");
    req.set_measure_prefix(kImm);
    v1::QueryResponse ignored;
    return FromGrpc(query_->Query(&ctx, req, resp ? resp : &ignored));
  }

  absl::Status Completeness(const std::string& scope) {
    grpc::ClientContext ctx;
    v1::CompletenessRequest req;
    req.set_scope(scope);
    req.set_period("2026-01");
    v1::CompletenessResponse resp;
    return FromGrpc(query_->Completeness(&ctx, req, &resp));
  }

  TempDir dir_;
  std::unique_ptr<Aggregator> aggregator_;
  std::unique_ptr<v1::Ingest::Stub> ingest_;
  std::unique_ptr<v1::Query::Stub> query_;
};

TEST_F(RegionalTest, RefusesSummariesFromOutsideItsRegion) {
  v1::SubmitResponse resp = Submit({Summary("RJ1", "2026-01", 1, {{kImm, 4}}),
                                    Summary("RCB", "2026-01", 1, {{kImm, 9}})});
  ASSERT_EQ(resp.acks_size(), 2);
  for (const v1::Ack& ack : resp.acks()) {
    if (ack.trust() == "RJ1") {
      EXPECT_EQ(ack.outcome(), v1::OUTCOME_ACCEPTED);
    } else {
      EXPECT_EQ(ack.outcome(), v1::OUTCOME_REJECTED);
      EXPECT_EQ(ack.reason(),
                "trust RCB (region:Y63) is outside this aggregator's coverage "
                "(region:Y56): send it to the aggregator for its region");
    }
  }
  EXPECT_EQ(aggregator_->store().stats().units_held, 1u);
}

TEST_F(RegionalTest, RefusesQueriesOutsideItsRegion) {
  Submit({Summary("RJ1", "2026-01", 1, {{kImm, 4}})});
  const char kNational[] =
      "this aggregator covers region:Y56 only; ask the national aggregator "
      "for national";
  EXPECT_THAT(Query("national"),
              StatusIs(absl::StatusCode::kFailedPrecondition, kNational));
  EXPECT_THAT(Completeness("national"),
              StatusIs(absl::StatusCode::kFailedPrecondition, kNational));
  EXPECT_THAT(Completeness("region:Y63"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "covers region:Y56 only; ask the aggregator that "
                       "covers it or the national one for region:Y63"));
  EXPECT_THAT(Query("trust:RCB"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "covers region:Y56 only"));
  OHFED_EXPECT_OK(Query("region:Y56"));
  OHFED_EXPECT_OK(Query("ics:QKK"));
  OHFED_EXPECT_OK(Query("trust:RJ1"));
  OHFED_EXPECT_OK(Completeness("region:Y56"));
  // No scope: what it covers, named as such, never England.
  v1::QueryResponse resp;
  OHFED_ASSERT_OK(Query("", &resp));
  ASSERT_EQ(resp.rows_size(), 1);
  EXPECT_EQ(resp.rows(0).scope(), "region:Y56");
  EXPECT_EQ(resp.rows(0).unit_name(), "London");
  // A count of 4 below national is "*" (SPEC §7).
  EXPECT_TRUE(resp.rows(0).suppressed());
  EXPECT_EQ(resp.rows(0).n_units(), 1u);
}

TEST(RegionalStartTest, UnknownCoverageIsRefusedAtStart) {
  TempDir dir;
  AggregatorOptions options =
      ::ohfed::aggregator::testing::LoopbackOptions(dir.File("db"));
  options.covers = "region:Y99";
  EXPECT_THAT(Aggregator::Start(options),
              StatusIs(absl::StatusCode::kNotFound, "--covers: "));
}

}  // namespace
}  // namespace ohfed::aggregator
