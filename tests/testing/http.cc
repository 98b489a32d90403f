#include "tests/testing/http.h"

#include <httplib.h>

#include "absl/strings/str_cat.h"

namespace ohfed::testing {

absl::StatusOr<HttpResponse> HttpGet(int port,
                                     const std::string& path_and_query,
                                     absl::Duration timeout) {
  httplib::Client client("127.0.0.1", port);
  const auto micros = absl::ToInt64Microseconds(timeout);
  client.set_connection_timeout(micros / 1000000, micros % 1000000);
  client.set_read_timeout(micros / 1000000, micros % 1000000);
  httplib::Result r = client.Get(path_and_query);
  if (!r) {
    return absl::UnavailableError(absl::StrCat("GET 127.0.0.1:", port,
                                               path_and_query, ": ",
                                               httplib::to_string(r.error())));
  }
  return HttpResponse{r->status, r->get_header_value("Content-Type"), r->body};
}

}  // namespace ohfed::testing
