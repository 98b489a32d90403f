// ohfed_bench_driver: the load generator and client of the end-to-end
// benchmarks (issue 14), run by tests/bench/run.sh, which starts the
// servers. Each command prints "key=value" lines for the runner to tabulate.
//
//   write    --system ohfed|echo|rocksdb|pg --plan ingest|census ...
//            [--window N] [--stream-batches B]: summaries/s to durable
//            acknowledgement (figures 1, 2, 7); --window N keeps N batches
//            in flight per stream, as an agent uploads (RocksDB: one
//            WriteBatch+sync per N batches; PostgreSQL: N batches per
//            transaction); each ingest stream writes B (default N) batches
//            of 12 months of its own trust (B > 1: at most 207 streams)
//            [--national ADDR [--poll-ms P]] [--timeline FILE]: with
//            --plan census and --national, polls national completeness
//            every P ms (default 10, as `wait`) from the last ack until every
//            trust has reported every month, on a connection made before the
//            clock starts, and prints the time from the start (figure 2);
//            --timeline writes each batch's send and ack times
//   wait     --national ADDR --from YYYY-MM --months M: the same poll from
//            a process of its own, every 10 ms, timed from its start (its
//            connection included)
//   pg-setup --pg CONNINFO
//   queries  --target ADDR --pg CONNINFO --iters K (figure 3)
//   isolation --target ADDR --pg CONNINFO --seconds T (figure 4, and three
//            diagnostic phases: the heavy answer left unparsed; the heavy
//            loop's client thread in SCHED_IDLE; the heavy answer asked for
//            as tidy rows, as clients asked before the compact form)
//   loop-query --target ADDR --seconds T [--query I | --heavy 1] [--tidy 1]:
//            one query in a loop alone (I of figure 3, 0: one refused at
//            once; --heavy: figure 4's heavy query); mean ms and this
//            process's CPU ms per query
#include <grpcpp/generic/generic_stub.h>
#include <pthread.h>
#include <rocksdb/db.h>
#include <sched.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "tests/bench/e2e/bench_data.h"
#include "tests/bench/e2e/pg.h"
#include "tests/bench/e2e/queries.h"
#include "tests/bench/e2e/sinks.h"
#include "tests/bench/e2e/stats.h"
#include "tests/bench/e2e/writers.h"

