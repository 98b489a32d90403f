// The authorisation matrix (issue 9): every RPC of the services the
// aggregator serves, taken from the proto descriptors, × every kind of
// caller, with the expected status, over real gRPC. A new RPC, or a new
// service, fails MatrixCoversEveryRpc until it has an invoker and a row for
// every caller; a new caller kind fails it until every RPC has a row for it.
//
// The whole matrix runs over mutual TLS on loopback: the Query and Ingest
// services with their Authz behind gRPC's SSL server credentials, which ask
// for a client certificate and verify it when one is given (the certificates
// are made in memory, tests/testing/test_certs.h). When the aggregator
// serves TLS itself (the tls branch) the server here can become an
// Aggregator started with TLS options and deploy/dev-certs.sh's files; the
// rows stay. The token rows also run over --insecure loopback against a real
// Aggregator with a tokens file.
#include <google/protobuf/descriptor.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "aggregator/aggregator.h"
#include "aggregator/authz.h"
#include "aggregator/ingest_service.h"
#include "aggregator/query_service.h"
#include "aggregator/summary_store.h"
#include "common/status.h"
#include "common/token.h"
#include "common/transport.h"
#include "ohfed/v1/ohfed.grpc.pb.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/test_certs.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::Summary;
using ::ohfed::testing::KeyPair;
using ::ohfed::testing::TempDir;
using ::ohfed::testing::TestCa;
using ::testing::HasSubstr;
using Code = grpc::StatusCode;

// A kind of caller: the token it sends ("" none) and the client certificate
// it presents (common name "" for none).
struct CallerSpec {
  std::string token;
  std::string certificate;  // an identity, e.g. "trust:RJ1"
  bool other_ca = false;    // signed by a CA the server does not trust
  bool expired = false;
};

// London (Y56) > South East London ICS (QKK) > RJ1, RJ2; North East and
// Yorkshire (Y63) > QF7 > RCU.
const std::map<std::string, CallerSpec>& Callers() {
  static const auto* callers = new std::map<std::string, CallerSpec>{
      {"no credential", {}},
      {"wrong token", {.token = "ohfed_notatokenthisaggregatorknows"}},
      {"ics token", {.token = "tok-ics"}},        // ics:QKK
      {"region token", {.token = "tok-region"}},  // region:Y56
      {"national token", {.token = "tok-national"}},
      {"trust certificate", {.certificate = "trust:RJ1"}},
      {"another trust's certificate", {.certificate = "trust:RJ2"}},
      {"regional certificate", {.certificate = "region:Y56"}},
      {"another region's certificate", {.certificate = "region:Y63"}},
      {"national certificate", {.certificate = "national"}},
      {"certificate from another CA",
       {.certificate = "trust:RJ1", .other_ca = true}},
      {"expired certificate", {.certificate = "trust:RJ1", .expired = true}},
  };
  return *callers;
}

// What a row asks: for Query and Completeness a scope and breakdown, for
// Submit and Feedback the trust.
struct Request {
  std::string scope, by, trust;
};

struct Row {
  std::string caller;  // a key of Callers()
  Request request;
  Code expected;
  std::string message;  // a part of the error message; "" for OK
  // Over --insecure loopback, when it differs (ingest stays open there).
  std::optional<Code> on_loopback = std::nullopt;
};

const char kNeedsToken[] = "a query needs a bearer token";
const char kUnknown[] = "unknown bearer token";
const char kTokenSubmits[] = "a bearer token may query but not submit";
const char kTrustReads[] = "may submit for its trust but not query";
const char kNoCertificate[] = "ingest needs the trust's or the region's";
// A certificate the server cannot verify fails the TLS handshake: the call
// never reaches a service.
const Code kHandshake = Code::UNAVAILABLE;

