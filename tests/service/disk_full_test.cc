// A disk that fills while the real daemons run (issue 13), on a real file
// system: a small tmpfs mounted in a user and mount namespace of this test
// (unshare(2), as `unshare --user --map-root-user --mount` does), which the
// daemons it starts inherit. Skipped, saying why, where the kernel or the
// sandbox refuses the namespace.
//
// The aggregator's file system fills: the agent's changes are not
// acknowledged, the aggregator says why, its view keeps the last
// acknowledged data, and once space is freed the agent's retries go through
// without a restart; a restart then finds the store sound. Then the
// agent's file system fills: a change fails with the clear error, changes
// nothing, and the next one after space is freed succeeds.
//
// Each file system is smaller than the WAL block RocksDB preallocates
// (1.1 x the write buffer: 35 MiB at the aggregator, 4.4 MiB at the agent),
// so that preallocation fails (RocksDB ignores that) and a write on the full
// file system meets the full disk; on a larger one, writes into the
// preallocated block still succeed, and are durable.
#include <errno.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/sample_data.h"
#include "ohfed/v1/ohfed.grpc.pb.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kNow = UseTestNowForBinaries();
const Month kLast = Month::Containing(kNow) - 1;
const Month kFirst = kLast - 2;
constexpr char kTrust[] = "RJ1";
constexpr char kMeasure[] = "staffing.wte.manager";

bool WriteProcFile(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY);
  if (fd < 0) return false;
  bool ok =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

// Enters a new user namespace, as root mapped to the caller, and a new mount
// namespace whose mounts nobody outside sees. Must run while the process
// has one thread. Empty on success, else why not.
std::string EnterPrivateMounts() {
  const uid_t uid = getuid();
  const gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
    return absl::StrCat("unshare(CLONE_NEWUSER | CLONE_NEWNS): ",
                        strerror(errno));
  }
  WriteProcFile("/proc/self/setgroups", "deny");  // absent on old kernels
  if (!WriteProcFile("/proc/self/uid_map", absl::StrCat("0 ", uid, " 1")) ||
      !WriteProcFile("/proc/self/gid_map", absl::StrCat("0 ", gid, " 1"))) {
    return absl::StrCat("mapping the user in the namespace: ", strerror(errno));
  }
  if (mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return absl::StrCat("making mounts private: ", strerror(errno));
  }
  return "";
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Fills the file system holding `dir` (again: whatever was freed since)
// with `dir`/filler; returns the bytes added.
uintmax_t Fill(const std::string& dir) {
  std::ofstream filler(dir + "/filler", std::ios::binary | std::ios::app);
  const std::string block(16 << 10, 'x');
  uintmax_t bytes = 0;
  while (filler.write(block.data(), block.size())) bytes += block.size();
  filler.close();
  // The last partial block, byte by byte.
  std::ofstream tail(dir + "/filler2", std::ios::binary | std::ios::app);
  while (tail.put('x')) tail.flush();
  return bytes;
}

// The files under `dir` with their sizes, for failure messages.
std::string Listing(const std::string& dir) {
  std::string out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    absl::StrAppend(&out, e.path().string(), " ", e.file_size(), "\n");
  }
  return out;
}

void Free(const std::string& dir) {
  std::filesystem::remove(dir + "/filler");
  std::filesystem::remove(dir + "/filler2");
}

class DiskFullTest : public ::testing::Test {
 protected:
  // A tmpfs of `size` at root/name; empty if it cannot be mounted.
  std::string Tmpfs(const std::string& name, const std::string& size) {
    const std::string dir = root_.File(name);
    std::filesystem::create_directories(dir);
    if (mount("ohfed-test", dir.c_str(), "tmpfs", 0,
              absl::StrCat("size=", size).c_str()) != 0) {
      return "";
    }
    return dir;
  }

  std::string Addr() const { return absl::StrCat("127.0.0.1:", port_); }

