// CheckListenAddress (common/transport.h): address syntax and a probe bind.
#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/transport.h"

namespace ohfed {
namespace {

constexpr size_t kMaxUnixPathBytes = sizeof(sockaddr_un::sun_path) - 1;

absl::Status Malformed(absl::string_view address) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed address '", address.substr(0, kMaxStringBytes),
                   "': expected HOST:PORT (e.g. 127.0.0.1:7400) or unix:PATH"));
}

// "host:port" or "[v6]:port" -> host and port; false if malformed.
bool SplitHostPort(absl::string_view address, std::string* host, int* port) {
  size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) return false;
  absl::string_view h = address.substr(0, colon);
  absl::string_view p = address.substr(colon + 1);
  if (absl::StartsWith(h, "[") && absl::EndsWith(h, "]")) {
    h = h.substr(1, h.size() - 2);
  } else if (absl::StrContains(h, ':')) {
    return false;  // a bare IPv6 address needs brackets
  }
  if (h.empty() || p.empty() || p.size() > 5) return false;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
  }
  if (!absl::SimpleAtoi(p, port) || *port > 65535) return false;
  *host = std::string(h);
  return true;
}

std::string BindFailure(int err, absl::string_view address, int port) {
  switch (err) {
    case EADDRINUSE:
      return absl::StrCat("cannot listen on ", address, ": port ", port,
                          " is already in use (is another ohfed process "
                          "running there?)");
    case EACCES:
      return absl::StrCat("cannot listen on ", address,
                          ": permission denied (ports below 1024 need "
                          "privileges)");
    case EADDRNOTAVAIL:
      return absl::StrCat("cannot listen on ", address,
                          ": that address is not on this machine");
    default:
      return absl::StrCat("cannot listen on ", address, ": ",
                          std::strerror(err));
  }
}

// Binds (and closes) a socket on host:port as the server will.
absl::Status ProbeBind(const std::string& address, const std::string& host,
                       int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot listen on ", address, ": unknown host '", host,
                     "' (", gai_strerror(rc), ")"));
  }
  absl::Status result = absl::OkStatus();
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int one = 1;  // as gRPC does: a port in TIME_WAIT is not "in use"
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc = bind(fd, ai->ai_addr, ai->ai_addrlen);
    int err = errno;
    close(fd);
    if (rc != 0) {
      result = absl::UnavailableError(BindFailure(err, address, port));
      break;
    }
  }
  freeaddrinfo(found);
  return result;
}

// The socket file will be created in its directory: say now if it cannot be.
absl::Status ProbeUnixDirectory(absl::string_view address,
                                const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  if (access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address,
                                               ": directory ", dir, ": ",
                                               std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckListenAddress(const std::string& address) {
  if (absl::StartsWith(address, "unix:")) {
    absl::string_view path = absl::string_view(address).substr(5);
    if (path.empty()) return Malformed(address);
    if (path.size() > kMaxUnixPathBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unix socket path is ", path.size(), " bytes, longer than the ",
          kMaxUnixPathBytes,
          " a unix socket allows: ", path.substr(0, kMaxStringBytes)));
    }
    return ProbeUnixDirectory(address, std::string(path));
  }
  std::string host;
  int port = 0;
  if (!SplitHostPort(address, &host, &port)) return Malformed(address);
  if (port == 0) return absl::OkStatus();  // any free port
  return ProbeBind(address, host, port);
}

}  // namespace ohfed