// Rows shared by Query and Completeness: every caller, inside and outside
// its scope, by scope and by breakdown.
std::vector<Row> QueryRows() {
  return {
      {"no credential",
       {"ics:QKK", "", ""},
       Code::UNAUTHENTICATED,
       kNeedsToken},
      {"no credential", {"", "", ""}, Code::UNAUTHENTICATED, kNeedsToken},
      {"wrong token", {"ics:QKK", "", ""}, Code::UNAUTHENTICATED, kUnknown},
      {"ics token", {"ics:QKK", "trust", ""}, Code::OK, ""},
      {"ics token", {"", "", ""}, Code::OK, ""},  // its own scope
      {"ics token", {"trust:RJ1", "", ""}, Code::OK, ""},
      {"ics token",
       {"region:Y56", "", ""},
       Code::PERMISSION_DENIED,
       "caller scope ics:QKK does not cover region:Y56"},
      {"ics token",
       {"trust:RCU", "", ""},
       Code::PERMISSION_DENIED,
       "caller scope ics:QKK does not cover trust:RCU"},
      {"ics token",
       {"ics:QKK", "region", ""},
       Code::PERMISSION_DENIED,
       "caller scope ics:QKK does not cover a breakdown by region"},
      {"region token", {"region:Y56", "trust", ""}, Code::OK, ""},
      {"region token", {"ics:QKK", "", ""}, Code::OK, ""},
      {"region token", {"", "region", ""}, Code::OK, ""},  // itself
      {"region token",
       {"national", "region", ""},
       Code::PERMISSION_DENIED,
       "caller scope region:Y56 does not cover national"},
      {"region token",
       {"region:Y63", "", ""},
       Code::PERMISSION_DENIED,
       "caller scope region:Y56 does not cover region:Y63"},
      {"national token", {"national", "region", ""}, Code::OK, ""},
      {"national token", {"", "trust", ""}, Code::OK, ""},
      {"national token", {"trust:RCU", "", ""}, Code::OK, ""},
      {"trust certificate",
       {"trust:RJ1", "", ""},
       Code::PERMISSION_DENIED,
       kTrustReads},
      {"another trust's certificate",
       {"trust:RJ1", "", ""},
       Code::PERMISSION_DENIED,
       kTrustReads},
      {"regional certificate", {"region:Y56", "trust", ""}, Code::OK, ""},
      {"regional certificate", {"", "", ""}, Code::OK, ""},
      {"regional certificate",
       {"national", "region", ""},
       Code::PERMISSION_DENIED,
       "caller scope region:Y56 does not cover national"},
      {"another region's certificate",
       {"region:Y56", "", ""},
       Code::PERMISSION_DENIED,
       "caller scope region:Y63 does not cover region:Y56"},
      {"national certificate", {"national", "region", ""}, Code::OK, ""},
      {"certificate from another CA", {"trust:RJ1", "", ""}, kHandshake, ""},
      {"expired certificate", {"trust:RJ1", "", ""}, kHandshake, ""},
  };
}

// Rows shared by Submit and Feedback, for trust RJ1.
std::vector<Row> IngestRows(bool submit) {
  const Request rj1{"", "", "RJ1"};
  return {
      // Plaintext carries no identity: ingest on loopback stays open.
      {"no credential", rj1, Code::UNAUTHENTICATED, kNoCertificate, Code::OK},
      {"wrong token", rj1, Code::PERMISSION_DENIED, kTokenSubmits},
      {"ics token", rj1, Code::PERMISSION_DENIED, kTokenSubmits},
      {"region token", rj1, Code::PERMISSION_DENIED, kTokenSubmits},
      {"national token", rj1, Code::PERMISSION_DENIED, kTokenSubmits},
      {"trust certificate", rj1, Code::OK, ""},
      {"another trust's certificate", rj1, Code::PERMISSION_DENIED,
       submit ? "RJ1" : "caller scope trust:RJ2 does not cover trust:RJ1"},
      {"regional certificate", rj1, Code::OK, ""},
      {"another region's certificate", rj1, Code::PERMISSION_DENIED,
       submit ? "RJ1" : "caller scope region:Y63 does not cover trust:RJ1"},
      // Only trusts' agents and regional aggregators submit (SPEC §8), and
      // only they ask Feedback: the national aggregator forwards nowhere.
      {"national certificate", rj1, Code::PERMISSION_DENIED,
       "certificate national may not submit for RJ1"},
      {"certificate from another CA", rj1, kHandshake, ""},
      {"expired certificate", rj1, kHandshake, ""},
  };
}

