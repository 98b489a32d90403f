// How long an outage's backlog takes to drain (issue 13, README
// "Reliability"): N trusts (default 207, every trust in England) each
// recorded M months (default 12) of sample staffing, activity and profile
// data while their aggregator was down. Then, at t0, an aggregator and the
// national aggregator it forwards to start (in this process, real RocksDB,
// real gRPC on loopback) and every agent's outbox starts sending at once.
// Printed: when every agent's outbox is empty (every summary durable at the
// first aggregator) and when the national aggregator holds every unit (the
// forwarder empty), and that both hold exactly the agents' revisions.
//
// The agents are simulated in one process, but with the agent's own parts:
// each trust's real LocalStore (RocksDB, its outbox) drained by the real
// Uploader over its own gRPC connection, exactly as ohfed-agent does, minus
// the control socket. Each uploader starts at t0 (in production an agent
// retries within its backoff, at most 30 s, after the aggregator is back).
// The ingest limit of streams per peer address is raised to N: here every
// agent is 127.0.0.1.
//
//   outage_drain [--trusts=N] [--months=M]
//
// A measurement, not a test: no timing is asserted. A ctest smoke run with
// a few trusts checks that it completes and is correct.
#include <grpcpp/grpcpp.h>

#include <cmath>
#include <iostream>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/importer.h"
#include "agent/local_store.h"
#include "agent/sample_data.h"
#include "aggregator/aggregator.h"
#include "common/registry.h"
#include "common/uploader.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed::chaos {
namespace {

struct SimAgent {
  std::string code;
  std::unique_ptr<agent::LocalStore> store;
  std::unique_ptr<Uploader> uploader;
};

// Imports the trust's sample data for `first`..`last`; the number of
// periods changed.
absl::StatusOr<int> Record(agent::LocalStore& store, const std::string& trust,
                           Month first, Month last, Clock* clock) {
  agent::SampleFiles f = agent::MakeSampleData(trust, first, last);
  int periods = 0;
  const absl::Time now = clock->Now();
  agent::ImportContext ctx{&store.catalogue(), trust, Month::Containing(now),
                           "sample.csv",
                           absl::ToCivilDay(now, absl::UTCTimeZone())};
  for (const auto& [kind, content] :
       {std::pair<v1::ImportKind, const std::string*>(v1::IMPORT_KIND_STAFFING,
                                                      &f.staffing),
        {v1::IMPORT_KIND_ACTIVITY, &f.activity},
        {v1::IMPORT_KIND_PROFILE, &f.profile}}) {
    auto parsed = agent::ParseImport(kind, *content, ctx);
    if (!parsed.ok()) return parsed.status();
    if (parsed->fatal || !parsed->errors.empty()) {
      return absl::InternalError(absl::StrCat(trust, ": sample data refused"));
    }
    auto outcome = store.ApplyImport(agent::RecordsOf(*parsed), true);
    if (!outcome.ok()) return outcome.status();
    periods += outcome->periods_changed.size();
  }
  return periods;
}

// A stub on its own connection, as each agent process has.
std::unique_ptr<v1::Ingest::StubInterface> OwnConnection(
    const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return v1::Ingest::NewStub(grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), args));
}

std::unique_ptr<aggregator::Aggregator> StartAggregator(
    const std::string& dir, const std::string& upstream, int streams,
    Clock* clock) {
  aggregator::AggregatorOptions o;
  o.listen = "127.0.0.1:0";
  o.data_dir = dir;
  o.upstream = upstream;
  o.insecure = true;
  o.store.clock = clock;
  o.ingest.max_streams_per_peer = streams;
  o.uploader.initial_backoff = absl::Milliseconds(10);
  o.uploader.max_backoff = absl::Milliseconds(100);
  auto a = aggregator::Aggregator::Start(o);
  if (!a.ok()) {
    std::cerr << "aggregator: " << a.status() << "\n";
    std::exit(1);
  }
  return std::move(*a);
}

// The agents' revisions, each compared with what `store` holds.
int Mismatches(const std::vector<SimAgent>& trusts,
               const aggregator::SummaryStore& store, int* units) {
  int bad = 0;
  for (const SimAgent& t : trusts) {
    for (const v1::PeriodState& p : t.store->States()) {
      ++*units;
      bad += store.HeldRevisionOf(t.code, p.period()) != p.revision();
    }
  }
  return bad;
}

