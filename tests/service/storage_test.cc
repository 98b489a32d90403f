// The real daemons on a data directory they cannot write (issue 13): a
// read-only directory at start is one clear line naming it and exit 73,
// which the systemd units do not restart; a full disk at start is one clear
// line and exit 1 (restarted, so the daemon comes up once space returns).
// Needs a read-only bind mount and a small tmpfs: as root; otherwise the
// read-only case uses permissions and the full-disk case is skipped. A full
// disk while running is covered through the fault file system in
// tests/agent/store_faults_test.cc and tests/aggregator/store_faults_test.cc
// (a tmpfs cannot show it: RocksDB preallocates its WAL, so small writes
// succeed on a full one).
#include <errno.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/data_dir.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A mount point under a temp dir, unmounted at the end.
class Mount {
 public:
  explicit Mount(std::string dir) : dir_(std::move(dir)) {}
  ~Mount() {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
  }
  // dir_ read-only over itself; false if this process may not mount.
  bool ReadOnlyBind() {
    if (mount(dir_.c_str(), dir_.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      return false;
    }
    mounted_ = true;
    return mount(nullptr, dir_.c_str(), nullptr,
                 MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0;
  }
  bool Tmpfs(const std::string& size) {
    mounted_ = mount("ohfed-test", dir_.c_str(), "tmpfs", 0,
                     absl::StrCat("size=", size).c_str()) == 0;
    return mounted_;
  }

 private:
  std::string dir_;
  bool mounted_ = false;
};

// Makes `dir` read-only for the daemons: a read-only bind mount as root
// (permissions do not stop root), mode 0555 otherwise. False if neither.
bool MakeReadOnly(const std::string& dir, std::unique_ptr<Mount>* mount) {
  if (geteuid() != 0) return chmod(dir.c_str(), 0555) == 0;
  *mount = std::make_unique<Mount>(dir);
  return (*mount)->ReadOnlyBind();
}

// Lines of `text` that are log errors.
std::vector<std::string> ErrorLines(const std::string& text) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.find(" error ") != absl::string_view::npos) {
      out.emplace_back(line);
    }
  }
  return out;
}

std::vector<std::string> AggregatorArgs(const std::string& data) {
  return {OHFED_AGGREGATOR_BIN, "--listen", "127.0.0.1:0",
          "--insecure",         "--data",   data};
}

std::vector<std::string> AgentArgs(const std::string& data) {
  return {OHFED_AGENT_BIN, "--trust",     "RJ1",       "--data", data,
          "--aggregator",  "127.0.0.1:1", "--insecure"};
}

class StorageTest : public ::testing::Test {
 protected:
  void ExpectOneClearError(const std::vector<std::string>& argv,
                           const std::string& dir, int exit_code,
                           const std::string& reason) {
    absl::StatusOr<CommandResult> r = RunCommand(argv, absl::Seconds(30));
    OHFED_ASSERT_OK(r);
    EXPECT_EQ(r->exit_code, exit_code) << r->err;
    std::vector<std::string> errors = ErrorLines(r->out + r->err);
    ASSERT_EQ(errors.size(), 1u) << r->out << r->err;
    EXPECT_THAT(errors[0], HasSubstr("data directory " + dir));
    EXPECT_THAT(errors[0], HasSubstr(reason));
    // Not RocksDB's own words about its files.
    EXPECT_THAT(errors[0], Not(HasSubstr("IO error")));
    EXPECT_THAT(errors[0], Not(HasSubstr("/LOG")));
  }

  TempDir dir_;
};

// Before, the aggregator said "open database DIR: IO error: While open a
// file for appending: DIR/LOG: Read-only file system" and exited 1, which
// systemd restarted every 5 s for ever.
TEST_F(StorageTest, ReadOnlyDataDirIsOneClearErrorAndExit73) {
  const std::string agg = dir_.File("agg"), agent = dir_.File("agent");
  std::filesystem::create_directories(agg);
  std::filesystem::create_directories(agent + "/db");
  std::unique_ptr<Mount> m1, m2;
  if (!MakeReadOnly(agg, &m1) || !MakeReadOnly(agent, &m2)) {
    GTEST_SKIP() << "cannot make a directory read-only here";
  }
  ExpectOneClearError(AggregatorArgs(agg), agg, kExitDataDirUnwritable,
                      "is not writable");
  ExpectOneClearError(AggregatorArgs(agg + "/new"), agg + "/new",
                      kExitDataDirUnwritable, "is not writable");
  ExpectOneClearError(AgentArgs(agent), agent, kExitDataDirUnwritable,
                      "is not writable");
}

TEST_F(StorageTest, FullDiskAtStartIsOneClearErrorThenStartsWhenSpaceReturns) {
  const std::string fs = dir_.File("fs");
  std::filesystem::create_directories(fs);
  Mount mount(fs);
  if (geteuid() != 0 || !mount.Tmpfs("2m")) {
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  }
  const std::string agg = fs + "/agg";
  std::filesystem::create_directories(agg);
  {
    std::ofstream filler(fs + "/filler", std::ios::binary);
    const std::string block(64 << 10, 'x');
    while (filler.write(block.data(), block.size())) {
    }
  }
  ExpectOneClearError(AggregatorArgs(agg), agg, 1, "No space left on device");
  std::filesystem::remove(fs + "/filler");
  const int port = PickUnusedPort();
  std::vector<std::string> argv = AggregatorArgs(agg);
  argv[2] = absl::StrCat("127.0.0.1:", port);
  auto p = Subprocess::Start(argv, dir_.File("aggregator.log"));
  OHFED_ASSERT_OK(p);
  OHFED_EXPECT_OK(WaitForPort(port, absl::Seconds(30)));
  (*p)->Signal(SIGTERM);
  absl::StatusOr<int> code = (*p)->Wait(absl::Seconds(30));
  OHFED_ASSERT_OK(code);
  EXPECT_EQ(*code, 0);
}

}  // namespace
}  // namespace ohfed::testing
