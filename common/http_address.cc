#include "common/http_address.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ohfed {

absl::StatusOr<HttpAddress> ParseHttpAddress(absl::string_view flag,
                                             const std::string& address) {
  const absl::Status bad = absl::InvalidArgumentError(
      absl::StrCat(flag, " ", address.substr(0, 100), ": expected HOST:PORT"));
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad;
  HttpAddress out;
  out.host = address.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' &&
      out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (!absl::SimpleAtoi(address.substr(colon + 1), &out.port) || out.port < 0 ||
      out.port > 65535 || out.host.empty()) {
    return bad;
  }
  return out;
}

}  // namespace ohfed