// By full method name, as in the descriptors.
const std::map<std::string, std::vector<Row>>& Matrix() {
  static const auto* matrix = new std::map<std::string, std::vector<Row>>{
      {"ohfed.v1.Query.Query", QueryRows()},
      {"ohfed.v1.Query.Completeness", QueryRows()},
      {"ohfed.v1.Ingest.Submit", IngestRows(/*submit=*/true)},
      {"ohfed.v1.Ingest.Feedback", IngestRows(/*submit=*/false)},
  };
  return *matrix;
}

// Services in ohfed.proto the aggregator does not serve.
const std::set<std::string> kNotServedByTheAggregator = {
    "ohfed.v1.AgentControl",  // the agent's, on its unix socket
};

struct Stubs {
  std::unique_ptr<v1::Query::Stub> query;
  std::unique_ptr<v1::Ingest::Stub> ingest;
};

using Invoker =
    std::function<grpc::Status(Stubs&, grpc::ClientContext&, const Request&)>;

// One summary for the row's trust. The issue lets a refused summary be
// refused either way: a REJECTED ack counts as PERMISSION_DENIED with its
// reason.
grpc::Status SubmitOne(Stubs& stubs, grpc::ClientContext& ctx,
                       const Request& r) {
  auto stream = stubs.ingest->Submit(&ctx);
  v1::SubmitRequest batch;
  *batch.add_summaries() =
      Summary(r.trust, "2026-01", 1, {{"activity.count.immunisation", 4}});
  v1::SubmitResponse acks;
  std::string rejected;
  if (stream->Write(batch) && stream->Read(&acks)) {
    if (acks.acks_size() != 1) {
      rejected = "acks: " + acks.ShortDebugString();
    } else if (acks.acks(0).outcome() != v1::OUTCOME_ACCEPTED) {
      rejected = acks.acks(0).reason();
    }
  }
  stream->WritesDone();
  grpc::Status status = stream->Finish();
  if (status.ok() && !rejected.empty()) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, rejected);
  }
  return status;
}

// One way to call each RPC, by full method name.
const std::map<std::string, Invoker>& Invokers() {
  static const auto* invokers = new std::map<std::string, Invoker>{
      {"ohfed.v1.Query.Query",
       [](Stubs& s, grpc::ClientContext& ctx, const Request& r) {
         v1::QueryRequest req;
         req.set_scope(r.scope);
         req.set_by(r.by);
         req.set_period("2026-01");
         v1::QueryResponse resp;
         return s.query->Query(&ctx, req, &resp);
       }},
      {"ohfed.v1.Query.Completeness",
       [](Stubs& s, grpc::ClientContext& ctx, const Request& r) {
         v1::CompletenessRequest req;
         req.set_scope(r.scope);
         req.set_by(r.by);
         req.set_period("2026-01");
         v1::CompletenessResponse resp;
         return s.query->Completeness(&ctx, req, &resp);
       }},
      {"ohfed.v1.Ingest.Submit", SubmitOne},
      {"ohfed.v1.Ingest.Feedback",
       [](Stubs& s, grpc::ClientContext& ctx, const Request& r) {
         v1::FeedbackRequest req;
         req.set_trust(r.trust);
         v1::FeedbackResponse resp;
         return s.ingest->Feedback(&ctx, req, &resp);
       }},
  };
  return *invokers;
}

// Every RPC of every service the aggregator serves, from the descriptors.
std::vector<const google::protobuf::MethodDescriptor*> ServedRpcs() {
  const google::protobuf::FileDescriptor* file =
      v1::QueryRequest::descriptor()->file();
  std::vector<const google::protobuf::MethodDescriptor*> rpcs;
  for (int s = 0; s < file->service_count(); ++s) {
    const google::protobuf::ServiceDescriptor* service = file->service(s);
    if (kNotServedByTheAggregator.count(service->full_name())) continue;
    for (int m = 0; m < service->method_count(); ++m) {
      rpcs.push_back(service->method(m));
    }
  }
  return rpcs;
}

