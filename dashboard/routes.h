// The dashboard's HTTP handlers (dashboard/server.h has the contract);
// internal to dashboard/.
#ifndef OHFED_DASHBOARD_ROUTES_H_
#define OHFED_DASHBOARD_ROUTES_H_

#include <httplib.h>

#include <optional>
#include <string>

#include "aggregator/authz.h"
#include "aggregator/summary_store.h"
#include "common/clock.h"
#include "dashboard/access.h"
#include "dashboard/render.h"
#include "dashboard/session.h"

namespace ohfed::dashboard {

struct RouteOptions {
  bool tls = false;  // Secure cookies
  absl::Duration page_deadline = absl::Seconds(30);
};

// Thread-safe; everything passed in must outlive it.
class Routes {
 public:
  Routes(RouteOptions options, const aggregator::SummaryStore* store,
         const aggregator::Authz* authz, SessionStore* sessions, Clock* clock)
      : options_(options),
        store_(store),
        authz_(authz),
        sessions_(sessions),
        access_(authz, sessions),
        clock_(clock) {}

  void Register(httplib::Server& server);

 private:
  void Root(const httplib::Request& req, httplib::Response& res);
  void LoginForm(const httplib::Request& req, httplib::Response& res);
  void Login(const httplib::Request& req, httplib::Response& res);
  void Logout(const httplib::Request& req, httplib::Response& res);
  // A page (csv_table empty) or one of its tables as CSV.
  void Scoped(const httplib::Request& req, httplib::Response& res,
              const std::string& scope_text, const std::string& csv_table);

  // The visitor, or nullopt with `res` already answered (refused).
  std::optional<Visitor> Identify(const httplib::Request& req,
                                  httplib::Response& res, bool csv);
  void Error(httplib::Response& res, int status, absl::string_view title,
             absl::string_view message, const Visitor* visitor);
  Chrome ChromeFor(const Visitor* visitor) const;
  std::string SessionCookie(absl::string_view value, absl::Duration max_age,
                            bool clear) const;

  const RouteOptions options_;
  const aggregator::SummaryStore* const store_;
  const aggregator::Authz* const authz_;
  SessionStore* const sessions_;
  const Access access_;
  Clock* const clock_;
};

}  // namespace ohfed::dashboard

#endif  // OHFED_DASHBOARD_ROUTES_H_
