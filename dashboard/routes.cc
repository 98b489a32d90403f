#include "dashboard/routes.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/log.h"
#include "common/period.h"
#include "dashboard/pages.h"
#include "dashboard/store_source.h"

namespace ohfed::dashboard {
namespace {

constexpr char kCookie[] = "ohfed_session";
constexpr char kHtml[] = "text/html; charset=utf-8";
constexpr size_t kMaxPeriodText = 32;

// The verified client certificate's identity, as PeerIdentityOf answers a
// gRPC call: kUnauthenticated without one, kPermissionDenied when its name
// is not an ohfed identity. httplib has completed the handshake, so a
// certificate that is there was verified against the CA.
absl::StatusOr<PeerIdentity> PeerOf(const httplib::Request& req) {
  if (req.ssl == nullptr) return absl::UnauthenticatedError("plain HTTP");
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      SSL_get1_peer_certificate(req.ssl), X509_free);
  if (cert == nullptr || SSL_get_verify_result(req.ssl) != X509_V_OK) {
    return absl::UnauthenticatedError("no client certificate");
  }
  char cn[256];
  int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()),
                                    NID_commonName, cn, sizeof cn);
  if (n < 0) {
    return absl::PermissionDeniedError(
        "the client certificate has no common name");
  }
  absl::StatusOr<PeerIdentity> id =
      ParsePeerIdentity(absl::string_view(cn, static_cast<size_t>(n)));
  if (!id.ok()) return absl::PermissionDeniedError(id.status().message());
  return id;
}

std::string CookieValue(const httplib::Request& req, absl::string_view name) {
  auto [begin, end] = req.headers.equal_range("Cookie");
  for (auto it = begin; it != end; ++it) {
    for (absl::string_view part : absl::StrSplit(it->second, ';')) {
      std::pair<absl::string_view, absl::string_view> kv =
          absl::StrSplit(absl::StripAsciiWhitespace(part), '=');
      if (kv.first == name) return std::string(kv.second);
    }
  }
  return "";
}

HttpCredentials CredentialsOf(const httplib::Request& req) {
  HttpCredentials c;
  auto [begin, end] = req.headers.equal_range("Authorization");
  for (auto it = begin; it != end; ++it) c.authorization.push_back(it->second);
  c.session_id = CookieValue(req, kCookie);
  c.peer = PeerOf(req);
  return c;
}

int HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

const char* TitleOf(int status) {
  switch (status) {
    case 400:
      return "That request is not understood";
    case 401:
      return "Not signed in";
    case 403:
      return "Not in your scope";
    case 404:
      return "Not found";
    case 409:
      return "Not held by this aggregator";
    case 503:
      return "Taking too long";
    default:
      return "Something went wrong";
  }
}

// A POST from another site (a forged form) is refused; SameSite=Strict
// already keeps the cookie off it, this keeps the login form off it too.
// Browsers say where a request comes from in Sec-Fetch-Site; without it,
// the Origin must be this host's.
bool CrossSite(const httplib::Request& req) {
  const std::string site = req.get_header_value("Sec-Fetch-Site");
  if (!site.empty()) return site == "cross-site" || site == "same-site";
  const std::string origin = req.get_header_value("Origin");
  if (origin.empty()) return false;  // not a browser
  const std::string host = req.get_header_value("Host");
  return origin != absl::StrCat("http://", host) &&
         origin != absl::StrCat("https://", host);
}

// "national" from the route, or "region:CODE" etc.
absl::StatusOr<Scope> ScopeOfRoute(const std::string& text) {
  absl::StatusOr<Scope> scope = Scope::Parse(text);
  if (!scope.ok()) return scope.status();
  scope->code = absl::AsciiStrToUpper(scope->code);
  return scope;
}

// The scope a page path ("/scope/ics/QKK?period=...") shows, if it is one.
std::optional<Scope> ScopeOfPath(absl::string_view href) {
  href = href.substr(0, href.find('?'));
  std::vector<absl::string_view> parts = absl::StrSplit(href, '/');
  if (parts.size() == 3 && parts[1] == "scope" && parts[2] == "national") {
    return Scope::National();
  }
  if (parts.size() != 4 || parts[1] != "scope") return std::nullopt;
  absl::StatusOr<Scope> scope =
      ScopeOfRoute(absl::StrCat(parts[2], ":", parts[3]));
  if (!scope.ok()) return std::nullopt;
  return *scope;
}

const Table* FindTable(const Page& page, absl::string_view id) {
  for (const Section& s : page.sections) {
    for (const Table& t : s.tables) {
      if (t.id == id) return &t;
    }
  }
  return nullptr;
}

