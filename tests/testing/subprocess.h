// Running the real ohfed binaries from tests: start, signal, wait, capture.
#ifndef OHFED_TESTS_TESTING_SUBPROCESS_H_
#define OHFED_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ohfed::testing {

// A child process whose stdout and stderr go to `log_path`. Killed (SIGKILL)
// and reaped on destruction if still running.
class Subprocess {
 public:
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(
      const std::vector<std::string>& argv, const std::string& log_path);
  ~Subprocess();

  pid_t pid() const { return pid_; }
  bool running();
  void Signal(int sig);
  // Exit code, or 128 + signal number; kDeadlineExceeded if still running.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  const std::string& log_path() const { return log_path_; }

 private:
  Subprocess(pid_t pid, std::string log)
      : pid_(pid), log_path_(std::move(log)) {}
  pid_t pid_;
  int exit_code_ = -1;
  std::string log_path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs argv to completion (killed after `timeout`), capturing both streams.
absl::StatusOr<CommandResult> RunCommand(
    const std::vector<std::string>& argv,
    absl::Duration timeout = absl::Seconds(60));

// The instant the binaries started by tests take as "now": the fixed-date
// sample data (months up to 2026-10) have then ended, whatever the machine's
// date. See OHFED_TEST_NOW in common/clock.h.
inline constexpr char kTestNow[] = "2026-11-26T00:00:00Z";

// Sets OHFED_TEST_NOW=kTestNow in this process's environment, which every
// Subprocess and RunCommand started afterwards inherits, and returns the
// instant the binaries will start from. A valid value already set (e.g. by
// someone checking the tests at another date) is kept.
absl::Time UseTestNowForBinaries();

// A TCP port on 127.0.0.1 that was free a moment ago.
int PickUnusedPort();

// Polls until something accepts connections on 127.0.0.1:port.
absl::Status WaitForPort(int port, absl::Duration timeout);

}  // namespace ohfed::testing

#endif  // OHFED_TESTS_TESTING_SUBPROCESS_H_
