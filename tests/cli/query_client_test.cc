// `ohfed query` end to end over real loopback gRPC: a Query service backed
// by the query engine and an in-memory View, and the CLI command parsed and
// run in-process with its output captured.
#include "cli/query_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "aggregator/aggregator.h"
#include "aggregator/query_completeness.h"
#include "aggregator/query_engine.h"
#include "cli/query_format.h"
#include "common/status.h"
#include "common/token.h"
#include "common/transport.h"
#include "ohfed/v1/ohfed.grpc.pb.h"
#include "tests/aggregator/query_fake_view.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::FakeView;
using ::testing::HasSubstr;

// Typed, as a server that predates the compact form (QueryRequest.compact):
// it does not read `ohfed query`'s request for it and answers tidy rows,
// which the command prints as they are.
class FakeQueryService final : public v1::Query::Service {
 public:
  explicit FakeQueryService(const View& view) : view_(view) {}
  grpc::Status Query(grpc::ServerContext*, const v1::QueryRequest* req,
                     v1::QueryResponse* resp) override {
    v1::QueryRequest before_the_form = *req;
    before_the_form.clear_compact();
    auto r = RunQuery(view_, before_the_form);
    if (!r.ok()) return ToGrpc(r.status());
    *resp = *r;
    return grpc::Status::OK;
  }
  grpc::Status Completeness(grpc::ServerContext*,
                            const v1::CompletenessRequest* req,
                            v1::CompletenessResponse* resp) override {
    auto r = RunCompleteness(view_, *req, absl::Now());
    if (!r.ok()) return ToGrpc(r.status());
    *resp = *r;
    return grpc::Status::OK;
  }

 private:
  const View& view_;
};

struct CommandOutput {
  int exit_code = 0;
  std::string out, err;
};

class QueryClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    view_.Set("T1", "2026-01", "activity.count.immunisation", 10);
    view_.Set("T2", "2026-01", "activity.count.immunisation", 20);
    view_.Set("T4", "2026-01", "activity.count.immunisation", 15);
    grpc::ServerBuilder builder;
    TransportOptions insecure;
    insecure.insecure = true;
    auto creds = MakeServerCredentials("127.0.0.1:0", insecure);
    OHFED_ASSERT_OK(creds);
    builder.AddListeningPort("127.0.0.1:0", *creds, &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = "127.0.0.1:" + std::to_string(port_);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  // Runs `ohfed query <args>` as the CLI would.
  CommandOutput Query(std::vector<std::string> args) {
    CLI::App app("ohfed");
    app.require_subcommand(1);
    AddQueryCommand(app);
    args.insert(args.begin(), "query");
    std::reverse(args.begin(), args.end());  // CLI11 takes argv reversed
    std::ostringstream out, err;
    auto* old_out = std::cout.rdbuf(out.rdbuf());
    auto* old_err = std::cerr.rdbuf(err.rdbuf());
    CommandOutput result;
    try {
      app.parse(args);
    } catch (const CLI::Error& e) {
      result.exit_code = e.get_exit_code();
    }
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    result.out = out.str();
    result.err = err.str();
    return result;
  }

  FakeView view_;
  FakeQueryService service_{view_};
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string address_;
};