std::string CsvFileName(const Page& page, const std::string& table) {
  std::string scope =
      page.scope.level == Scope::Level::kNational
          ? std::string("england")
          : absl::StrCat(LevelName(page.scope.level), "-", page.scope.code);
  return absl::StrReplaceAll(
      absl::StrCat(scope, "-", page.period.ToString(), "-", table, ".csv"),
      {{":", "_"}, {"\"", ""}});
}

}  // namespace

void Routes::Register(httplib::Server& server) {
  server.Get("/", [this](const httplib::Request& req, httplib::Response& res) {
    Root(req, res);
  });
  server.Get("/login", [this](const httplib::Request& req,
                              httplib::Response& res) { LoginForm(req, res); });
  server.Post("/login", [this](const httplib::Request& req,
                               httplib::Response& res) { Login(req, res); });
  server.Post("/logout", [this](const httplib::Request& req,
                                httplib::Response& res) { Logout(req, res); });
  server.Get(R"(/scope/national)",
             [this](const httplib::Request& req, httplib::Response& res) {
               Scoped(req, res, "national", "");
             });
  server.Get(R"(/scope/national/([A-Za-z0-9_-]{1,64})\.csv)",
             [this](const httplib::Request& req, httplib::Response& res) {
               Scoped(req, res, "national", req.matches[1]);
             });
  server.Get(R"(/scope/(region|ics|trust)/([A-Za-z0-9]{1,16}))",
             [this](const httplib::Request& req, httplib::Response& res) {
               Scoped(req, res,
                      absl::StrCat(std::string(req.matches[1]), ":",
                                   std::string(req.matches[2])),
                      "");
             });
  server.Get(
      R"(/scope/(region|ics|trust)/([A-Za-z0-9]{1,16})/([A-Za-z0-9_-]{1,64})\.csv)",
      [this](const httplib::Request& req, httplib::Response& res) {
        Scoped(req, res,
               absl::StrCat(std::string(req.matches[1]), ":",
                            std::string(req.matches[2])),
               req.matches[3]);
      });
  server.set_error_handler(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return;
        Error(res, res.status, TitleOf(res.status),
              res.status == 404 ? "There is no dashboard page at this address."
                                : "The request could not be served.",
              nullptr);
      });
}

Chrome Routes::ChromeFor(const Visitor* visitor) const {
  Chrome chrome;
  chrome.latest = DefaultPeriod(clock_->Now()).last();
  if (visitor == nullptr ||
      visitor->caller.kind == aggregator::Caller::Kind::kNobody) {
    return chrome;
  }
  chrome.visitor = visitor->caller.describe;
  chrome.visitor_scope = visitor->caller.scope.ToString();
  chrome.signed_in = visitor->signed_in;
  chrome.home = PagePath(visitor->caller.scope, DefaultPeriod(clock_->Now()));
  return chrome;
}

void Routes::Error(httplib::Response& res, int status, absl::string_view title,
                   absl::string_view message, const Visitor* visitor) {
  res.status = status;
  res.set_content(RenderErrorHtml(status, title, message, ChromeFor(visitor)),
                  kHtml);
}

std::string Routes::SessionCookie(absl::string_view value,
                                  absl::Duration max_age, bool clear) const {
  return absl::StrCat(
      kCookie, "=", value,
      "; Path=/; Max-Age=", clear ? 0 : absl::ToInt64Seconds(max_age),
      "; HttpOnly; SameSite=Strict", options_.tls ? "; Secure" : "");
}

std::optional<Visitor> Routes::Identify(const httplib::Request& req,
                                        httplib::Response& res, bool csv) {
  absl::StatusOr<Visitor> visitor = access_.Identify(CredentialsOf(req));
  if (!visitor.ok()) {
    const int status = HttpStatusOf(visitor.status());
    if (status == 401) res.set_header("WWW-Authenticate", "Bearer");
    Error(res, status, TitleOf(status), visitor.status().message(), nullptr);
    return std::nullopt;
  }
  if (visitor->caller.kind == aggregator::Caller::Kind::kNobody) {
    if (csv) {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer");
      res.set_content(
          "sign in first: send Authorization: Bearer TOKEN, or sign in at "
          "/login\n",
          "text/plain; charset=utf-8");
    } else {
      res.set_redirect("/login", 303);
    }
    return std::nullopt;
  }
  return *std::move(visitor);
}