TEST(AuthzMatrixTest, MatrixCoversEveryRpc) {
  std::set<std::string> served;
  for (const auto* rpc : ServedRpcs()) {
    const std::string& name = rpc->full_name();
    served.insert(name);
    EXPECT_TRUE(Invokers().count(name)) << name << " has no invoker";
    auto rows = Matrix().find(name);
    if (rows == Matrix().end()) {
      ADD_FAILURE() << name << " has no rows in the authorisation matrix";
      continue;
    }
    std::set<std::string> callers;
    for (const Row& row : rows->second) {
      EXPECT_TRUE(Callers().count(row.caller)) << name << ": " << row.caller;
      callers.insert(row.caller);
    }
    for (const auto& [caller, spec] : Callers()) {
      EXPECT_TRUE(callers.count(caller))
          << name << " has no row for the caller '" << caller << "'";
    }
  }
  for (const auto& [name, rows] : Matrix()) {
    EXPECT_TRUE(served.count(name)) << "rows for an RPC not served: " << name;
  }
  EXPECT_GE(served.size(), 4u);
}

// The tokens every server here knows.
std::string TokensFile() {
  return *TokensFileLine("tok-ics", "ics:QKK", "SEL lead") + "\n" +
         *TokensFileLine("tok-region", "region:Y56", "London") + "\n" +
         *TokensFileLine("tok-national", "national", "") + "\n";
}

// Runs `rows` of `rpc` against `stubs_for` (the stubs for a caller), or
// skips a row when `stubs_for` returns nullptr.
void RunRows(const std::function<Stubs*(const CallerSpec&)>& stubs_for,
             bool loopback) {
  int checked = 0;
  for (const auto* rpc : ServedRpcs()) {
    const std::string& name = rpc->full_name();
    auto rows = Matrix().find(name);
    auto invoke = Invokers().find(name);
    if (rows == Matrix().end() || invoke == Invokers().end()) continue;
    for (const Row& row : rows->second) {
      const CallerSpec& caller = Callers().at(row.caller);
      Stubs* stubs = stubs_for(caller);
      if (stubs == nullptr) continue;
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
      if (!caller.token.empty()) {
        ctx.AddMetadata("authorization", "Bearer " + caller.token);
      }
      grpc::Status status = invoke->second(*stubs, ctx, row.request);
      const std::string where = name + " by " + row.caller + " for scope '" +
                                row.request.scope + "' by '" + row.request.by +
                                "' trust '" + row.request.trust + "'" +
                                (loopback ? " on loopback" : " over TLS");
      const Code expected =
          loopback && row.on_loopback ? *row.on_loopback : row.expected;
      const std::string message =
          loopback && row.on_loopback ? "" : row.message;
      ++checked;
      EXPECT_EQ(status.error_code(), expected)
          << where << ": " << status.error_message();
      EXPECT_THAT(status.error_message(), HasSubstr(message)) << where;
    }
  }
  EXPECT_GT(checked, 0);
}

