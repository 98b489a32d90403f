// The crash test (issue 13): real daemons (national and London regional
// aggregators, agents behind the regional one and one straight to the
// national one) while a workload changes the agents' data without pause and
// the harness kills daemons with SIGKILL, then restarts them. Kills come at
// random moments (mid-import, mid-stream, mid-forward) or right after an
// aggregator's store counts a synced commit (ohfed_store_commits_total):
// between a durable write and its acknowledgement, the aggregator itself,
// the agent waiting for the ack, or the regional aggregator waiting for the
// national one's; or an agent right after its own synced write
// (ohfed_rocksdb_synced_write_seconds_count), before it answers the caller.
//
// Every K cycles (25) and after the last, every agent syncs, the regional
// forwarder drains, and every level must equal the truth the agents hold
// (tests/chaos/truth.h): the national answers live, then both stores offline
// (after one more SIGKILL) unit by unit and rollup by rollup, against a rebuild
// and against the rollups computed from the agents' summaries.
//
//   crash_test [--cycles=N] [--seed=S] [--check-every=K]
//   (or OHFED_CHAOS_CYCLES, _SEED, _CHECK_EVERY)
//
// The short form (50 cycles) runs in ctest; tests/chaos/run_long.sh runs
// 1,000. The seed is printed: it reproduces the schedule of kills and
// changes (not their timing against the threads).
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tests/chaos/federation.h"
#include "tests/chaos/truth.h"
#include "tests/chaos/workload.h"
#include "tests/testing/testing.h"