namespace ohfed::bench {
namespace {

using Flags = std::map<std::string, std::string>;

std::string Get(const Flags& f, const std::string& key,
                const std::string& def = "") {
  auto it = f.find(key);
  return it == f.end() ? def : it->second;
}
int GetInt(const Flags& f, const std::string& key, int def) {
  int v = def;
  std::string s = Get(f, key);
  if (!s.empty() && !absl::SimpleAtoi(s, &v)) {
    fprintf(stderr, "--%s: not a number: %s\n", key.c_str(), s.c_str());
    std::exit(2);
  }
  return v;
}

int Fail(const absl::Status& s) {
  fprintf(stderr, "ohfed_bench_driver: %s\n", s.ToString().c_str());
  return 1;
}

void Print(const std::string& prefix, const RunResult& r) {
  printf("%ssummaries=%llu\n%scells=%llu\n%sbytes=%llu\n%sseconds=%.4f\n",
         prefix.c_str(), (unsigned long long)r.summaries, prefix.c_str(),
         (unsigned long long)r.cells, prefix.c_str(),
         (unsigned long long)r.bytes, prefix.c_str(), r.seconds);
  printf("%ssummaries_per_s=%.2f\n%scells_per_s=%.2f\n", prefix.c_str(),
         r.summaries / r.seconds, prefix.c_str(), r.cells / r.seconds);
  printf("%sack_p50_ms=%.3f\n%sack_p99_ms=%.3f\n", prefix.c_str(),
         Percentile(r.latency_ms, 50), prefix.c_str(),
         Percentile(r.latency_ms, 99));
}

// "Y56=127.0.0.1:1234,Y58=..." or one address for every region.
std::function<std::string(const std::string&)> Router(const Flags& f) {
  std::map<std::string, std::string> by_region;
  std::string single = Get(f, "target");
  for (absl::string_view part :
       absl::StrSplit(Get(f, "regions"), ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(part, '=');
    by_region[kv.first] = kv.second;
  }
  return [=](const std::string& region) {
    auto it = by_region.find(region);
    return it == by_region.end() ? single : it->second;
  };
}

std::shared_ptr<grpc::Channel> QueryChannel(const Flags& f) {
  auto ch = TlsChannel(Get(f, "target", Get(f, "national")), Get(f, "certs"),
                       "national", 999999);
  if (!ch.ok()) {
    Fail(ch.status());
    std::exit(1);
  }
  return *ch;
}

std::unique_ptr<v1::Query::Stub> QueryStub(const Flags& f) {
  return v1::Query::NewStub(QueryChannel(f));
}

// Figure 2's national view, polled by the writing process itself: on a
// connection made before the clock starts (as the streams' are), from the
// moment every batch is durable (it cannot be complete before), every
// `interval`, until every trust has reported every month.
struct NationalPoll {
  int polls = 0;
  double seconds = 0;  // from the clock's start to the complete answer
  double lag_ms = 0;   // from the last ack to it
};

std::function<absl::Status(absl::Time)> PollNational(v1::Query::Stub& stub,
                                                     Month from, int months,
                                                     absl::Duration interval,
                                                     NationalPoll* out) {
  return [&stub, from, months, interval, out](absl::Time start) {
    const absl::Time acked = absl::Now();
    const absl::Time give_up = acked + absl::Seconds(600);
    while (true) {
      ++out->polls;
      absl::StatusOr<bool> done = NationalComplete(stub, from, months);
      if (!done.ok()) return done.status();
      const absl::Time now = absl::Now();
      if (*done) {
        out->seconds = absl::ToDoubleSeconds(now - start);
        out->lag_ms = absl::ToDoubleMilliseconds(now - acked);
        return absl::OkStatus();
      }
      if (now > give_up) {
        return absl::DeadlineExceededError("national view incomplete");
      }
      absl::SleepFor(interval);
    }
  };
}

// `--timeline FILE`: the clock's start (unix seconds), then per batch the
// seconds from it to the batch's send and to its ack, in the order counted.
absl::Status WriteTimeline(const std::string& path, const RunResult& r) {
  FILE* out = fopen(path.c_str(), "w");
  if (out == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot write ", path));
  }
  fprintf(out, "# start %.6f\n",
          absl::ToDoubleSeconds(r.start - absl::UnixEpoch()));
  for (const auto& [sent, acked] : r.timeline) {
    fprintf(out, "%.6f %.6f\n", sent, acked);
  }
  fclose(out);
  return absl::OkStatus();
}

int Write(const Flags& f) {
  const std::string system = Get(f, "system", "ohfed");
  const std::string plan_name = Get(f, "plan", "ingest");
  std::vector<StreamPlan> plan;
  if (plan_name == "census") {
    auto from = Month::Parse(Get(f, "from", "2025-10"));
    if (!from.ok()) return Fail(from.status());
    plan = CensusPlan(*from, GetInt(f, "months", 12));
  }
  const int window = GetInt(f, "window", 1);
  // Batches of 12 months per ingest stream: a window needs that many, none
  // resent while in flight (--stream-batches, default the window, lets a
  // window of 1 write the same plan).
  const int stream_batches = GetInt(f, "stream-batches", window);
  if (window < 1 || stream_batches < window || 12 * stream_batches > kMonths) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "--window ", window, ", --stream-batches ", stream_batches,
        ": need 1 <= window <= stream-batches <= ", kMonths / 12)));
  }
  if (plan_name != "census") {
    const int streams = GetInt(f, "streams", 1);
    if (stream_batches > 1 &&
        streams > static_cast<int>(EnglandOrgs().trusts.size())) {
      return Fail(absl::InvalidArgumentError(absl::StrCat(
          "--stream-batches ", stream_batches, ": at most ",
          EnglandOrgs().trusts.size(),
          " streams (each writes 12 x stream-batches months of its own "
          "trust)")));
    }
    plan = IngestPlan(streams, 12 * stream_batches);
  }
  RunOptions options;
  options.window = window;
  options.batch = GetInt(f, "batch", 12);
  options.revision = GetInt(f, "revision", 1);
  options.duration = absl::Seconds(GetInt(f, "seconds", 0));
  std::map<std::string, std::string> region_of;
  for (const Trust& t : EnglandOrgs().trusts) region_of[t.code] = t.region;
  // --national ADDR (the census): the national view polled every --poll-ms
  // once every batch is durable.
  std::unique_ptr<v1::Query::Stub> national;
  NationalPoll poll;
  if (plan_name == "census" && !Get(f, "national").empty()) {
    auto ch =
        TlsChannel(Get(f, "national"), Get(f, "certs"), "national", 999999);
    if (!ch.ok()) return Fail(ch.status());
    if (!(*ch)->WaitForConnected(std::chrono::system_clock::now() +
                                 std::chrono::seconds(30))) {
      return Fail(absl::UnavailableError("cannot connect to --national"));
    }
    national = v1::Query::NewStub(*ch);
    options.after_writes = PollNational(
        *national, plan[0].months[0], static_cast<int>(plan[0].months.size()),
        absl::Milliseconds(GetInt(f, "poll-ms", 10)), &poll);
  }

  std::unique_ptr<rocksdb::DB> db;
  std::function<absl::StatusOr<std::unique_ptr<Sink>>(int)> open;
  // Captured by reference by `open`, so they live as long as it.
  auto route = Router(f);
  const std::string certs = Get(f, "certs");
  const int per_connection = GetInt(f, "streams-per-connection", 50);
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  const std::string info = Get(f, "pg");
  std::unique_ptr<grpc::Server> echo;
  if (system == "echo") {  // the floor: figure 1's path with no store
    int port = 0;
    auto started = StartEchoServer(certs, &port);
    if (!started.ok()) return Fail(started.status());
    echo = *std::move(started);
    const std::string target = absl::StrCat("127.0.0.1:", port);
    route = [target](const std::string&) { return target; };
  }
  if (system == "ohfed" || system == "echo") {
    open = [&](int i) -> absl::StatusOr<std::unique_ptr<Sink>> {
      const std::string region = region_of[plan[i].trust];
      const int shard = i / per_connection;
      std::string key = absl::StrCat(region, "/", shard);
      if (!channels.count(key)) {
        auto ch = TlsChannel(route(region), certs, "regional-" + region, shard);
        if (!ch.ok()) return ch.status();
        channels[key] = *ch;
      }
      return OpenIngestSink(channels[key]);
    };
  } else if (system == "rocksdb") {
    auto opened = OpenRocks(Get(f, "dir"));
    if (!opened.ok()) return Fail(opened.status());
    db = *std::move(opened);
    open = [&](int) -> absl::StatusOr<std::unique_ptr<Sink>> {
      return RocksSink(db.get());
    };
  } else if (system == "pg") {
    options.threads = GetInt(f, "connections", 100);
    open = [&](int) { return PgSink(info); };
  } else {
    return Fail(
        absl::InvalidArgumentError("--system: ohfed, echo, rocksdb or pg"));
  }
  auto result = RunWriters(plan, options, open);
  if (!result.ok()) return Fail(result.status());
  Print("", *result);
  printf("streams=%zu\nwindow=%d\n", plan.size(), window);
  if (national != nullptr) {
    printf("national_seconds=%.4f\nnational_polls=%d\nnational_lag_ms=%.3f\n",
           poll.seconds, poll.polls, poll.lag_ms);
  }
  if (const std::string path = Get(f, "timeline"); !path.empty()) {
    if (auto s = WriteTimeline(path, *result); !s.ok()) return Fail(s);
  }
  return 0;
}

