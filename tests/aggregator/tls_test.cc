// Mutual TLS between agents and aggregators with certificates made by the
// real deploy/dev-certs.sh, over loopback (SPEC §8, issue 9): who may submit
// for which trust, who cannot connect at all, a federation agent -> regional
// -> national, and certificate rotation under a live Submit stream.
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "agent/agent.h"
#include "aggregator/aggregator.h"
#include "cli/agent_client.h"
#include "common/transport.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/certs.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::Summary;
using ::ohfed::testing::IsOk;
using ::ohfed::testing::MakeDevCerts;
using ::ohfed::testing::StatusIs;
using ::ohfed::testing::TempDir;
using ::ohfed::testing::Tls;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const char kWte[] = "staffing.wte.admin";

template <typename F>
bool Eventually(F f, absl::Duration limit = absl::Seconds(20)) {
  const absl::Time end = absl::Now() + limit;
  while (absl::Now() < end) {
    if (f()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return f();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Submitted {
  grpc::Status status;
  std::vector<v1::Ack> acks;
};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OHFED_ASSERT_OK(MakeDevCerts(certs_, {"RJ1", "RV5"}));
  }

  // An aggregator serving with DIR/server.pem; with an upstream, presenting
  // `upstream_identity` (e.g. "regional-Y56") to it.
  std::unique_ptr<Aggregator> Start(const std::string& name,
                                    const std::string& upstream = "",
                                    const std::string& upstream_identity = "",
                                    const std::string& covers = "",
                                    const std::string& server_dir = "",
                                    int refresh_seconds = 60) {
    const std::string dir = server_dir.empty() ? certs_ : server_dir;
    AggregatorOptions o;
    o.listen = "127.0.0.1:0";
    o.data_dir = dir_.File(name);
    o.upstream = upstream;
    o.covers = covers;
    o.tls_cert = dir + "/server.pem";
    o.tls_key = dir + "/server.key";
    o.tls_ca = dir + "/ca.pem";
    o.cert_refresh_seconds = refresh_seconds;
    if (!upstream_identity.empty()) {
      o.upstream_tls_cert = certs_ + "/" + upstream_identity + ".pem";
      o.upstream_tls_key = certs_ + "/" + upstream_identity + ".key";
    }
    o.uploader.initial_backoff = absl::Milliseconds(20);
    o.uploader.max_backoff = absl::Milliseconds(200);
    o.uploader.idle_poll = absl::Milliseconds(100);
    auto a = Aggregator::Start(o);
    EXPECT_THAT(a, IsOk());
    return a.ok() ? std::move(*a) : nullptr;
  }

  // One batch on one Submit stream over `transport`.
  Submitted Submit(Aggregator& a, const TransportOptions& transport,
                   std::vector<v1::UnitSummary> batch) {
    auto channel = MakeChannel(a.address(), transport);
    EXPECT_THAT(channel, IsOk());
    return SubmitOn(*channel, std::move(batch));
  }

  Submitted SubmitOn(std::shared_ptr<grpc::Channel> channel,
                     std::vector<v1::UnitSummary> batch) {
    auto stub = v1::Ingest::NewStub(channel);
    v1::SubmitRequest req;
    for (auto& s : batch) *req.add_summaries() = std::move(s);
    std::vector<v1::SubmitResponse> responses;
    Submitted out;
    out.status =
        ::ohfed::aggregator::testing::SendBatches(*stub, {req}, &responses);
    for (const auto& r : responses) {
      out.acks.insert(out.acks.end(), r.acks().begin(), r.acks().end());
    }
    return out;
  }

  std::vector<std::string> Held(Aggregator& a) {
    std::vector<std::string> ids;
    for (const auto& [id, revision] : a.store().HeldRevisions())
      ids.push_back(id);
    return ids;
  }

  // The held revision of unit `id` ("RJ1/2026-03"), 0 if none.
  static uint64_t Revision(Aggregator& a, const std::string& id) {
    for (const auto& [unit, revision] : a.store().HeldRevisions()) {
      if (unit == id) return revision;
    }
    return 0;
  }

  TempDir dir_;
  const std::string certs_ = dir_.File("certs");
};

TEST_F(TlsTest, TrustCertificateSubmitsOnlyForItsOwnTrust) {
  auto a = Start("agg");
  Submitted r = Submit(*a, Tls(certs_, "trust-RJ1"),
                       {Summary("RJ1", "2026-03", 1, {{kWte, 2}}),
                        Summary("RV5", "2026-03", 1, {{kWte, 3}})});
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_EQ(r.acks.size(), 2u);
  for (const v1::Ack& ack : r.acks) {
    if (ack.trust() == "RV5") {
      EXPECT_EQ(ack.outcome(), v1::OUTCOME_REJECTED);
      EXPECT_EQ(ack.reason(), "certificate trust:RJ1 may not submit for RV5");
    } else {
      EXPECT_EQ(ack.outcome(), v1::OUTCOME_ACCEPTED);
    }
  }
  EXPECT_EQ(Held(*a), std::vector<std::string>{"RJ1/2026-03"});
}

TEST_F(TlsTest, RegionalCertificateSubmitsOnlyForTrustsOfItsRegion) {
  auto a = Start("agg");
  // RJ1 is a London (Y56) trust.
  Submitted other = Submit(*a, Tls(certs_, "regional-Y58"),
                           {Summary("RJ1", "2026-03", 1, {{kWte, 2}})});
  ASSERT_EQ(other.acks.size(), 1u);
  EXPECT_EQ(other.acks[0].outcome(), v1::OUTCOME_REJECTED);
  EXPECT_THAT(other.acks[0].reason(),
              HasSubstr("certificate region:Y58 may not submit for RJ1, a "
                        "trust of region Y56"));
  EXPECT_THAT(Held(*a), IsEmpty());
  Submitted own = Submit(*a, Tls(certs_, "regional-Y56"),
                         {Summary("RJ1", "2026-03", 1, {{kWte, 2}})});
  ASSERT_EQ(own.acks.size(), 1u);
  EXPECT_EQ(own.acks[0].outcome(), v1::OUTCOME_ACCEPTED);
}

// The national aggregator forwards nowhere; its certificate must not write.
TEST_F(TlsTest, NationalCertificateMayNotSubmit) {
  auto a = Start("agg");
  Submitted r = Submit(*a, Tls(certs_, "national"),
                       {Summary("RJ1", "2026-03", 1, {{kWte, 2}})});
  ASSERT_EQ(r.acks.size(), 1u);
  EXPECT_EQ(r.acks[0].outcome(), v1::OUTCOME_REJECTED);
  EXPECT_THAT(r.acks[0].reason(),
              HasSubstr("certificate national may not submit for RJ1"));
  EXPECT_THAT(Held(*a), IsEmpty());
}

// A certificate of the right CA whose name is no ohfed identity.
TEST_F(TlsTest, CertificateWithoutAnIdentityIsRefused) {
  auto a = Start("agg");
  Submitted r = Submit(*a, Tls(certs_, "server"),
                       {Summary("RJ1", "2026-03", 1, {{kWte, 2}})});
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(r.status.error_message(), HasSubstr("is not an ohfed identity"));
  EXPECT_THAT(Held(*a), IsEmpty());
}

int64_t FirstReceived(Aggregator& a, const std::string& trust) {
  return a.store().Read([&](const View& v) -> int64_t {
    const HeldUnit* u = v.Unit(trust, "2026-03");
    return u == nullptr ? -1 : u->first_received_unix_ms;
  });
}

// Before, any sender could backdate a unit's first receipt (and so make it
// on time); only a forwarding regional aggregator's receipt time counts.
TEST_F(TlsTest, FirstReceiptIsHonouredOnlyFromARegionalCertificate) {
  auto a = Start("agg");
  const int64_t early = absl::ToUnixMillis(absl::Now() - absl::Hours(24 * 30));
  v1::UnitSummary from_trust = Summary("RJ1", "2026-03", 1, {{kWte, 2}});
  from_trust.set_first_received_unix_ms(early);
  v1::UnitSummary forwarded = Summary("RV5", "2026-03", 1, {{kWte, 2}});
  forwarded.set_first_received_unix_ms(early);
  const int64_t before = absl::ToUnixMillis(absl::Now());
  ASSERT_EQ(Submit(*a, Tls(certs_, "trust-RJ1"), {from_trust}).acks.size(), 1u);
  ASSERT_EQ(Submit(*a, Tls(certs_, "regional-Y56"), {forwarded}).acks.size(),
            1u);
  EXPECT_GE(FirstReceived(*a, "RJ1"), before);
  EXPECT_EQ(FirstReceived(*a, "RV5"), early);
}

grpc::Status Feedback(Aggregator& a, const TransportOptions& t,
                      const std::string& trust) {
  auto stub = v1::Ingest::NewStub(*MakeChannel(a.address(), t));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::FeedbackRequest req;
  req.set_trust(trust);
  v1::FeedbackResponse resp;
  return stub->Feedback(&ctx, req, &resp);
}

TEST_F(TlsTest, FeedbackAnswersOnlyForTheCallersTrustsOrRegion) {
  auto a = Start("agg");
  EXPECT_TRUE(Feedback(*a, Tls(certs_, "trust-RJ1"), "RJ1").ok());
  grpc::Status other = Feedback(*a, Tls(certs_, "trust-RJ1"), "RV5");
  EXPECT_EQ(other.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(other.error_message(),
              HasSubstr("caller scope trust:RJ1 does not cover trust:RV5"));
  EXPECT_TRUE(Feedback(*a, Tls(certs_, "regional-Y56"), "RV5").ok());
  EXPECT_EQ(Feedback(*a, Tls(certs_, "regional-Y58"), "RV5").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// A certificate from another CA, or an expired one: the handshake fails,
// nothing reaches the service.
TEST_F(TlsTest, CallersWithAnInvalidCertificateCannotConnect) {
  auto a = Start("agg");
  std::vector<std::pair<std::string, std::shared_ptr<grpc::Channel>>> callers;
  // Another CA's trust:RJ1 (the server is still checked against ours).
  const std::string other = dir_.File("other");
  OHFED_ASSERT_OK(MakeDevCerts(other, {"RJ1"}));
  TransportOptions foreign = Tls(certs_, "trust-RJ1");
  foreign.cert_file = other + "/trust-RJ1.pem";
  foreign.key_file = other + "/trust-RJ1.key";
  callers.push_back({"another CA", *MakeChannel(a->address(), foreign)});
  // Our CA, trust:RJ1, expired.
  OHFED_ASSERT_OK(
      ::ohfed::testing::MakeExpiredCert(certs_, "expired", "trust:RJ1"));
  callers.push_back(
      {"expired", *MakeChannel(a->address(), Tls(certs_, "expired"))});
  for (auto& [who, channel] : callers) {
    Submitted r =
        SubmitOn(channel, {Summary("RJ1", "2026-03", 1, {{kWte, 2}})});
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << who;
    EXPECT_THAT(r.acks, IsEmpty()) << who;
  }
  EXPECT_THAT(Held(*a), IsEmpty());
  // The same call with a valid certificate goes through.
  EXPECT_EQ(Submit(*a, Tls(certs_, "trust-RJ1"),
                   {Summary("RJ1", "2026-03", 1, {{kWte, 2}})})
                .acks.size(),
            1u);
}

// TLS without a client certificate connects (bearer-token query callers
// do) but may neither submit nor ask Feedback.
TEST_F(TlsTest, NoClientCertificateMayNotSubmit) {
  auto a = Start("agg");
  TransportOptions anonymous{.ca_file = certs_ + "/ca.pem"};
  Submitted r =
      Submit(*a, anonymous, {Summary("RJ1", "2026-03", 1, {{kWte, 2}})});
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(r.status.error_message(), HasSubstr("client certificate"));
  EXPECT_THAT(r.acks, IsEmpty());
  EXPECT_THAT(Held(*a), IsEmpty());
  EXPECT_EQ(Feedback(*a, anonymous, "RJ1").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

// The server's certificate as a client of `a` sees it, on a new connection.
std::string ServerCertificateSeen(Aggregator& a, const TransportOptions& t) {
  auto stub = v1::Ingest::NewStub(*MakeChannel(a.address(), t));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::FeedbackRequest req;
  req.set_trust("RJ1");
  v1::FeedbackResponse resp;
  if (!stub->Feedback(&ctx, req, &resp).ok()) return "";
  auto pems =
      ctx.auth_context()->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  return pems.empty() ? "" : std::string(pems[0].data(), pems[0].size());
}

void Replace(const std::string& from, const std::string& to) {
  std::filesystem::copy_file(from, to + ".new",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(to + ".new", to);
}

// Renewed certificate files are picked up without a restart: a Submit
// stream open across the renewal keeps working, and a new connection is
// served with the new certificate.
TEST_F(TlsTest, CertificateRotationUnderALiveStream) {
  const std::string live = dir_.File("live");
  std::filesystem::create_directories(live);
  for (const char* f : {"ca.pem", "server.pem", "server.key"}) {
    std::filesystem::copy_file(certs_ + "/" + f, live + "/" + f);
  }
  auto a = Start("agg", "", "", "", live, /*refresh_seconds=*/1);
  const TransportOptions rj1 = Tls(certs_, "trust-RJ1");
  const std::string old_pem = ReadFile(live + "/server.pem");
  ASSERT_EQ(ServerCertificateSeen(*a, rj1), old_pem);

  auto channel = *MakeChannel(a->address(), rj1);
  auto stub = v1::Ingest::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = stub->Submit(&ctx);
  auto send = [&](uint64_t revision) {
    v1::SubmitRequest req;
    *req.add_summaries() = Summary("RJ1", "2026-03", revision, {{kWte, 2}});
    v1::SubmitResponse resp;
    if (!stream->Write(req) || !stream->Read(&resp))
      return v1::OUTCOME_UNSPECIFIED;
    return resp.acks_size() == 1 ? resp.acks(0).outcome()
                                 : v1::OUTCOME_UNSPECIFIED;
  };
  ASSERT_EQ(send(1), v1::OUTCOME_ACCEPTED);

  // A renewed server certificate from the same CA (new key, new serial).
  const std::string renewed = dir_.File("renewed");
  std::filesystem::create_directories(renewed);
  for (const char* f : {"ca.pem", "ca.key"}) {
    std::filesystem::copy_file(certs_ + "/" + f, renewed + "/" + f);
  }
  OHFED_ASSERT_OK(MakeDevCerts(renewed, {}));
  const std::string new_pem = ReadFile(renewed + "/server.pem");
  ASSERT_NE(new_pem, old_pem);
  Replace(renewed + "/server.key", live + "/server.key");
  Replace(renewed + "/server.pem", live + "/server.pem");

  EXPECT_TRUE(
      Eventually([&] { return ServerCertificateSeen(*a, rj1) == new_pem; }));
  EXPECT_EQ(send(2), v1::OUTCOME_ACCEPTED);  // the stream opened before
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(Revision(*a, "RJ1/2026-03"), 2u);
}

struct TestAgent {
  std::unique_ptr<agent::Agent> agent;
  std::unique_ptr<agent::AgentClient> client;
};

TEST_F(TlsTest, FederationAgentRegionalNational) {
  auto national = Start("national");
  auto regional =
      Start("regional", national->address(), "regional-Y56", "region:Y56");
  agent::AgentOptions o;
  o.trust = "RJ1";
  o.data_dir = dir_.File("agent");
  o.aggregator = regional->address();
  o.tls_cert = certs_ + "/trust-RJ1.pem";
  o.tls_key = certs_ + "/trust-RJ1.key";
  o.tls_ca = certs_ + "/ca.pem";
  o.uploader.initial_backoff = absl::Milliseconds(20);
  o.uploader.max_backoff = absl::Milliseconds(200);
  o.uploader.idle_poll = absl::Milliseconds(50);
  auto a = agent::Agent::Start(o);
  ASSERT_THAT(a, IsOk());
  auto client = agent::AgentClient::Connect((*a)->socket());
  ASSERT_THAT(client, IsOk());
  OHFED_ASSERT_OK(client->SetValue("2026-03", kWte, "2.5"));
  ASSERT_TRUE(
      Eventually([&] { return Revision(*national, "RJ1/2026-03") != 0; }));
  EXPECT_EQ(Revision(*national, "RJ1/2026-03"),
            Revision(*regional, "RJ1/2026-03"));
  // The regional's receipt time travelled with its regional certificate.
  EXPECT_EQ(FirstReceived(*national, "RJ1"), FirstReceived(*regional, "RJ1"));
}

// A regional aggregator that presents its serving certificate (no region)
// upstream gets nothing through.
TEST_F(TlsTest, UpstreamNeedsTheRegionalCertificate) {
  auto national = Start("national");
  auto regional = Start("regional", national->address(), "regional-Y58");
  Submit(*regional, Tls(certs_, "trust-RJ1"),
         {Summary("RJ1", "2026-03", 1, {{kWte, 2}})});
  ASSERT_TRUE(Eventually([&] {
    return !regional->forwarder()->RefusalReason("RJ1", "2026-03").empty();
  }));
  EXPECT_THAT(regional->forwarder()->RefusalReason("RJ1", "2026-03"),
              HasSubstr("certificate region:Y58 may not submit for RJ1"));
  EXPECT_THAT(Held(*national), IsEmpty());
}

TEST_F(TlsTest, AgentNeedsItsOwnCertificateOverTls) {
  agent::AgentOptions o;
  o.trust = "RJ1";
  o.data_dir = dir_.File("agent");
  o.aggregator = "127.0.0.1:1";
  o.tls_ca = certs_ + "/ca.pem";
  EXPECT_THAT(agent::Agent::Start(o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--tls-cert and --tls-key are required"));
}

TEST_F(TlsTest, AgentRefusesACertificateForAnotherTrust) {
  agent::AgentOptions o;
  o.trust = "RJ1";
  o.data_dir = dir_.File("agent");
  o.aggregator = "127.0.0.1:1";
  o.tls_cert = certs_ + "/trust-RV5.pem";
  o.tls_key = certs_ + "/trust-RV5.key";
  o.tls_ca = certs_ + "/ca.pem";
  EXPECT_THAT(agent::Agent::Start(o),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "--trust RJ1 but certificate " + o.tls_cert +
                           " is for 'trust:RV5'"));
}

TEST_F(TlsTest, MissingOrMismatchedFilesAreNamed) {
  TransportOptions t = Tls(certs_, "trust-RJ1");
  t.key_file = certs_ + "/absent.key";
  EXPECT_THAT(MakeChannel("127.0.0.1:1", t),
              StatusIs(absl::StatusCode::kNotFound,
                       "cannot read key " + certs_ + "/absent.key"));
  t.key_file = certs_ + "/trust-RV5.key";
  EXPECT_THAT(MakeChannel("127.0.0.1:1", t),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "key " + t.key_file + " does not match certificate"));
  t = Tls(certs_, "trust-RJ1");
  t.ca_file = "";
  EXPECT_THAT(
      MakeServerCredentials("127.0.0.1:0", t),
      StatusIs(absl::StatusCode::kInvalidArgument, "needs --tls-ca too"));
  t = Tls(certs_, "server");
  t.key_file = "";
  EXPECT_THAT(
      MakeChannel("127.0.0.1:1", t),
      StatusIs(absl::StatusCode::kInvalidArgument, "needs --tls-key too"));
  t.cert_file = "";
  EXPECT_THAT(
      MakeServerCredentials("127.0.0.1:0", t),
      StatusIs(absl::StatusCode::kInvalidArgument, "needs --tls-cert too"));
  OHFED_EXPECT_OK(MakeChannel("127.0.0.1:1", t));  // no client certificate
  t = Tls(certs_, "trust-RJ1");
  t.cert_file = certs_ + "/trust-RJ1.key";
  EXPECT_THAT(
      MakeChannel("127.0.0.1:1", t),
      StatusIs(absl::StatusCode::kInvalidArgument, "holds no PEM certificate"));
  EXPECT_THAT(MakeChannel("127.0.0.1:1", {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "no TLS files for 127.0.0.1:1"));
  t = Tls(certs_, "trust-RJ1");
  t.insecure = true;
  EXPECT_THAT(
      MakeChannel("127.0.0.1:1", t),
      StatusIs(absl::StatusCode::kInvalidArgument, "exclude each other"));
}

}  // namespace
}  // namespace ohfed::aggregator
