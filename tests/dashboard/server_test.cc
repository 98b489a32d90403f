// The dashboard server (dashboard/server.h) against a real aggregator and a
// real HTTP client: sign-in, sessions and their cookie, bearer tokens,
// client certificates, and scope (an ICS lead cannot open another ICS).
#include "dashboard/server.h"

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "aggregator/aggregator.h"
#include "common/token.h"
#include "tests/testing/test_certs.h"
#include "tests/testing/testing.h"

namespace ohfed::dashboard {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct Token {
  std::string text;
  std::string line;
};

Token MakeToken(const std::string& scope, const std::string& name) {
  Token t;
  t.text = *NewToken();
  t.line = *TokensFileLine(t.text, scope, name);
  return t;
}

httplib::Headers Bearer(const std::string& token) {
  return {{"Authorization", absl::StrCat("Bearer ", token)}};
}

// The value of the response's session cookie, or "".
std::string SessionOf(const httplib::Result& r) {
  std::string cookie = r->get_header_value("Set-Cookie");
  size_t eq = cookie.find('='), semi = cookie.find(';');
  if (eq == std::string::npos) return "";
  return cookie.substr(eq + 1, semi - eq - 1);
}

class DashboardServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    national_ = MakeToken("national", "CMO");
    humber_ = MakeToken("ics:QOQ", "Humber lead");
    const std::string tokens = dir_.Write(
        "tokens", absl::StrCat(national_.line, "\n", humber_.line, "\n"));
    aggregator::AggregatorOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.File("data");
    options.insecure = true;
    options.tokens_file = tokens;
    options.store.clock = &clock_;
    Start(options);
  }

  void Start(aggregator::AggregatorOptions options,
             DashboardOptions dashboard = {}) {
    auto a = aggregator::Aggregator::Start(options);
    ASSERT_THAT(a, testing::IsOk());
    aggregator_ = std::move(*a);
    dashboard.address = "127.0.0.1:0";
    dashboard.insecure = options.insecure;
    dashboard.tls_cert = options.tls_cert;
    dashboard.tls_key = options.tls_key;
    dashboard.tls_ca = options.tls_ca;
    auto d = DashboardServer::Start(dashboard, &aggregator_->store(),
                                    &aggregator_->authz(), &clock_);
    ASSERT_THAT(d, testing::IsOk());
    server_ = std::move(*d);
  }

  httplib::Client Client() {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_connection_timeout(10);
    c.set_read_timeout(30);
    return c;
  }

  httplib::Result Get(const std::string& path, httplib::Headers h = {}) {
    return Client().Get(path.c_str(), h);
  }

  httplib::Result SignIn(const std::string& token, httplib::Headers h = {}) {
    return Client().Post("/login", h, absl::StrCat("token=", token),
                         "application/x-www-form-urlencoded");
  }

  testing::TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1793000000)};  // 2026-10-26
  Token national_, humber_;
  std::unique_ptr<aggregator::Aggregator> aggregator_;
  std::unique_ptr<DashboardServer> server_;
};

TEST_F(DashboardServerTest, NobodyIsSentToTheLoginPage) {
  for (const char* path : {"/", "/scope/national", "/scope/ics/QOQ"}) {
    httplib::Result r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 303) << path;
    EXPECT_EQ(r->get_header_value("Location"), "/login") << path;
  }
  httplib::Result csv = Get("/scope/national/workforce.csv");
  ASSERT_TRUE(csv);
  EXPECT_EQ(csv->status, 401);
  httplib::Result login = Get("/login");
  ASSERT_TRUE(login);
  EXPECT_EQ(login->status, 200);
  EXPECT_THAT(login->body, HasSubstr("<form method=\"post\""));
  EXPECT_THAT(login->get_header_value("Content-Security-Policy"),
              HasSubstr("default-src 'none'"));
}

