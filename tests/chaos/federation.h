// A federation of the real daemons for the crash test (tests/chaos/): a
// national aggregator, a London regional aggregator forwarding to it, agents
// of London trusts reporting to the regional one and an agent of another
// region reporting straight to the national one. Each daemon can be killed
// with SIGKILL and restarted on the same port and data directory.
//
// Every daemon runs plaintext on loopback (--insecure) on the test clock
// (OHFED_TEST_NOW), with short retry backoffs so that recovery after a kill
// takes a moment, not the production 30 s. Both aggregators use the embedded
// England registry, so an offline SummaryStore::Open of their directories
// sees the rollups as they were (no rebuild for a changed registry).
//
// Not thread-safe, except Client, QueryStub and Metric.
#ifndef OHFED_TESTS_CHAOS_FEDERATION_H_
#define OHFED_TESTS_CHAOS_FEDERATION_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cli/agent_client.h"
#include "ohfed/v1/ohfed.grpc.pb.h"
#include "tests/testing/subprocess.h"

namespace ohfed::chaos {

// The binaries, from the build (compile definitions in CMakeLists.txt).
struct Binaries {
  std::string aggregator, agent;
};

// One daemon: how to start it and the process, if running.
struct Daemon {
  std::string name;  // "national", "regional", "agent RJ1"
  std::vector<std::string> argv;
  std::string log;
  int port = 0;          // gRPC (aggregators) or 0
  int metrics_port = 0;  // --metrics
  std::string socket;    // agents: the control socket
  std::string data_dir;  // --data
  std::unique_ptr<testing::Subprocess> process;
};

struct AgentSpec {
  std::string trust;
  bool direct_to_national = false;
};

class Federation {
 public:
  // Starts everything under `root` (which must outlive the federation).
  static absl::StatusOr<std::unique_ptr<Federation>> Start(
      const Binaries& bin, const std::string& root,
      const std::vector<AgentSpec>& agents);
  ~Federation();

  Daemon& national() { return *national_; }
  Daemon& regional() { return *regional_; }
  std::vector<Daemon*> agents();
  Daemon& agent(const std::string& trust) { return *agents_.at(trust); }
  const std::vector<AgentSpec>& specs() const { return specs_; }
  const std::string& root() const { return root_; }

  // SIGKILL and reap; a daemon not running is left alone.
  void Kill(Daemon& d);
  // Starts `d` again and waits until it answers (an aggregator's port, an
  // agent's Status call).
  absl::Status Restart(Daemon& d);
  // Stops every daemon: aggregators by SIGKILL (the data directories are
  // then opened offline, as after a crash), agents by SIGTERM.
  void StopAll();

  // The agent's control client, as the `ohfed` CLI uses it (a fresh
  // channel to its unix socket).
  agent::AgentClient Client(const std::string& trust);
  // A Query stub for an aggregator.
  std::unique_ptr<v1::Query::Stub> QueryStub(const Daemon& aggregator);

  // A value from the daemon's /metrics ("name" with no labels); kUnavailable
  // if it did not answer, kNotFound if it has no such line.
  absl::StatusOr<double> Metric(const Daemon& d, const std::string& name);

 private:
  Federation(Binaries bin, std::string root) : bin_(bin), root_(root) {}
  std::unique_ptr<Daemon> MakeAggregator(const std::string& name,
                                         const std::string& upstream,
                                         const std::string& covers);
  std::unique_ptr<Daemon> MakeAgent(const AgentSpec& spec);
  absl::Status WaitReady(Daemon& d);

  Binaries bin_;
  std::string root_;
  std::vector<AgentSpec> specs_;
  std::unique_ptr<Daemon> national_, regional_;
  std::map<std::string, std::unique_ptr<Daemon>> agents_;
};

}  // namespace ohfed::chaos

#endif  // OHFED_TESTS_CHAOS_FEDERATION_H_