void Routes::Root(const httplib::Request& req, httplib::Response& res) {
  std::optional<Visitor> visitor = Identify(req, res, false);
  if (!visitor.has_value()) return;
  res.set_redirect(
      PagePath(visitor->caller.scope, DefaultPeriod(clock_->Now())), 303);
}

void Routes::LoginForm(const httplib::Request&, httplib::Response& res) {
  res.set_content(RenderLoginHtml("", sessions_->lifetime()), kHtml);
}

void Routes::Login(const httplib::Request& req, httplib::Response& res) {
  if (CrossSite(req)) {
    Error(res, 403, "Refused", "a sign-in from another site is refused",
          nullptr);
    return;
  }
  absl::StatusOr<Access::SignedIn> in =
      access_.SignIn(req.get_param_value("token"));
  if (!in.ok()) {
    res.status = HttpStatusOf(in.status());
    res.set_content(
        RenderLoginHtml(in.status().message(), sessions_->lifetime()), kHtml);
    return;
  }
  LogLine(absl::StrCat("dashboard: ", in->caller.describe, " signed in (",
                       in->caller.scope.ToString(), ")"));
  res.set_header("Set-Cookie",
                 SessionCookie(in->session_id, sessions_->lifetime(), false));
  res.set_redirect(PagePath(in->caller.scope, DefaultPeriod(clock_->Now())),
                   303);
}

void Routes::Logout(const httplib::Request& req, httplib::Response& res) {
  if (CrossSite(req)) {
    Error(res, 403, "Refused", "a sign-out from another site is refused",
          nullptr);
    return;
  }
  const std::string id = CookieValue(req, kCookie);
  if (!id.empty()) access_.SignOut(id);
  res.set_header("Set-Cookie", SessionCookie("", absl::ZeroDuration(), true));
  res.set_redirect("/login", 303);
}

void Routes::Scoped(const httplib::Request& req, httplib::Response& res,
                    const std::string& scope_text,
                    const std::string& csv_table) {
  const bool csv = !csv_table.empty();
  std::optional<Visitor> visitor = Identify(req, res, csv);
  if (!visitor.has_value()) return;
  absl::StatusOr<Scope> scope = ScopeOfRoute(scope_text);
  if (scope.ok()) {
    if (absl::Status known = store_->registry().Latest().Check(*scope);
        !known.ok()) {
      scope = known;
    }
  }
  if (!scope.ok()) {
    Error(res, 404, TitleOf(404), scope.status().message(), &*visitor);
    return;
  }
  if (absl::Status ok = access_.AuthorizeScope(*visitor, *scope); !ok.ok()) {
    const int status = HttpStatusOf(ok);
    Error(res, status, TitleOf(status), ok.message(), &*visitor);
    return;
  }
  Period period = DefaultPeriod(clock_->Now());
  const std::string period_text = req.get_param_value("period");
  if (!period_text.empty()) {
    absl::StatusOr<Period> asked =
        period_text.size() > kMaxPeriodText
            ? absl::InvalidArgumentError("period: too long")
            : Period::Parse(period_text);
    if (!asked.ok()) {
      Error(res, 400, TitleOf(400), asked.status().message(), &*visitor);
      return;
    }
    period = *asked;
  }
  StoreSource source(store_, authz_, visitor->credentials, clock_,
                     clock_->Now() + options_.page_deadline);
  absl::StatusOr<Page> page = BuildPage(source, *scope, period);
  if (!page.ok()) {
    const int status = HttpStatusOf(page.status());
    if (status >= 500) {
      LogWarning(
          absl::StrCat("dashboard: ", req.path, ": ", page.status().message()));
    }
    Error(res, status, TitleOf(status), page.status().message(), &*visitor);
    return;
  }
  if (!csv) {
    // An ICS lead's breadcrumb names England and the region, but links
    // only where they may go.
    for (Crumb& crumb : page->breadcrumbs) {
      std::optional<Scope> up = ScopeOfPath(crumb.href);
      if (up.has_value() && !access_.AuthorizeScope(*visitor, *up).ok()) {
        crumb.href.clear();
      }
    }
    res.set_content(RenderPageHtml(*page, ChromeFor(&*visitor)), kHtml);
    return;
  }
  const Table* table = FindTable(*page, csv_table);
  if (table == nullptr) {
    Error(res, 404, TitleOf(404),
          absl::StrCat("this page has no table '", csv_table, "'"), &*visitor);
    return;
  }
  res.set_header("Content-Disposition",
                 absl::StrCat("attachment; filename=\"",
                              CsvFileName(*page, csv_table), "\""));
  res.set_content(RenderTableCsv(*table), "text/csv; charset=utf-8");
}

}  // namespace ohfed::dashboard