TEST_F(DashboardServerTest, BearerTokenOpensItsScope) {
  httplib::Result root = Get("/", Bearer(national_.text));
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 303);
  EXPECT_THAT(root->get_header_value("Location"),
              StartsWith("/scope/national?period="));
  httplib::Result page =
      Get("/scope/national?period=2026-09", Bearer(national_.text));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200) << page->body;
  EXPECT_THAT(page->body, HasSubstr("<h1>England"));
  EXPECT_THAT(page->body, HasSubstr("id=\"reporting-status\""));
  // National sees every unit.
  for (const char* path :
       {"/scope/region/Y56", "/scope/ics/QKK", "/scope/trust/RJ1"}) {
    httplib::Result r = Get(path, Bearer(national_.text));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << path;
  }
}

TEST_F(DashboardServerTest, AnIcsTokenCannotOpenAnotherIcs) {
  for (const char* path :
       {"/scope/ics/QKK", "/scope/ics/QKK/workforce.csv", "/scope/national",
        "/scope/national/workforce.csv", "/scope/region/Y63",
        "/scope/trust/RJ1", "/scope/trust/RJ1/workforce.csv"}) {
    httplib::Result r = Get(path, Bearer(humber_.text));
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 403) << path;
    EXPECT_THAT(r->body, HasSubstr("Not in your scope")) << path;
    EXPECT_THAT(r->body, HasSubstr("ics:QOQ")) << path;
  }
  for (const char* path : {"/scope/ics/QOQ", "/scope/trust/RCB"}) {
    httplib::Result r = Get(path, Bearer(humber_.text));
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    // The breadcrumb names England and the region but links only where the
    // lead may go.
    EXPECT_THAT(r->body, HasSubstr("<li><span>England</span></li>")) << path;
    EXPECT_THAT(r->body, Not(HasSubstr("href=\"&#x2F;scope&#x2F;national")))
        << path;
    EXPECT_THAT(r->body, Not(HasSubstr("href=\"&#x2F;scope&#x2F;region")))
        << path;
  }
  httplib::Result trust = Get("/scope/trust/RCB", Bearer(humber_.text));
  ASSERT_TRUE(trust);
  EXPECT_THAT(trust->body, HasSubstr("href=\"&#x2F;scope&#x2F;ics&#x2F;QOQ"));
}

TEST_F(DashboardServerTest, AnUnknownBearerIsRefusedWithoutEcho) {
  httplib::Result r = Get("/scope/national", Bearer("ohfed_not-a-real-one"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_THAT(r->body, HasSubstr("unknown bearer token"));
  EXPECT_THAT(r->body, Not(HasSubstr("not-a-real-one")));
}

TEST_F(DashboardServerTest, SignInSetsAStrictHttpOnlySessionCookie) {
  httplib::Result in = SignIn(humber_.text);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->status, 303);
  EXPECT_THAT(in->get_header_value("Location"),
              StartsWith("/scope/ics/QOQ?period="));
  const std::string cookie = in->get_header_value("Set-Cookie");
  EXPECT_THAT(cookie, StartsWith("ohfed_session="));
  EXPECT_THAT(cookie, HasSubstr("; HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("; SameSite=Strict"));
  EXPECT_THAT(cookie, HasSubstr("; Path=/"));
  EXPECT_THAT(cookie, Not(HasSubstr("Secure")));  // plain HTTP on loopback
  EXPECT_THAT(cookie, Not(HasSubstr(humber_.text)));

  const httplib::Headers session = {
      {"Cookie", absl::StrCat("ohfed_session=", SessionOf(in))}};
  httplib::Result page = Get("/scope/ics/QOQ", session);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("Sign out"));
  EXPECT_THAT(page->body, Not(HasSubstr(humber_.text)));
  httplib::Result other = Get("/scope/ics/QKK", session);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403);

  httplib::Result out = Client().Post("/logout", session, "", "text/plain");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 303);
  EXPECT_THAT(out->get_header_value("Set-Cookie"), HasSubstr("Max-Age=0"));
  httplib::Result after = Get("/scope/ics/QOQ", session);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 303);
  EXPECT_EQ(after->get_header_value("Location"), "/login");
}