// Polls national completeness until every trust has reported each month.
int Wait(const Flags& f) {
  auto stub = QueryStub(f);
  auto from = Month::Parse(Get(f, "from", "2025-10"));
  if (!from.ok()) return Fail(from.status());
  const int months = GetInt(f, "months", 12);
  const absl::Time start = absl::Now();
  const absl::Time give_up = start + absl::Seconds(GetInt(f, "timeout", 600));
  for (int polls = 1;; ++polls) {
    absl::StatusOr<bool> done = NationalComplete(*stub, *from, months);
    if (done.ok() && *done) {
      printf("wait_seconds=%.4f\npolls=%d\n",
             absl::ToDoubleSeconds(absl::Now() - start), polls);
      return 0;
    }
    if (absl::Now() > give_up) {
      return Fail(absl::DeadlineExceededError(
          absl::StrCat("national view incomplete: ", done.status().message())));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

int PgSetupCommand(const Flags& f) {
  auto pg = Pg::Connect(Get(f, "pg"));
  if (!pg.ok()) return Fail(pg.status());
  if (auto s = PgSetup(**pg); !s.ok()) return Fail(s);
  const int months = GetInt(f, "months", 0);
  if (months > 0) {
    auto from = Month::Parse(Get(f, "from", "2021-10"));
    if (!from.ok()) return Fail(from.status());
    absl::Time t0 = absl::Now();
    if (auto s = PgBulkLoad(**pg, *from, months); !s.ok()) return Fail(s);
    printf("seconds=%.4f\n", absl::ToDoubleSeconds(absl::Now() - t0));
  }
  return 0;
}

// Times `ask` `iters` times after a warm-up, or fewer (at least 5) once
// `budget` has passed; prints p50, p99 and the count.
template <typename F>
absl::Status Time(const std::string& prefix, int iters, absl::Duration budget,
                  F ask) {
  for (int i = 0; i < 2; ++i) {
    if (auto s = ask(); !s.ok()) return s;
  }
  std::vector<double> ms;
  const absl::Time end = absl::Now() + budget;
  for (int i = 0; i < iters && (i < 5 || absl::Now() < end); ++i) {
    absl::Time t0 = absl::Now();
    if (auto s = ask(); !s.ok()) return s;
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
  }
  printf("%sp50_ms=%.3f\n%sp99_ms=%.3f\n%sn=%zu\n", prefix.c_str(),
         Percentile(ms, 50), prefix.c_str(), Percentile(ms, 99), prefix.c_str(),
         ms.size());
  return absl::OkStatus();
}

// User and system CPU of this process so far, in ms.
double CpuMs() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto ms = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
  return ms(u.ru_utime) + ms(u.ru_stime);
}

// For profiling (`perf record` of the aggregator or of this driver): asks
// figure 3's query `--query N` (1-4; 0 the floor's refused query; 5 figure
// 2's poll of a 12-month census from 2025-10) for `--seconds`, and prints
// how many and the mean. No PostgreSQL.
int LoopQuery(const Flags& f) {
  auto channel = QueryChannel(f);
  const int i = GetInt(f, "query", 1);
  QuerySpec q;
  if (i == 0) {
    q.query.set_scope("national");
    q.query.set_period(LastMonth().ToString());
    q.query.set_measure_prefix("no.such.measure");
  } else if (i == 5) {
    q = CensusQuery(Month::Of(2025, 10), 12);
  } else {
    q = BenchQueries().at(i - 1);
  }
  if (GetInt(f, "heavy", 0) != 0) q = HeavyQuery();
  const bool compact = GetInt(f, "tidy", 0) == 0;
  const double cpu0 = CpuMs();
  const absl::Time t0 = absl::Now();
  const absl::Time end = t0 + absl::Seconds(GetInt(f, "seconds", 5));
  int n = 0;
  while (absl::Now() < end) {
    absl::Status s =
        AskOhfed(channel, q, absl::InfiniteFuture(), compact).status();
    if (!s.ok() && i != 0) return Fail(s);
    ++n;
  }
  // This process's CPU (its gRPC threads' receive and decryption, the parse
  // and the map) per query.
  printf("queries=%d\nmean_ms=%.4f\nclient_cpu_ms=%.4f\n", n,
         absl::ToDoubleMilliseconds(absl::Now() - t0) / n,
         (CpuMs() - cpu0) / n);
  return 0;
}

int Queries(const Flags& f) {
  auto channel = QueryChannel(f);
  auto stub = v1::Query::NewStub(channel);
  auto pg = Pg::Connect(Get(f, "pg"));
  if (!pg.ok()) return Fail(pg.status());
  const int iters = GetInt(f, "iters", 20);
  const absl::Duration budget = absl::Seconds(GetInt(f, "budget", 20));
  std::vector<QuerySpec> queries = BenchQueries();
  for (size_t i = 0; i < queries.size(); ++i) {
    const QuerySpec& q = queries[i];
    const std::string p = absl::StrCat("q", i + 1, ".");
    printf("%sname=%s\n", p.c_str(), q.name.c_str());
    auto a = AskOhfed(channel, q);
    if (!a.ok()) return Fail(a.status());
    auto b = AskPg(**pg, q);
    if (!b.ok()) return Fail(b.status());
    int missing = 0;
    printf("%srows=%zu\n%spg_rows=%zu\n%smax_rel_diff=%.3g\n%smissing=%d\n",
           p.c_str(), a->size(), p.c_str(), b->size(), p.c_str(),
           LargestRelativeDifference(*a, *b, &missing), p.c_str(), missing);
    auto s = Time(p + "ohfed_", iters, budget,
                  [&] { return AskOhfed(channel, q).status(); });
    if (!s.ok()) return Fail(s);
    s = Time(p + "pg_", iters, budget, [&] { return AskPg(**pg, q).status(); });
    if (!s.ok()) return Fail(s);
  }
  // The floor: one Query round trip over the same TLS channel that does no
  // work (a measure prefix that matches nothing is refused at once).
  {
    v1::QueryRequest nothing;
    nothing.set_scope("national");
    nothing.set_period(LastMonth().ToString());
    nothing.set_measure_prefix("no.such.measure");
    auto s = Time("floor_", iters, budget, [&]() -> absl::Status {
      grpc::ClientContext context;
      v1::QueryResponse r;
      grpc::Status st = stub->Query(&context, nothing, &r);
      if (st.error_code() != grpc::StatusCode::NOT_FOUND) {
        return absl::InternalError("floor query: " + st.error_message());
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return Fail(s);
  }
  // The first query below national after a commit (one summary ingested).
  const Trust trust = EnglandOrgs().trusts[3];
  auto ch = TlsChannel(Get(f, "target"), Get(f, "certs"),
                       "regional-" + trust.region, 3);
  if (!ch.ok()) return Fail(ch.status());
  auto sink = OpenIngestSink(*ch);
  if (!sink.ok()) return Fail(sink.status());
  // The same figures at a newer revision: a commit, but every answer
  // still equals PostgreSQL's in the runs that follow.
  v1::UnitSummary one =
      MonthSummary(*Catalogue::Default(), trust.code, LastMonth(), 0);
  // A revision is the sender's clock in unix ms (SPEC §5).
  one.set_revision(static_cast<uint64_t>(absl::ToUnixMillis(absl::Now())));
  if (auto s = (*sink)->Write({one}); !s.ok()) return Fail(s);
  const QuerySpec cold = ColdQuery();
  absl::Time t0 = absl::Now();
  if (auto a = AskOhfed(channel, cold); !a.ok()) return Fail(a.status());
  printf("after_ingest_ms=%.3f\n",
         absl::ToDoubleMilliseconds(absl::Now() - t0));
  t0 = absl::Now();
  if (auto a = AskOhfed(channel, cold); !a.ok()) return Fail(a.status());
  printf("repeat_ms=%.3f\n", absl::ToDoubleMilliseconds(absl::Now() - t0));
  return 0;
}

// One isolation phase: a light query loop and an ingest loop for `seconds`,
// with `heavy` looping a heavy query alongside when set. `heavy` answers
// whether its query completed (false: cut by the phase's deadline).
struct Phase {
  std::function<absl::Status()> light, ingest;
  std::function<absl::StatusOr<bool>()> heavy;
  // Diagnostic only: the heavy loop's thread (which parses its answers) in
  // Linux's SCHED_IDLE class, so that this client's own work for the heavy
  // query yields the CPU to the light and ingest loops (gRPC's threads,
  // shared by the three channels, keep their priority).
  bool heavy_client_idle = false;
};

absl::Status RunPhase(const std::string& prefix, const Phase& phase,
                      absl::Duration length) {
  std::atomic<bool> stop{false};
  std::atomic<int> heavy_runs{0}, heavy_cut{0};
  absl::Status errors[3];
  std::vector<double> light_ms, ingest_ms;
  auto loop = [&](const std::function<absl::Status()>& f,
                  std::vector<double>* ms, absl::Status* error) {
    while (!stop.load()) {
      absl::Time t0 = absl::Now();
      *error = f();
      if (!error->ok()) return;
      ms->push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    }
  };
  auto heavy_loop = [&] {
    if (phase.heavy_client_idle) {
      sched_param param{};
      pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
    }
    while (!stop.load()) {
      absl::StatusOr<bool> done = phase.heavy();
      if (!done.ok()) {
        errors[2] = done.status();
        return;
      }
      ++(*done ? heavy_runs : heavy_cut);
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(loop, phase.light, &light_ms, &errors[0]);
  threads.emplace_back(loop, phase.ingest, &ingest_ms, &errors[1]);
  if (phase.heavy) threads.emplace_back(heavy_loop);
  absl::SleepFor(length);
  stop = true;
  for (auto& t : threads) t.join();
  for (const auto& e : errors) {
    if (!e.ok()) return e;
  }
  printf("%slight_p50_ms=%.3f\n%slight_p99_ms=%.3f\n", prefix.c_str(),
         Percentile(light_ms, 50), prefix.c_str(), Percentile(light_ms, 99));
  printf("%sack_p50_ms=%.3f\n%sack_p99_ms=%.3f\n", prefix.c_str(),
         Percentile(ingest_ms, 50), prefix.c_str(), Percentile(ingest_ms, 99));
  // Completed heavy queries only; those cut by the deadline apart.
  printf("%sheavy_runs=%d\n%sheavy_cut=%d\n", prefix.c_str(), heavy_runs.load(),
         prefix.c_str(), heavy_cut.load());
  return absl::OkStatus();
}

// The heavy query alone, before the phases: its first run (after a start,
// cold), then two more, of which the last is printed with its answer's
// size (what the server serializes and the client parses); then two asked
// for tidy rows (as clients asked before the compact form), the last printed.
absl::Status TimeHeavyAlone(const std::string& prefix,
                            const std::shared_ptr<grpc::Channel>& channel,
                            const QuerySpec& heavy) {
  auto stub = v1::Query::NewStub(channel);
  v1::QueryRequest compact_query = heavy.query;
  compact_query.set_compact(true);
  for (int i = 0; i < 5; ++i) {
    grpc::ClientContext context;
    v1::QueryResponse compact, tidy;
    absl::Time t0 = absl::Now();
    grpc::Status st = i < 3 ? stub->Query(&context, compact_query, &compact)
                            : stub->Query(&context, heavy.query, &tidy);
    const double ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
    if (!st.ok()) {
      return absl::UnknownError(
          absl::StrCat("heavy query: ", st.error_message()));
    }
    if (i == 0) printf("%sheavy_first_ms=%.3f\n", prefix.c_str(), ms);
    if (i == 2 || i == 4) {
      const std::string name = i == 2 ? "heavy" : "heavy_tidy";
      printf("%s%s_alone_ms=%.3f\n%s%s_answer_bytes=%zu\n", prefix.c_str(),
             name.c_str(), ms, prefix.c_str(), name.c_str(),
             i == 2 ? compact.ByteSizeLong() : tidy.ByteSizeLong());
    }
  }
  return absl::OkStatus();
}

// The heavy query with its answer received as bytes and dropped, not
// parsed into rows: for a diagnostic phase only, which shows how much of
// the busy p99s is the client's own parse of the heavy answer (figure 4's
// phases parse it, as the PostgreSQL loop parses its rows).
absl::StatusOr<bool> AskHeavyUnparsed(grpc::GenericStub& generic,
                                      const QuerySpec& heavy,
                                      absl::Time deadline) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(deadline));
  v1::QueryRequest compact = heavy.query;  // as figure 4's phases ask it
  compact.set_compact(true);
  const std::string bytes = compact.SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  absl::Notification done;
  grpc::Status status;
  generic.UnaryCall(&context, "/ohfed.v1.Query/Query", grpc::StubOptions(),
                    &request, &response, [&](grpc::Status s) {
                      status = std::move(s);
                      done.Notify();
                    });
  done.WaitForNotification();
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) return false;
  if (!status.ok()) {
    return absl::UnknownError(
        absl::StrCat("heavy query: ", status.error_message()));
  }
  return true;
}

int Isolation(const Flags& f) {
  const absl::Duration length = absl::Seconds(GetInt(f, "seconds", 5));
  const QuerySpec light = LightQuery(), heavy = HeavyQuery();
  const Trust trust = EnglandOrgs().trusts[2];
  auto catalogue = Catalogue::Default();
  v1::UnitSummary summary =
      MonthSummary(*catalogue, trust.code, LastMonth(), 1);
  uint64_t revision = static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()));
  auto next = [&] {
    summary.set_revision(++revision);
    summary.mutable_cells(0)->set_value(static_cast<double>(revision % 8));
    return std::vector<v1::UnitSummary>{summary};
  };
  // The aggregator: each loop on its own connection, as separate clients.
  auto light_ch = QueryChannel(f);
  auto heavy_ch = TlsChannel(Get(f, "target"), Get(f, "certs"), "national", 1);
  auto ingest_ch = TlsChannel(Get(f, "target"), Get(f, "certs"),
                              "regional-" + trust.region, 2);
  if (!heavy_ch.ok()) return Fail(heavy_ch.status());
  if (!ingest_ch.ok()) return Fail(ingest_ch.status());
  auto sink = OpenIngestSink(*ingest_ch);
  if (!sink.ok()) return Fail(sink.status());
  Phase ohfed{[&] { return AskOhfed(light_ch, light).status(); },
              [&] { return (*sink)->Write(next()); }, nullptr};
  // Warm: connections made, caches filled (the heavy query's too: its
  // first run after a start computes every measure's suppression pattern).
  for (int i = 0; i < 2; ++i) {
    if (auto s = ohfed.light(); !s.ok()) return Fail(s);
    if (auto s = ohfed.ingest(); !s.ok()) return Fail(s);
  }
  if (auto s = TimeHeavyAlone("ohfed_", *heavy_ch, heavy); !s.ok()) {
    return Fail(s);
  }
  if (auto s = RunPhase("ohfed_idle_", ohfed, length); !s.ok()) return Fail(s);
  // A heavy query still running when the phase ends is cut by its deadline.
  absl::Time phase_end = absl::Now() + length + absl::Seconds(1);
  ohfed.heavy = [&]() -> absl::StatusOr<bool> {
    absl::Status s = AskOhfed(*heavy_ch, heavy, phase_end).status();
    if (absl::IsDeadlineExceeded(s)) return false;
    if (!s.ok()) return s;
    return true;
  };
  if (auto s = RunPhase("ohfed_busy_", ohfed, length); !s.ok()) return Fail(s);
  // Diagnostic, not figure 4: the same, the heavy answer left unparsed.
  grpc::GenericStub generic(*heavy_ch);
  phase_end = absl::Now() + length + absl::Seconds(1);
  ohfed.heavy = [&] { return AskHeavyUnparsed(generic, heavy, phase_end); };
  if (auto s = RunPhase("ohfed_busyraw_", ohfed, length); !s.ok()) {
    return Fail(s);
  }
  // Diagnostic, not figure 4: parsed as in figure 4, but the heavy loop's
  // client thread in SCHED_IDLE (this driver runs on the server's cores).
  phase_end = absl::Now() + length + absl::Seconds(1);
  ohfed.heavy = [&]() -> absl::StatusOr<bool> {
    absl::Status s = AskOhfed(*heavy_ch, heavy, phase_end).status();
    if (absl::IsDeadlineExceeded(s)) return false;
    if (!s.ok()) return s;
    return true;
  };
  ohfed.heavy_client_idle = true;
  if (auto s = RunPhase("ohfed_busyidleclient_", ohfed, length); !s.ok()) {
    return Fail(s);
  }
  // Diagnostic, not figure 4: the heavy answer asked for as tidy rows (as
  // clients asked before the compact form) and parsed.
  phase_end = absl::Now() + length + absl::Seconds(1);
  ohfed.heavy = [&]() -> absl::StatusOr<bool> {
    absl::Status s =
        AskOhfed(*heavy_ch, heavy, phase_end, /*compact=*/false).status();
    if (absl::IsDeadlineExceeded(s)) return false;
    if (!s.ok()) return s;
    return true;
  };
  ohfed.heavy_client_idle = false;
  if (auto s = RunPhase("ohfed_busytidy_", ohfed, length); !s.ok()) {
    return Fail(s);
  }
  // PostgreSQL, the same test.
  auto pg_light = Pg::Connect(Get(f, "pg"));
  auto pg_heavy = Pg::Connect(Get(f, "pg"));
  auto pg_ingest = Pg::Connect(Get(f, "pg"));
  if (!pg_light.ok()) return Fail(pg_light.status());
  if (!pg_heavy.ok()) return Fail(pg_heavy.status());
  if (!pg_ingest.ok()) return Fail(pg_ingest.status());
  Phase pg{[&] { return AskPg(**pg_light, light).status(); },
           [&] { return (*pg_ingest)->Ingest(next()); }, nullptr};
  for (int i = 0; i < 2; ++i) {
    if (auto s = pg.light(); !s.ok()) return Fail(s);
    if (auto s = pg.ingest(); !s.ok()) return Fail(s);
  }
  for (int i = 0; i < 3; ++i) {  // as TimeHeavyAlone: the last is printed
    absl::Time t0 = absl::Now();
    if (auto s = AskPg(**pg_heavy, heavy).status(); !s.ok()) return Fail(s);
    if (i == 2) {
      printf("pg_heavy_alone_ms=%.3f\n",
             absl::ToDoubleMilliseconds(absl::Now() - t0));
    }
  }
  if (auto s = RunPhase("pg_idle_", pg, length); !s.ok()) return Fail(s);
  pg.heavy = [&]() -> absl::StatusOr<bool> {
    if (absl::Status s = AskPg(**pg_heavy, heavy).status(); !s.ok()) return s;
    return true;
  };
  if (auto s = RunPhase("pg_busy_", pg, length); !s.ok()) return Fail(s);
  return 0;
}

}  // namespace
}  // namespace ohfed::bench

int main(int argc, char** argv) {
  using namespace ohfed::bench;
  if (argc < 2) {
    fprintf(stderr,
            "usage: ohfed_bench_driver write|wait|pg-setup|queries|isolation "
            "[--key value]...\n");
    return 2;
  }
  Flags flags;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0) {
      fprintf(stderr, "expected --key value, got %s\n", argv[i]);
      return 2;
    }
    flags[key.substr(2)] = argv[i + 1];
  }
  const std::string command = argv[1];
  if (command == "write") return Write(flags);
  if (command == "wait") return Wait(flags);
  if (command == "pg-setup") return PgSetupCommand(flags);
  if (command == "queries") return Queries(flags);
  if (command == "loop-query") return LoopQuery(flags);
  if (command == "isolation") return Isolation(flags);
  fprintf(stderr, "unknown command %s\n", command.c_str());
  return 2;
}