  std::unique_ptr<Subprocess> StartAggregator(const std::string& data,
                                              const std::string& log) {
    auto p = Subprocess::Start({OHFED_AGGREGATOR_BIN, "--listen", Addr(),
                                "--data", data, "--insecure"},
                               log);
    EXPECT_TRUE(p.ok());
    EXPECT_THAT(WaitForPort(port_, absl::Seconds(30)), IsOk());
    return p.ok() ? std::move(*p) : nullptr;
  }

  CommandResult Cli(std::vector<std::string> args,
                    absl::Duration timeout = absl::Seconds(90)) {
    std::vector<std::string> argv = {OHFED_CLI_BIN, "--agent", socket_};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunCommand(argv, timeout);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : CommandResult();
  }

  CommandResult Set(Month month, int value) {
    return Cli({"set", month.ToString(), kMeasure, absl::StrCat(value)});
  }

  // The revision the aggregator holds for each month of the trust.
  std::map<std::string, uint64_t> Held() {
    auto stub = v1::Query::NewStub(
        grpc::CreateChannel(Addr(), grpc::InsecureChannelCredentials()));
    v1::CompletenessRequest c;
    c.set_scope(absl::StrCat("trust:", kTrust));
    c.set_period(absl::StrCat(kFirst.ToString(), ":", kLast.ToString()));
    v1::CompletenessResponse r;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    grpc::Status s = stub->Completeness(&ctx, c, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::map<std::string, uint64_t> out;
    for (const v1::PeriodCompleteness& p : r.periods()) {
      for (const v1::TrustCompleteness& t : p.trusts()) {
        if (t.trust() == kTrust) out[p.period()] = t.revision();
      }
    }
    return out;
  }

  // The agent's periods from `ohfed status`: column 2 is the revision, 3
  // the one acknowledged.
  std::map<std::string, uint64_t> AgentColumn(int column) {
    CommandResult r = Cli({"status"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, uint64_t> out;
    for (absl::string_view line : absl::StrSplit(r.out, '\n')) {
      std::vector<std::string> f =
          absl::StrSplit(line, ' ', absl::SkipWhitespace());
      uint64_t v = 0;
      if (f.size() > 3 && Month::Parse(f[0]).ok() &&
          absl::SimpleAtoi(f[column], &v) && v > 0) {
        out[f[0]] = v;
      }
    }
    return out;
  }
  std::map<std::string, uint64_t> AgentRevisions() { return AgentColumn(2); }
  std::map<std::string, uint64_t> AgentAcked() { return AgentColumn(3); }
  // Held(), without months held at no revision.
  std::map<std::string, uint64_t> HeldNow() {
    std::map<std::string, uint64_t> out;
    for (const auto& [month, revision] : Held()) {
      if (revision > 0) out[month] = revision;
    }
    return out;
  }

  TempDir root_;
  int port_ = PickUnusedPort();
  std::string socket_;
};

TEST_F(DiskFullTest, RealDaemonsOnAFullFileSystemFailCleanlyAndResume) {
  const std::string why = EnterPrivateMounts();
  if (!why.empty()) {
    GTEST_SKIP() << "cannot mount a small file system here (" << why
                 << "); a full disk while running is covered through the "
                    "fault file system (tests/testing/fault_fs.h)";
  }
  const std::string agg_fs = Tmpfs("agg_fs", "16m");
  const std::string agent_fs = Tmpfs("agent_fs", "4m");
  if (agg_fs.empty() || agent_fs.empty()) {
    GTEST_SKIP() << "cannot mount a tmpfs in the namespace: "
                 << strerror(errno);
  }
  const std::string agg_data = agg_fs + "/data";
  const std::string agg_log = root_.File("aggregator.log");
  std::unique_ptr<Subprocess> aggregator = StartAggregator(agg_data, agg_log);
  ASSERT_NE(aggregator, nullptr);

  // The agent's files live off the small file systems.
  const std::string files = root_.File("files");
  std::filesystem::create_directories(files);
  OHFED_ASSERT_OK(agent::WriteSampleData(
      agent::MakeSampleData(kTrust, kFirst, kLast), files));
  const std::string agent_data = agent_fs + "/data";
  socket_ = agent_data + "/agent.sock";
  auto agent =
      Subprocess::Start({OHFED_AGENT_BIN, "--trust", kTrust, "--data",
                         agent_data, "--aggregator", Addr(), "--insecure"},
                        root_.File("agent.log"));
  ASSERT_TRUE(agent.ok());
  for (int i = 0; i < 1500 && !std::filesystem::exists(socket_); ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  CommandResult r = Cli({"import", "staffing", files + "/staffing.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Cli({"sync", "--timeout", "60"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  ASSERT_EQ(HeldNow().size(), 3u);

  // The aggregator's disk fills. Writes that still fit (in a WAL block
  // RocksDB preallocated, or in space its reopen frees by releasing that
  // block) are durable and acknowledged; changes go on, the disk topped up
  // before each, until a write meets the full disk.
  const std::string no_space = "No space left on device";
  bool hit = false;
  for (int i = 0; i < 20 && !hit; ++i) {
    Fill(agg_fs);
    r = Set(kLast, 100 + i);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Cli({"sync", "--timeout", "3"});
    // Before, RocksDB's own info log (DIR/LOG) aborted the daemon at its
    // next line after a failed one (common/db_info_log.h).
    ASSERT_TRUE(aggregator->running()) << ReadAll(agg_log);
    hit = absl::StrContains(ReadAll(agg_log), no_space);
  }
  ASSERT_TRUE(hit) << "no write met the full disk: " << Listing(agg_fs);
  EXPECT_THAT(ReadAll(agg_log),
              HasSubstr("nothing is acknowledged until a write succeeds"));
  // Whatever the agent saw acknowledged is held, at that revision or a
  // later one (its retries go on meanwhile).
  const std::map<std::string, uint64_t> acked = AgentAcked();
  const std::map<std::string, uint64_t> held = HeldNow();
  for (const auto& [month, revision] : acked) {
    EXPECT_GE(held.count(month) ? held.at(month) : 0, revision) << month;
  }

  // Space returns: the agent's retries go through, nothing restarted.
  Free(agg_fs);
  r = Cli({"sync", "--timeout", "60"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  const std::map<std::string, uint64_t> synced = AgentRevisions();
  EXPECT_EQ(HeldNow(), synced);
  EXPECT_EQ(AgentAcked(), synced);
  // Nothing corrupted: a restart finds the store sound and the same.
  aggregator->Signal(SIGTERM);
  ASSERT_THAT(aggregator->Wait(absl::Seconds(30)), IsOk());
  aggregator = StartAggregator(agg_data, root_.File("aggregator2.log"));
  EXPECT_THAT(ReadAll(root_.File("aggregator2.log")),
              Not(HasSubstr("damaged")));
  EXPECT_EQ(HeldNow(), synced);

  // The agent's disk fills: a change fails, saying why, and changes
  // nothing (again after any that still fit).
  bool refused = false;
  std::map<std::string, uint64_t> last = synced;
  for (int i = 0; i < 20 && !refused; ++i) {
    Fill(agent_fs);
    r = Set(kLast, 200 + i);
    ASSERT_TRUE((*agent)->running()) << ReadAll(root_.File("agent.log"));
    if (r.exit_code == 0) {
      last = AgentRevisions();
      continue;
    }
    refused = true;
    EXPECT_THAT(r.err, HasSubstr(no_space));
    EXPECT_THAT(r.err, HasSubstr(agent_data));
  }
  ASSERT_TRUE(refused) << "no change met the full disk: " << Listing(agent_fs);
  EXPECT_EQ(AgentRevisions(), last);  // the failed change was not made
  Free(agent_fs);
  r = Cli({"sync", "--timeout", "60"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(HeldNow(), last);
  // And the next change goes through once space is back.
  r = Set(kLast, 300);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Cli({"sync", "--timeout", "60"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(HeldNow(), AgentRevisions());
  EXPECT_NE(AgentRevisions(), last);
}

}  // namespace
}  // namespace ohfed::testing