namespace ohfed::chaos {
namespace {

int g_cycles = 50;
int g_check_every = 25;  // cycles between verifications
uint64_t g_seed = 0;     // 0: from the time, printed

const std::vector<AgentSpec> kAgents = {
    {"RJ1"},
    {"RJ2"},
    {"R1H"},        // London: QKK (two trusts), QMF
    {"RA9", true},  // South West, straight to national
};

// What a cycle did, for the summary line.
struct Tally {
  std::map<std::string, int> kills;  // by daemon name
  int targeted = 0;                  // kills right after a synced commit
  int checks = 0;                    // verifications of every level
  int revisions = 0;                 // unit revisions compared, in all
  int rollups = 0;                   // rollup cells compared, in all
};

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = Federation::Start({OHFED_AGGREGATOR_BIN, OHFED_AGENT_BIN},
                               root_.path(), kAgents);
    ASSERT_THAT(f, testing::IsOk());
    f_ = std::move(*f);
  }
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "logs kept in " << KeepLogs() << "\n";
    }
    f_.reset();
  }

  // Copies the daemons' logs out of the temporary directory.
  std::string KeepLogs() {
    std::string to = absl::StrCat(::testing::TempDir(), "chaos-logs-", g_seed);
    std::filesystem::create_directories(to);
    for (const auto& e : std::filesystem::directory_iterator(root_.path())) {
      if (e.path().extension() == ".log") {
        std::filesystem::copy_file(
            e.path(), to + "/" + e.path().filename().string(),
            std::filesystem::copy_options::overwrite_existing);
      }
    }
    return to;
  }

  // The daemon a cycle kills, and whether another goes down with it.
  std::vector<Daemon*> PickVictims(std::mt19937_64& rng) {
    const int pick = absl::Uniform(rng, 0, 100);
    std::vector<Daemon*> agents = f_->agents();
    if (pick < 40)
      return {agents[absl::Uniform<size_t>(rng, 0, agents.size())]};
    if (pick < 65) return {&f_->regional()};
    if (pick < 90) return {&f_->national()};
    return {&f_->regional(), &f_->national()};
  }

  // Kills `victims` right after `watched` counts a synced write in metric
  // `m` (or after 2 s without one). True if the write was seen.
  bool KillAfterCommit(const Daemon& watched, const std::string& m,
                       const std::vector<Daemon*>& victims) {
    absl::StatusOr<double> before = f_->Metric(watched, m);
    const absl::Time end = absl::Now() + absl::Seconds(2);
    bool seen = false;
    while (before.ok() && absl::Now() < end) {
      absl::StatusOr<double> now = f_->Metric(watched, m);
      if (now.ok() && *now > *before) {
        seen = true;
        break;
      }
    }
    for (Daemon* v : victims) f_->Kill(*v);
    return seen;
  }

  void RunCycle(std::mt19937_64& rng, Tally& tally) {
    std::vector<Daemon*> victims = PickVictims(rng);
    if (absl::Bernoulli(rng, 0.4)) {
      // Targeted: the watched aggregator is the victim itself, or the one
      // the victim is waiting on for an ack; or an agent is killed right
      // after its own synced write (a change, or acks, made durable),
      // before it answers its caller.
      Daemon* v = victims[0];
      const Daemon* watched = v;
      std::string metric = "ohfed_store_commits_total";
      if (v->port == 0 && absl::Bernoulli(rng, 0.5)) {
        metric = "ohfed_rocksdb_synced_write_seconds_count";
      } else if (v == &f_->regional()) {
        if (absl::Bernoulli(rng, 0.5)) watched = &f_->national();
      } else if (v != &f_->national()) {
        watched = &f_->regional();
        for (const AgentSpec& s : f_->specs()) {
          if (v == &f_->agent(s.trust) && s.direct_to_national) {
            watched = &f_->national();
          }
        }
      }
      tally.targeted += KillAfterCommit(*watched, metric, victims);
    } else {
      absl::SleepFor(absl::Milliseconds(absl::Uniform(rng, 0, 400)));
      for (Daemon* v : victims) f_->Kill(*v);
    }
    for (Daemon* v : victims) ++tally.kills[v->name];
    // Down for a while, as the workload carries on.
    absl::SleepFor(absl::Milliseconds(absl::Uniform(rng, 0, 200)));
    for (Daemon* v : victims) {
      ASSERT_THAT(f_->Restart(*v), testing::IsOk()) << v->name;
    }
  }

  // Every agent's changes acknowledged, and the regional forwarder empty.
  void SyncAll() {
    for (const AgentSpec& s : f_->specs()) {
      absl::StatusOr<v1::SyncResponse> r =
          f_->Client(s.trust).Sync(absl::Seconds(60));
      ASSERT_THAT(r, testing::IsOk()) << s.trust;
      ASSERT_TRUE(r->complete()) << s.trust << ": " << r->DebugString();
    }
    const absl::Time end = absl::Now() + absl::Seconds(60);
    absl::StatusOr<double> pending;
    while (absl::Now() < end) {
      pending = f_->Metric(f_->regional(), "ohfed_outbox_pending");
      if (pending.ok() && *pending == 0) return;
      absl::SleepFor(absl::Milliseconds(50));
    }
    FAIL() << "the regional forwarder never drained: "
           << (pending.ok() ? absl::StrCat(*pending)
                            : pending.status().ToString());
  }

  // Syncs, takes the truth from the agents, checks the national answers
  // live, stops everything (aggregators by SIGKILL) and checks both stores
  // offline.
  void Verify(int cycle, const Workload& workload, Tally& tally) {
    ASSERT_NO_FATAL_FAILURE(SyncAll());
    absl::StatusOr<Truth> truth = CollectTruth(*f_);
    ASSERT_THAT(truth, testing::IsOk()) << "at cycle " << cycle;
    // What an agent acknowledged to its caller survived its kills.
    for (const auto& [key, revision] : workload.acknowledged()) {
      auto it = truth->units.find(key);
      EXPECT_TRUE(it != truth->units.end() && it->second.revision() >= revision)
          << key << ": the agent acknowledged revision " << revision
          << " and now holds "
          << (it == truth->units.end() ? 0 : it->second.revision());
    }
    CheckResult live = CheckNationalQueries(*f_, *truth);
    f_->StopAll();
    std::set<std::string> all, london;
    for (const AgentSpec& s : kAgents) {
      all.insert(s.trust);
      if (!s.direct_to_national) london.insert(s.trust);
    }
    CheckResult national = CheckStore(f_->national().data_dir, *truth, all);
    CheckResult regional = CheckStore(f_->regional().data_dir, *truth, london);
    ++tally.checks;
    for (const CheckResult* r : {&live, &national, &regional}) {
      tally.revisions += r->revisions_checked;
      tally.rollups += r->rollups_checked;
    }
    EXPECT_THAT(live.problems, ::testing::IsEmpty()) << "at cycle " << cycle;
    EXPECT_THAT(national.problems, ::testing::IsEmpty())
        << "at cycle " << cycle;
    EXPECT_THAT(regional.problems, ::testing::IsEmpty())
        << "at cycle " << cycle;
    ASSERT_FALSE(HasFailure());
  }

  void RestartAll() {
    std::vector<Daemon*> all = {&f_->national(), &f_->regional()};
    for (Daemon* d : f_->agents()) all.push_back(d);
    for (Daemon* d : all) ASSERT_THAT(f_->Restart(*d), testing::IsOk());
  }

  testing::TempDir root_;
  std::unique_ptr<Federation> f_;
};

