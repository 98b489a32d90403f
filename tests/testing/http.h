// Plain HTTP GETs on loopback for tests (/metrics, Prometheus's API).
#ifndef OHFED_TESTS_TESTING_HTTP_H_
#define OHFED_TESTS_TESTING_HTTP_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ohfed::testing {

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// GET http://127.0.0.1:<port><path_and_query>. kUnavailable if nothing
// answered within `timeout`.
absl::StatusOr<HttpResponse> HttpGet(
    int port, const std::string& path_and_query,
    absl::Duration timeout = absl::Seconds(10));

}  // namespace ohfed::testing

#endif  // OHFED_TESTS_TESTING_HTTP_H_