int Run(int n_trusts, int months) {
  testing::UseTestNowForBinaries();
  absl::StatusOr<Clock*> clock = ClockFromEnvironment();
  if (!clock.ok()) return 1;
  testing::TempDir root;
  const Month last = Month::Containing((*clock)->Now()) - 1;
  const Month first = last - (months - 1);

  // The outage: every agent records while no aggregator answers.
  std::vector<SimAgent> trusts;
  int pending = 0;
  const absl::Time record_start = absl::Now();
  std::vector<std::string> codes;
  for (const Region& r : Registry::England()->regions()) {
    for (const std::string& ics : r.icss) {
      for (const std::string& code :
           Registry::England()->FindIcs(ics)->trusts) {
        codes.push_back(code);
      }
    }
  }
  codes.resize(std::min<size_t>(codes.size(), n_trusts));
  for (const std::string& code : codes) {
    SimAgent t;
    t.code = code;
    auto store = agent::LocalStore::Open(
        {.dir = root.File("agent_" + code), .trust = code, .clock = *clock});
    if (!store.ok()) {
      std::cerr << code << ": " << store.status() << "\n";
      return 1;
    }
    t.store = std::move(*store);
    auto periods = Record(*t.store, code, first, last, *clock);
    if (!periods.ok()) {
      std::cerr << code << ": " << periods.status() << "\n";
      return 1;
    }
    pending += t.store->PendingCount();
    trusts.push_back(std::move(t));
  }
  std::cout << "outage drain: " << trusts.size() << " trusts x " << months
            << " months (" << first.ToString() << ".." << last.ToString()
            << "): " << pending << " unit summaries pending, recorded in "
            << absl::FormatDuration(absl::Trunc(absl::Now() - record_start,
                                                absl::Milliseconds(10)))
            << std::endl;

  // t0: both aggregators are back; every agent sends at once.
  const absl::Time t0 = absl::Now();
  auto national = StartAggregator(root.File("national"), "",
                                  static_cast<int>(trusts.size()), *clock);
  auto regional = StartAggregator(root.File("regional"), national->address(),
                                  static_cast<int>(trusts.size()), *clock);
  UploaderOptions uo;
  uo.initial_backoff = absl::Milliseconds(10);
  uo.max_backoff = absl::Milliseconds(200);
  uo.log = [](absl::string_view) {};
  for (SimAgent& t : trusts) {
    t.uploader = std::make_unique<Uploader>(
        t.store.get(), OwnConnection(regional->address()), uo, *clock);
    t.uploader->Start();
  }
  for (SimAgent& t : trusts) {
    if (!t.store->AwaitDrained(absl::Minutes(30))) {
      std::cerr << t.code << " never drained\n";
      return 1;
    }
  }
  const absl::Duration agents_done = absl::Now() - t0;
  while (regional->forwarder()->outbox_size() > 0) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  const absl::Duration national_done = absl::Now() - t0;
  for (SimAgent& t : trusts) t.uploader->Stop();

  int units_regional = 0, units_national = 0;
  const int bad = Mismatches(trusts, regional->store(), &units_regional) +
                  Mismatches(trusts, national->store(), &units_national);
  auto secs = [](absl::Duration d) {
    return absl::StrCat(std::round(absl::ToDoubleSeconds(d) * 100) / 100);
  };
  std::cout << "outage drain: every agent's outbox empty after "
            << secs(agents_done) << " s (" << pending << " summaries, "
            << static_cast<int>(pending / absl::ToDoubleSeconds(agents_done))
            << "/s); national holds every unit after " << secs(national_done)
            << " s; " << units_regional + units_national
            << " held revisions compared with the agents, " << bad
            << " different" << std::endl;
  return bad == 0 ? 0 : 1;
}

int Flag(int argc, char** argv, const std::string& name, int fallback) {
  const std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    int v = 0;
    std::string arg = argv[i];
    if (arg.rfind(prefix, 0) == 0 &&
        absl::SimpleAtoi(arg.substr(prefix.size()), &v) && v > 0) {
      return v;
    }
  }
  return fallback;
}

}  // namespace
}  // namespace ohfed::chaos

int main(int argc, char** argv) {
  return ohfed::chaos::Run(ohfed::chaos::Flag(argc, argv, "trusts", 207),
                           ohfed::chaos::Flag(argc, argv, "months", 12));
}
