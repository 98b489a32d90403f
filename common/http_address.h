// The HOST:PORT of an HTTP listener (--metrics, --http): IPv6 as
// [ADDR]:PORT, port 0 for any free port.
#ifndef OHFED_COMMON_HTTP_ADDRESS_H_
#define OHFED_COMMON_HTTP_ADDRESS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ohfed {

struct HttpAddress {
  std::string host;  // without the brackets of an IPv6 address
  int port = 0;
};

// kInvalidArgument "FLAG ADDRESS: expected HOST:PORT" (the address cut to
// 100 bytes) for anything else.
absl::StatusOr<HttpAddress> ParseHttpAddress(absl::string_view flag,
                                             const std::string& address);

}  // namespace ohfed

#endif  // OHFED_COMMON_HTTP_ADDRESS_H_