TEST_F(DashboardServerTest, ASessionEndsAtItsLifetime) {
  httplib::Result in = SignIn(national_.text);
  ASSERT_TRUE(in);
  const httplib::Headers session = {
      {"Cookie", absl::StrCat("ohfed_session=", SessionOf(in))}};
  clock_.Advance(absl::Hours(8));
  httplib::Result r = Get("/scope/national", session);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 303);
}

TEST_F(DashboardServerTest, AWrongTokenStaysOnTheLoginPage) {
  httplib::Result r = SignIn("ohfed_wrong-token-text");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_THAT(r->body, HasSubstr("unknown token"));
  EXPECT_THAT(r->body, Not(HasSubstr("wrong-token-text")));
  EXPECT_TRUE(r->get_header_value("Set-Cookie").empty());
}

TEST_F(DashboardServerTest, ASignInFromAnotherSiteIsRefused) {
  httplib::Result r =
      SignIn(national_.text, {{"Origin", "http://evil.example"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_TRUE(r->get_header_value("Set-Cookie").empty());
  httplib::Result same =
      SignIn(national_.text,
             {{"Origin", absl::StrCat("http://127.0.0.1:", server_->port())}});
  ASSERT_TRUE(same);
  EXPECT_EQ(same->status, 303);
  httplib::Result fetched = SignIn(
      national_.text, {{"Origin", "null"}, {"Sec-Fetch-Site", "cross-site"}});
  ASSERT_TRUE(fetched);
  EXPECT_EQ(fetched->status, 403);
  // A browser that hides the origin (Origin: null) but says it is this site.
  httplib::Result hidden = SignIn(
      national_.text, {{"Origin", "null"}, {"Sec-Fetch-Site", "same-origin"}});
  ASSERT_TRUE(hidden);
  EXPECT_EQ(hidden->status, 303);
}

TEST_F(DashboardServerTest, BadPeriodsAndUnknownUnitsAreClearErrors) {
  httplib::Result bad =
      Get("/scope/national?period=2026-13", Bearer(national_.text));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_THAT(bad->body, HasSubstr("2026-13"));
  httplib::Result unknown = Get("/scope/ics/ZZZ", Bearer(national_.text));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  httplib::Result nowhere = Get("/nowhere", Bearer(national_.text));
  ASSERT_TRUE(nowhere);
  EXPECT_EQ(nowhere->status, 404);
  EXPECT_THAT(nowhere->body, HasSubstr("Not found"));
}

TEST(DashboardStartTest, PlainHttpOnlyOnLoopbackAndOnlyWithTokens) {
  testing::TempDir dir;
  aggregator::AggregatorOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir.File("data");
  options.insecure = true;
  auto a = aggregator::Aggregator::Start(options);
  ASSERT_THAT(a, testing::IsOk());
  EXPECT_THAT(ServeDashboard("0.0.0.0:0", options, **a, Clock::Real()),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                "loopback addresses only"));
  EXPECT_THAT(
      ServeDashboard("127.0.0.1:0", options, **a, Clock::Real()),
      testing::StatusIs(absl::StatusCode::kInvalidArgument, "needs --tokens"));
  EXPECT_THAT(ServeDashboard("127.0.0.1", options, **a, Clock::Real()),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                "expected HOST:PORT"));
  auto none = ServeDashboard("", options, **a, Clock::Real());
  ASSERT_THAT(none, testing::IsOk());
  EXPECT_EQ(*none, nullptr);
}

class DashboardTlsTest : public DashboardServerTest {
 protected:
  void SetUp() override {
    national_ = MakeToken("national", "CMO");
    humber_ = MakeToken("ics:QOQ", "Humber lead");
    testing::KeyPair server = ca_.Server();
    aggregator::AggregatorOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.File("data");
    options.tokens_file = dir_.Write(
        "tokens", absl::StrCat(national_.line, "\n", humber_.line, "\n"));
    options.tls_ca = dir_.Write("ca.pem", ca_.cert_pem());
    options.tls_cert = dir_.Write("server.pem", server.cert_pem);
    options.tls_key = dir_.Write("server.key", server.key_pem);
    options.store.clock = &clock_;
    // Re-read the certificate on every handshake.
    Start(options, DashboardOptions{.cert_refresh = absl::ZeroDuration()});
  }

  // A client presenting a certificate with common name `cn` (none if
  // empty), signed by `ca`.
  std::unique_ptr<httplib::SSLClient> TlsClient(
      const std::string& cn, testing::TestCa* ca,
      const std::string& trusted = "ca.pem") {
    std::unique_ptr<httplib::SSLClient> c;
    if (cn.empty()) {
      c = std::make_unique<httplib::SSLClient>("127.0.0.1", server_->port());
    } else {
      testing::KeyPair kp = ca->Client(cn);
      c = std::make_unique<httplib::SSLClient>(
          "127.0.0.1", server_->port(), dir_.Write(cn + ".pem", kp.cert_pem),
          dir_.Write(cn + ".key", kp.key_pem));
    }
    c->set_ca_cert_path(dir_.File(trusted).c_str());
    c->enable_server_certificate_verification(true);
    c->set_connection_timeout(10);
    c->set_read_timeout(30);
    return c;
  }

  testing::TestCa ca_{"dashboard test CA"};
};

TEST_F(DashboardTlsTest, CookieIsSecureAndBearerWorks) {
  EXPECT_THAT(server_->url(), StartsWith("https://127.0.0.1:"));
  auto client = TlsClient("", nullptr);
  httplib::Result in =
      client->Post("/login", absl::StrCat("token=", national_.text),
                   "application/x-www-form-urlencoded");
  ASSERT_TRUE(in) << httplib::to_string(in.error());
  EXPECT_EQ(in->status, 303);
  EXPECT_THAT(in->get_header_value("Set-Cookie"), HasSubstr("; Secure"));
  httplib::Result page = client->Get("/scope/ics/QOQ", Bearer(humber_.text));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  httplib::Result nobody = client->Get("/scope/ics/QOQ");
  ASSERT_TRUE(nobody);
  EXPECT_EQ(nobody->status, 303);
}

TEST_F(DashboardTlsTest, AClientCertificateIdentifiesItsHolder) {
  auto region = TlsClient("region:Y63", &ca_);
  httplib::Result root = region->Get("/");
  ASSERT_TRUE(root) << httplib::to_string(root.error());
  EXPECT_EQ(root->status, 303);
  EXPECT_THAT(root->get_header_value("Location"),
              StartsWith("/scope/region/Y63?period="));
  httplib::Result own = region->Get("/scope/ics/QOQ");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 200);
  httplib::Result other = region->Get("/scope/region/Y56");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403);

  // A trust's agent certificate submits; it does not read the dashboard.
  auto trust = TlsClient("trust:RCB", &ca_);
  httplib::Result t = trust->Get("/scope/trust/RCB");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->status, 403);
  EXPECT_THAT(t->body, HasSubstr("may submit for its trust but not query"));

  // One from another CA fails the handshake.
  testing::TestCa stranger("stranger CA");
  auto forged = TlsClient("national", &stranger);
  EXPECT_FALSE(forged->Get("/scope/national"));
}

TEST_F(DashboardTlsTest, ARenewedCertificateIsServedWithoutARestart) {
  testing::TestCa next("next CA");
  testing::KeyPair renewed = next.Server();
  dir_.Write("next-ca.pem", next.cert_pem());
  // The key lands first: a pair that does not match is skipped, and the
  // last good one is still served.
  dir_.Write("server.key", renewed.key_pem);
  httplib::Result old = TlsClient("", nullptr)->Get("/login");
  ASSERT_TRUE(old) << httplib::to_string(old.error());
  EXPECT_EQ(old->status, 200);

  dir_.Write("server.pem", renewed.cert_pem);
  httplib::Result fresh = TlsClient("", nullptr, "next-ca.pem")->Get("/login");
  ASSERT_TRUE(fresh) << httplib::to_string(fresh.error());
  EXPECT_EQ(fresh->status, 200);
  EXPECT_FALSE(TlsClient("", nullptr)->Get("/login"));  // the old CA's
}

}  // namespace
}  // namespace ohfed::dashboard
