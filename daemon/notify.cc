#include "daemon/notify.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/log.h"

namespace ohfed {
namespace {

bool UnixAnswers(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

bool TcpAnswers(std::string host, const std::string& port) {
  if (absl::StartsWith(host, "[")) host = host.substr(1, host.size() - 2);
  // A server listening on every address answers on loopback.
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0)
    return false;
  bool ok = false;
  for (addrinfo* a = found; a != nullptr && !ok; a = a->ai_next) {
    int fd =
        socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    ok = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
    close(fd);
  }
  freeaddrinfo(found);
  return ok;
}

bool Answers(const std::string& address) {
  absl::string_view rest = address;
  if (absl::ConsumePrefix(&rest, "unix:"))
    return UnixAnswers(std::string(rest));
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  return TcpAnswers(address.substr(0, colon), address.substr(colon + 1));
}

}  // namespace

absl::Status NotifyReadyWhenAnswering(const std::string& address,
                                      absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!Answers(address)) {
    if (absl::Now() > deadline) {
      return absl::UnavailableError(
          absl::StrCat(address.substr(0, 200),
                       " does not answer; not telling systemd "
                       "the service is ready"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  sd_notify(0, "READY=1");
  return absl::OkStatus();
}

void NotifyStopping() { sd_notify(0, "STOPPING=1"); }

void ReloadAndNotify(const std::function<absl::Status()>& reload) {
  sd_notify(0, "RELOADING=1");
  absl::Status status = reload();
  if (!status.ok()) LogError(status.message());
  sd_notify(0, status.ok() ? "READY=1\nSTATUS=reloaded"
                           : "READY=1\nSTATUS=reload failed, see the log");
}

}  // namespace ohfed
