#include "tests/testing/subprocess.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/clock.h"

namespace ohfed::testing {
namespace {

// fork + exec with stdout/stderr redirected to the given files.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv,
                            const std::string& out_path,
                            const std::string& err_path) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int err = out_path == err_path
                  ? out
                  : open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Waits up to `timeout` for pid; -1 if still running.
int WaitPid(pid_t pid, absl::Duration timeout) {
  absl::Time end = absl::Now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return DecodeStatus(status);
    if (r < 0) return -2;
    if (absl::Now() >= end) return -1;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(
    const std::vector<std::string>& argv, const std::string& log_path) {
  auto pid = Spawn(argv, log_path, log_path);
  if (!pid.ok()) return pid.status();
  return std::unique_ptr<Subprocess>(new Subprocess(*pid, log_path));
}

Subprocess::~Subprocess() {
  if (running()) {
    kill(pid_, SIGKILL);
    WaitPid(pid_, absl::Seconds(10));
  }
}

bool Subprocess::running() {
  if (exit_code_ != -1) return false;
  int code = WaitPid(pid_, absl::ZeroDuration());
  if (code == -1) return true;
  exit_code_ = code;
  return false;
}

void Subprocess::Signal(int sig) {
  if (running()) kill(pid_, sig);
}

absl::StatusOr<int> Subprocess::Wait(absl::Duration timeout) {
  if (exit_code_ != -1) return exit_code_;
  int code = WaitPid(pid_, timeout);
  if (code == -1) {
    return absl::DeadlineExceededError(
        absl::StrCat("process ", pid_, " still running"));
  }
  exit_code_ = code;
  return code;
}

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         absl::Duration timeout) {
  char out_tmpl[] = "/tmp/ohfed_cmd_out_XXXXXX";
  char err_tmpl[] = "/tmp/ohfed_cmd_err_XXXXXX";
  close(mkstemp(out_tmpl));
  close(mkstemp(err_tmpl));
  auto pid = Spawn(argv, out_tmpl, err_tmpl);
  if (!pid.ok()) return pid.status();
  CommandResult result;
  result.exit_code = WaitPid(*pid, timeout);
  if (result.exit_code == -1) {
    kill(*pid, SIGKILL);
    WaitPid(*pid, absl::Seconds(10));
    result.exit_code = 128 + SIGKILL;
  }
  result.out = Slurp(out_tmpl);
  result.err = Slurp(err_tmpl);
  unlink(out_tmpl);
  unlink(err_tmpl);
  return result;
}

int PickUnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

absl::Status WaitForPort(int port, absl::Duration timeout) {
  absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok =
        connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    if (ok) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("nothing listening on 127.0.0.1:", port));
}

absl::Time UseTestNowForBinaries() {
  absl::Time now;
  std::string error;
  const char* set = std::getenv(kTestNowVariable);
  if (set != nullptr &&
      absl::ParseTime(absl::RFC3339_full, set, &now, &error)) {
    return now;
  }
  setenv(kTestNowVariable, kTestNow, /*overwrite=*/1);
  absl::ParseTime(absl::RFC3339_full, kTestNow, &now, &error);
  return now;
}

}  // namespace ohfed::testing