TEST_F(CrashTest, EveryLevelEqualsTheAgentsAfterRandomKills) {
  const absl::Time start = absl::Now();
  std::cout << "crash test: seed " << g_seed << ", " << g_cycles
            << " cycles, checked every " << g_check_every
            << " (rerun with --seed=" << g_seed << " --cycles=" << g_cycles
            << ")" << std::endl;
  std::mt19937_64 rng(g_seed);
  Workload workload(f_.get(), g_seed + 1);
  Tally tally;
  int cycle = 0;
  while (cycle < g_cycles) {
    workload.Start();
    for (int i = 0; i < g_check_every && cycle < g_cycles; ++i, ++cycle) {
      RunCycle(rng, tally);
      if (HasFatalFailure()) break;
    }
    workload.Stop();
    ASSERT_FALSE(HasFatalFailure()) << "at cycle " << cycle;
    ASSERT_NO_FATAL_FAILURE(Verify(cycle, workload, tally));
    std::cout << "  cycle " << cycle << ": every level equals the agents ("
              << tally.revisions << " unit revisions checked so far)"
              << std::endl;
    if (cycle < g_cycles) ASSERT_NO_FATAL_FAILURE(RestartAll());
  }
  std::cout << "crash test: seed " << g_seed << ": " << cycle
            << " cycles survived; kills";
  for (const auto& [name, n] : tally.kills)
    std::cout << " " << name << "=" << n;
  std::cout << " (" << tally.targeted << " right after a synced commit); "
            << workload.calls_ok() << " changes accepted by agents; "
            << tally.checks << " checks of every level: " << tally.revisions
            << " unit revisions and " << tally.rollups
            << " rollup cells compared; "
            << absl::FormatDuration(
                   absl::Trunc(absl::Now() - start, absl::Seconds(1)))
            << std::endl;
  for (const auto& [key, n] : workload.counts()) {
    std::cout << "  " << key << ": " << n << "\n";
  }
  EXPECT_GT(tally.revisions, 0);
}

// "--name=value" or the environment variable; false if neither.
bool Flag(int& argc, char** argv, const std::string& name, const char* env,
          uint64_t* out) {
  const std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind(prefix, 0) == 0) {
      bool ok = absl::SimpleAtoi(arg.substr(prefix.size()), out);
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      return ok;
    }
  }
  const char* v = std::getenv(env);
  return v != nullptr && absl::SimpleAtoi(v, out);
}

}  // namespace
}  // namespace ohfed::chaos

int main(int argc, char** argv) {
  uint64_t v = 0;
  if (ohfed::chaos::Flag(argc, argv, "cycles", "OHFED_CHAOS_CYCLES", &v)) {
    ohfed::chaos::g_cycles = static_cast<int>(v);
  }
  if (ohfed::chaos::Flag(argc, argv, "check-every", "OHFED_CHAOS_CHECK_EVERY",
                         &v) &&
      v > 0) {
    ohfed::chaos::g_check_every = static_cast<int>(v);
  }
  if (ohfed::chaos::Flag(argc, argv, "seed", "OHFED_CHAOS_SEED", &v)) {
    ohfed::chaos::g_seed = v;
  } else {
    ohfed::chaos::g_seed = absl::ToUnixMicros(absl::Now()) % 1000000007;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