// Below national the rows are disclosure-controlled (SPEC §7): sums rounded
// to 5s, the max of a count across units "*".
TEST_F(QueryClientTest, PrintsCsvByRegion) {
  CommandOutput r =
      Query({"--aggregator", address_, "--insecure", "--period", "2026-01",
             "--by", "region", "--measures", "activity.count.immunisation",
             "--stats", "sum,max", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "scope,unit,unit_name,period,measure,stat,value,n_units\n"
            "national,R1,North,2026-01,activity.count.immunisation,sum,30,2\n"
            "national,R1,North,2026-01,activity.count.immunisation,max,*,2\n"
            "national,R2,South,2026-01,activity.count.immunisation,sum,15,1\n"
            "national,R2,South,2026-01,activity.count.immunisation,max,*,1\n");
}

// Against a real aggregator, `ohfed query` gets the compact answer and
// prints it byte for byte as the tidy answer renders (what it printed before
// it asked for the compact form): table, CSV and JSON; national, by ICS and
// by trust; several statistics and measures; suppressed and rounded cells.
TEST_F(QueryClientTest, PrintsTheCompactAnswerAsTheTidyOne) {
  ::ohfed::testing::TempDir dir;
  auto aggregator = Aggregator::Start(
      ::ohfed::aggregator::testing::LoopbackOptions(dir.File("db")));
  OHFED_ASSERT_OK(aggregator);
  SummaryStore& store = (*aggregator)->store();
  using ::ohfed::aggregator::testing::Summary;
  constexpr char kImm[] = "activity.count.immunisation";
  constexpr char kWte[] = "staffing.wte.consultant_om";
  OHFED_ASSERT_OK(
      store.Commit({Summary("RJ1", "2026-01", 1, {{kImm, 40}}),
                    Summary("RJ2", "2026-01", 1, {{kImm, 3}}),
                    Summary("RJZ", "2026-01", 1, {{kImm, 123}, {kWte, 2.5}})}));
  QueryOptions options;
  options.patterns = store.SnapshotForQuery().patterns;
  options.coverage = store.coverage();
  options.disclosure = store.disclosure();
  int compared = 0;
  for (const std::string format : {"table", "csv", "json"}) {
    for (const std::string by : {"self", "ics", "trust"}) {
      v1::QueryRequest req;
      req.set_scope("region:Y56");
      req.set_period("2026-01");
      req.set_by(by);
      req.add_stats("sum");
      req.add_stats("max");
      auto tidy = RunQuery(*store.Snapshot(), req, options);
      OHFED_ASSERT_OK(tidy);
      ASSERT_GT(tidy->rows_size(), 1);
      auto output_format = ParseOutputFormat(format);
      OHFED_ASSERT_OK(output_format);
      CommandOutput r =
          Query({"--aggregator", (*aggregator)->address(), "--insecure",
                 "--scope", "region:Y56", "--period", "2026-01", "--by", by,
                 "--stats", "sum,max", "--format", format});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(r.out, RenderQuery(*tidy, *output_format))
          << format << " by " << by;
      compared += r.out.find("*") != std::string::npos;
    }
  }
  EXPECT_GE(compared, 6);  // suppressed cells below the region
}

TEST_F(QueryClientTest, CompletenessTotalsAreGreppable) {
  CommandOutput r =
      Query({"--aggregator", address_, "--insecure", "--period", "2026-01",
             "--measures", "completeness", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\nnational,2026-01,national,England,,,3,"));
}

// Issue 8: one row per region instead of the list of every trust.
TEST_F(QueryClientTest, CompletenessByRegion) {
  CommandOutput r = Query({"--aggregator", address_, "--insecure", "--period",
                           "2026-01", "--measures", "completeness", "--by",
                           "region", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "scope,period,unit,unit_name,ics,region,reported,on_time,"
            "last_received,sync_state,revision,expected\n"
            "national,2026-01,national,England,,,3,3,,,,5\n"
            "national,2026-01,R1,North,,,2,2,,,,3\n"
            "national,2026-01,R2,South,,,1,1,,,,2\n");
  CommandOutput table =
      Query({"--aggregator", address_, "--insecure", "--period", "2026-01",
             "--measures", "completeness", "--by", "ics"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out,
            "2026-01 national: 3 of 5 trusts reported, 3 on time\n"
            "unit  unit_name  expected  reported  on_time\n"
            "I1    ICS One           2         2        2\n"
            "I2    ICS Two           1         0        0\n"
            "I3    ICS Three         2         1        1\n");
}

TEST_F(QueryClientTest, TableAndJsonFormats) {
  CommandOutput table = Query({"--aggregator", address_, "--insecure",
                               "--scope", "ics:I1", "--period", "2026-01",
                               "--measures", "activity.count.immunisation"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("ICS One"));
  EXPECT_THAT(table.out, HasSubstr("30"));
  CommandOutput json =
      Query({"--aggregator", address_, "--insecure", "--period", "2026-01",
             "--format", "json", "--measures", "activity.count.immunisation"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"value\": 45.0"));
}

TEST_F(QueryClientTest, ServerErrorsAreOneLineOnStderr) {
  CommandOutput r =
      Query({"--aggregator", address_, "--insecure", "--period", "2026-13"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("ohfed query: period: "));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);

  CommandOutput unknown = Query({"--aggregator", address_, "--insecure",
                                 "--scope", "ics:NOPE", "--period", "2026-01"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("ohfed query: unknown ics 'NOPE'"));
}

TEST_F(QueryClientTest, UnreachableAggregatorFailsWithinTheDeadline) {
  server_->Shutdown();
  server_.reset();
  CommandOutput r = Query({"--aggregator", address_, "--insecure", "--period",
                           "2026-01", "--timeout", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("ohfed query: "));
  EXPECT_THAT(r.err, HasSubstr(address_));
}

TEST_F(QueryClientTest, InsecureRefusesNonLoopback) {
  CommandOutput r = Query(
      {"--aggregator", "192.0.2.1:7400", "--insecure", "--period", "2026-01"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("ohfed query: "));
}

// Issue 9: `ohfed query` sends the token from --token-file or OHFED_TOKEN
// as "authorization: Bearer", and an aggregator with a tokens file answers
// only within the token's scope, even on loopback.
TEST_F(QueryClientTest, SendsTheBearerTokenFromFileOrEnvironment) {
  ::ohfed::testing::TempDir dir;
  AggregatorOptions options =
      ::ohfed::aggregator::testing::LoopbackOptions(dir.File("db"));
  options.tokens_file = dir.Write(
      "tokens", *TokensFileLine("tok-ics", "ics:QKK", "SEL lead") + "\n" +
                    *TokensFileLine("tok-nat", "national", "") + "\n");
  auto aggregator = Aggregator::Start(options);
  OHFED_ASSERT_OK(aggregator);
  const std::string address = (*aggregator)->address();
  const std::string token_file = dir.Write("tok", "tok-ics\n");
  auto completeness = [&](std::vector<std::string> more) {
    std::vector<std::string> args = {"--aggregator", address,    "--insecure",
                                     "--period",     "2026-01",  "--measures",
                                     "completeness", "--format", "csv"};
    args.insert(args.end(), more.begin(), more.end());
    return Query(args);
  };
  unsetenv("OHFED_TOKEN");

  CommandOutput none = completeness({});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_EQ(none.err,
            "ohfed query: a query needs a bearer token (ohfed query "
            "--token-file) or a client certificate\n");

  // No scope: the token's own.
  CommandOutput own = completeness({"--token-file", token_file});
  ASSERT_EQ(own.exit_code, 0) << own.err;
  EXPECT_THAT(own.out,
              HasSubstr("\nics:QKK,2026-01,QKK,NHS South East London"));

  CommandOutput outside =
      completeness({"--token-file", token_file, "--scope", "region:Y56"});
  EXPECT_EQ(outside.exit_code, 1);
  EXPECT_EQ(outside.err,
            "ohfed query: caller scope ics:QKK does not cover region:Y56 "
            "(token 'SEL lead')\n");

  setenv("OHFED_TOKEN", "tok-nat", 1);
  CommandOutput env = completeness({"--scope", "region:Y56"});
  EXPECT_EQ(env.exit_code, 0) << env.err;
  // --token-file wins over the environment.
  CommandOutput file =
      completeness({"--token-file", token_file, "--scope", "region:Y56"});
  EXPECT_EQ(file.exit_code, 1);
  setenv("OHFED_TOKEN", "tok-wrong", 1);
  CommandOutput wrong = completeness({});
  EXPECT_EQ(wrong.err, "ohfed query: unknown bearer token\n");
  unsetenv("OHFED_TOKEN");

  CommandOutput missing = completeness({"--token-file", dir.File("nope")});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.err, HasSubstr("cannot read token file"));
}

}  // namespace
}  // namespace ohfed::aggregator