// The Query and Ingest services with an Authz for TLS, behind SSL server
// credentials that verify a client certificate when one is presented.
class AuthzMatrixOverTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SummaryStore::Open(dir_.File("db"), {});
    OHFED_ASSERT_OK(store);
    store_ = std::move(*store);
    auto tokens =
        TokenTable::Parse(TokensFile(), "tokens", store_->registry().Latest());
    OHFED_ASSERT_OK(tokens);
    tokens_.Replace(std::move(*tokens));
    authz_ = std::make_unique<Authz>(
        AuthzOptions{.tokens = &tokens_, .insecure = false},
        &store_->registry().Latest());
    query_ = std::make_unique<QueryService>(store_.get(), Clock::Real(),
                                            authz_.get());
    ingest_ = std::make_unique<IngestService>(store_.get());
    ingest_->set_authz(authz_.get());

    grpc::SslServerCredentialsOptions ssl(
        GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = ca_.cert_pem();
    KeyPair server = ca_.Server();
    ssl.pem_key_cert_pairs.push_back({server.key_pem, server.cert_pem});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl),
                             &port_);
    builder.RegisterService(query_.get());
    builder.RegisterService(ingest_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // A channel presenting the caller's certificate, if any.
  Stubs* StubsFor(const CallerSpec& caller) {
    std::string key = caller.certificate + (caller.other_ca ? "/other" : "") +
                      (caller.expired ? "/expired" : "");
    auto it = stubs_.find(key);
    if (it != stubs_.end()) return &it->second;
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca_.cert_pem();
    if (!caller.certificate.empty()) {
      KeyPair pair = caller.other_ca
                         ? other_ca_.Client(caller.certificate)
                         : ca_.Client(caller.certificate, caller.expired);
      ssl.pem_cert_chain = pair.cert_pem;
      ssl.pem_private_key = pair.key_pem;
    }
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_),
                                       grpc::SslCredentials(ssl));
    Stubs& stubs = stubs_[key];
    stubs.query = v1::Query::NewStub(channel);
    stubs.ingest = v1::Ingest::NewStub(channel);
    return &stubs;
  }

  TempDir dir_;
  TestCa ca_{"ohfed test CA"};
  TestCa other_ca_{"some other CA"};
  std::unique_ptr<SummaryStore> store_;
  ReloadableTokens tokens_;
  std::unique_ptr<Authz> authz_;
  std::unique_ptr<QueryService> query_;
  std::unique_ptr<IngestService> ingest_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::map<std::string, Stubs> stubs_;
};

TEST_F(AuthzMatrixOverTlsTest, EveryRpcEveryCaller) {
  RunRows([this](const CallerSpec& c) { return StubsFor(c); },
          /*loopback=*/false);
}

// The token rows against a real Aggregator on --insecure loopback with a
// tokens file: tokens are required there too.
TEST(AuthzMatrixOnLoopbackTest, EveryRpcEveryTokenCaller) {
  TempDir dir;
  AggregatorOptions options =
      ::ohfed::aggregator::testing::LoopbackOptions(dir.File("db"));
  options.tokens_file = dir.Write("tokens", TokensFile());
  auto aggregator = Aggregator::Start(options);
  OHFED_ASSERT_OK(aggregator);
  auto channel = MakeChannel((*aggregator)->address(), {.insecure = true});
  OHFED_ASSERT_OK(channel);
  Stubs stubs{v1::Query::NewStub(*channel), v1::Ingest::NewStub(*channel)};
  RunRows(
      [&](const CallerSpec& c) {
        return c.certificate.empty() ? &stubs : nullptr;  // plaintext
      },
      /*loopback=*/true);
}

// Without a tokens file an --insecure aggregator is open, as before issue
// 9: anyone on loopback may query anything and submit.
TEST(AuthzOpenModeTest, InsecureWithoutTokensAnswersEveryone) {
  TempDir dir;
  AggregatorOptions options =
      ::ohfed::aggregator::testing::LoopbackOptions(dir.File("db"));
  auto aggregator = Aggregator::Start(options);
  OHFED_ASSERT_OK(aggregator);
  auto channel = MakeChannel((*aggregator)->address(), {.insecure = true});
  OHFED_ASSERT_OK(channel);
  Stubs stubs{v1::Query::NewStub(*channel), v1::Ingest::NewStub(*channel)};
  for (const auto* rpc : ServedRpcs()) {
    auto invoke = Invokers().find(rpc->full_name());
    if (invoke == Invokers().end()) continue;  // MatrixCoversEveryRpc fails
    grpc::ClientContext ctx;
    grpc::Status status =
        invoke->second(stubs, ctx, Request{"national", "trust", "RJ1"});
    EXPECT_TRUE(status.ok())
        << rpc->full_name() << ": " << status.error_message();
  }
}

}  // namespace
}  // namespace ohfed::aggregator
