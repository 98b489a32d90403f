// The aggregator's SummaryStore under load (issue 14), measured, not
// asserted: run build/tests/bench/aggregator_store_bench (not part of ctest).
//
//  - BM_Commit/threads:N: full-catalogue monthly summaries made durable
//    through SummaryStore::Commit from N concurrent callers (group commit),
//    against BM_RawWriteBatch/threads:N: the same unit records under the same
//    keys written with WriteBatch + sync to a bare RocksDB from N threads.
//  - BM_LightQuery{Idle,UnderHeavy}, BM_CommitLatency{Idle,UnderHeavy}: p50
//    and p99 (counters, in ms) of a light query (national by ICS for a month)
//    and of one summary's commit, alone and while other threads loop a heavy
//    query (national by trust over five years, every measure).
//  - BM_Footprint: resident memory per trust-month held against its
//    serialized size.
//  - BM_IndexReplaceUnit: the in-memory index's share of a commit (ingest
//    path): a snapshot published, then one unit replaced, which moves its
//    cells out of and into the rollups of its three nodes
//    (Index::ApplyToRollups) on copies of what the snapshot shares.
//
// The store holds England's 207 trusts x kMonths months (OHFED_BENCH_MONTHS,
// default 24) of every monthly measure of the catalogue.
#include <benchmark/benchmark.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aggregator/codec.h"
#include "aggregator/index.h"
#include "aggregator/query_engine.h"
#include "aggregator/summary_store.h"
#include "common/rocksdb_util.h"

namespace ohfed {
namespace {

const Month kLast = Month::Of(2026, 9);

int Months() {
  const char* env = std::getenv("OHFED_BENCH_MONTHS");
  return env != nullptr ? std::max(1, std::atoi(env)) : 24;
}

std::string TempDir() {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "ohfed-store-bench-XXXXXX")
          .string();
  return mkdtemp(tmpl.data());
}

// VmRSS or VmHWM of this process, in bytes.
uint64_t ProcStatus(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10) * 1024;
    }
  }
  return 0;
}

// A deterministic summary of every monthly measure for (trust, month).
v1::UnitSummary MonthSummary(const Catalogue& catalogue,
                             const std::string& trust, Month month,
                             uint64_t revision) {
  uint64_t state =
      std::hash<std::string>()(trust) ^
      (static_cast<uint64_t>(month.year() * 12 + month.month()) << 20) ^
      revision;
  auto next = [&](int n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<int>((state >> 33) % static_cast<uint64_t>(n));
  };
  v1::UnitSummary s;
  s.set_trust(trust);
  s.set_period(month.ToString());
  s.set_revision(revision);
  s.set_catalogue_version(catalogue.version());
  for (const Measure& m : catalogue.measures()) {
    if (m.frequency != Frequency::kMonth || m.is_yes_no() ||
        absl::StartsWith(m.code, "derived.")) {
      continue;
    }
    v1::Cell* c = s.add_cells();
    c->set_measure(m.code);
    if (absl::StartsWith(m.code, "activity.wait_days")) {
      uint64_t events = 0;
      for (int b = 0; b < 5; ++b) {
        v1::Bucket* bucket = c->add_buckets();
        bucket->set_value(1 + b * 7 + next(7));
        bucket->set_count(1 + next(6));
        events += bucket->count();
      }
      c->set_value(static_cast<double>(events));
    } else {
      c->set_value(next(200) / (m.unit == "wte" ? 8.0 : 1.0));
    }
  }
  return s;
}

struct Loaded {
  std::string dir;
  std::unique_ptr<aggregator::SummaryStore> store;
  std::vector<std::string> trusts;
  uint64_t serialized_bytes = 0;  // of the summaries held
  uint64_t rss_before = 0, rss_after = 0;
  size_t units = 0;
  double reopen_s = 0;  // seconds to open the loaded store again
  std::atomic<uint64_t> revision{1};
};

Loaded* g_loaded = nullptr;

Loaded& Load() {
  static Loaded* loaded = [] {
    auto* l = new Loaded;
    l->dir = TempDir();
    l->rss_before = ProcStatus("VmRSS");
    auto store = aggregator::SummaryStore::Open(l->dir, {});
    if (!store.ok()) {
      fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
      std::exit(1);
    }
    l->store = *std::move(store);
    const Catalogue& catalogue = l->store->catalogue();
    l->trusts = l->store->registry().Latest().TrustsIn(Scope::National());
    for (int i = 0; i < Months(); ++i) {
      std::vector<v1::UnitSummary> batch;
      for (const std::string& t : l->trusts) {
        batch.push_back(MonthSummary(catalogue, t, kLast - i, 1));
        l->serialized_bytes += batch.back().ByteSizeLong();
      }
      l->units += batch.size();
      if (!l->store->Commit(batch).ok()) std::exit(1);
    }
    l->rss_after = ProcStatus("VmRSS");
    // Opening loads every unit and recomputes every rollup from them.
    l->store.reset();
    auto start = std::chrono::steady_clock::now();
    store = aggregator::SummaryStore::Open(l->dir, {});
    if (!store.ok()) std::exit(1);
    l->store = *std::move(store);
    l->reopen_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    fprintf(stderr, "loaded %zu trusts x %d months into %s\n", l->trusts.size(),
            Months(), l->dir.c_str());
    return l;
  }();
  g_loaded = loaded;
  return *loaded;
}

// The next revision of some held unit, spread over trusts and months.
v1::UnitSummary NextRevision(Loaded& l) {
  uint64_t r = l.revision.fetch_add(1) + 1;
  const std::string& trust = l.trusts[r % l.trusts.size()];
  Month month = kLast - static_cast<int>((r / l.trusts.size()) % Months());
  return MonthSummary(l.store->catalogue(), trust, month, r);
}

void BM_Commit(benchmark::State& state) {
  Loaded& l = Load();
  const uint64_t bytes_before = l.store->stats().bytes_written;
  for (auto _ : state) {
    std::vector<v1::UnitSummary> one = {NextRevision(l)};
    auto outcomes = l.store->Commit(one);
    if (!outcomes.ok()) state.SkipWithError("commit failed");
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    // Written by every thread's commits meanwhile, over this thread's count:
    // per summary, as every thread commits about as many.
    state.counters["written_bytes_per_summary"] =
        static_cast<double>(l.store->stats().bytes_written - bytes_before) /
        static_cast<double>(state.iterations() * state.threads());
  }
}

// The same unit records, keyed as the store keys them, to a bare RocksDB.
void BM_RawWriteBatch(benchmark::State& state) {
  static rocksdb::DB* db = [] {
    auto opened = OpenDb(TempDir(), DbFootprint::kServer);
    if (!opened.ok()) std::exit(1);
    return opened->release();
  }();
  Loaded& l = Load();
  for (auto _ : state) {
    v1::UnitSummary s = NextRevision(l);
    aggregator::UnitRecord record{1, 2, s};
    rocksdb::WriteBatch batch;
    batch.Put(absl::StrCat(aggregator::kUnitPrefix,
                           aggregator::UnitId(s.trust(), s.period())),
              aggregator::EncodeUnit(record));
    if (!WriteSynced(db, &batch).ok()) state.SkipWithError("write failed");
  }
  state.SetItemsProcessed(state.iterations());
}

v1::QueryRequest LightQuery() {
  v1::QueryRequest q;
  q.set_scope("national");
  q.set_by("ics");
  q.set_period(kLast.ToString());
  q.set_measure_prefix("staffing.wte");
  return q;
}

v1::QueryRequest HeavyQuery() {
  v1::QueryRequest q;
  q.set_scope("national");
  q.set_by("trust");
  q.set_period(
      absl::StrCat((kLast - (Months() - 1)).ToString(), ":", kLast.ToString()));
  q.set_measure_prefix("staffing");
  return q;
}

absl::StatusOr<v1::QueryResponse> Run(const aggregator::SummaryStore& store,
                                      const v1::QueryRequest& q) {
  aggregator::SummaryStore::QuerySnapshot snap = store.SnapshotForQuery();
  aggregator::QueryOptions options;
  options.patterns = snap.patterns;
  options.disclosure = store.disclosure();
  options.max_rows = 1 << 30;
  return aggregator::RunQuery(*snap.view, q, options);
}

// Loops the heavy query on `threads` threads while alive.
class HeavyLoad {
 public:
  HeavyLoad(const aggregator::SummaryStore& store, int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this, &store] {
        const v1::QueryRequest q = HeavyQuery();
        while (!stop_.load()) {
          auto r = Run(store, q);
          if (!r.ok())
            fprintf(stderr, "heavy: %s\n", r.status().ToString().c_str());
          runs_.fetch_add(1);
        }
      });
    }
  }
  ~HeavyLoad() {
    stop_.store(true);
    for (std::thread& t : threads_) t.join();
  }
  uint64_t runs() const { return runs_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> runs_{0};
  std::vector<std::thread> threads_;
};

// Times each iteration of `op` and reports p50 and p99 in ms.
template <class Op>
void Percentiles(benchmark::State& state, Op op) {
  std::vector<double> ms;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    op();
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  if (ms.empty()) return;
  state.counters["p50_ms"] = ms[ms.size() / 2];
  state.counters["p99_ms"] = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
}

void LightQuery(benchmark::State& state, int heavy_threads) {
  Loaded& l = Load();
  const v1::QueryRequest q = LightQuery();
  HeavyLoad heavy(*l.store, heavy_threads);
  Percentiles(state, [&] {
    auto r = Run(*l.store, q);
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
    benchmark::DoNotOptimize(r);
  });
  state.counters["heavy_runs"] = static_cast<double>(heavy.runs());
}

void CommitLatency(benchmark::State& state, int heavy_threads) {
  Loaded& l = Load();
  HeavyLoad heavy(*l.store, heavy_threads);
  Percentiles(state, [&] {
    std::vector<v1::UnitSummary> one = {NextRevision(l)};
    if (!l.store->Commit(one).ok()) state.SkipWithError("commit failed");
  });
  state.counters["heavy_runs"] = static_cast<double>(heavy.runs());
}

void BM_HeavyQuery(benchmark::State& state) {
  Loaded& l = Load();
  const v1::QueryRequest q = HeavyQuery();
  size_t rows = 0;
  for (auto _ : state) {
    auto r = Run(*l.store, q);
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
    rows = r.ok() ? r->rows_size() : 0;
  }
  state.counters["rows"] = static_cast<double>(rows);
}

void BM_LightQueryIdle(benchmark::State& s) { LightQuery(s, 0); }
void BM_LightQueryUnderHeavy(benchmark::State& s) { LightQuery(s, 1); }
void BM_CommitLatencyIdle(benchmark::State& s) { CommitLatency(s, 0); }
void BM_CommitLatencyUnderHeavy(benchmark::State& s) { CommitLatency(s, 1); }

void BM_Footprint(benchmark::State& state) {
  Loaded& l = Load();
  for (auto _ : state) benchmark::DoNotOptimize(l.units);
  const double units = static_cast<double>(l.units);
  state.counters["rss_per_unit_KiB"] =
      (static_cast<double>(l.rss_after) - l.rss_before) / units / 1024;
  state.counters["serialized_per_unit_KiB"] = l.serialized_bytes / units / 1024;
  state.counters["reopen_s"] = l.reopen_s;
  state.counters["rss_over_serialized"] =
      (static_cast<double>(l.rss_after) - l.rss_before) / l.serialized_bytes;
}

// An index of every trust x Months() months, without RocksDB: what a commit
// does to it, as SummaryStore::Commit does (a snapshot published before).
void BM_IndexReplaceUnit(benchmark::State& state) {
  std::shared_ptr<const Catalogue> catalogue = Catalogue::Default();
  auto registry = std::make_shared<const RegistryHistory>(Registry::England());
  aggregator::Index index(catalogue, registry);
  const std::vector<std::string> trusts =
      registry->Latest().TrustsIn(Scope::National());
  auto held = [&](const std::string& trust, Month month, uint64_t revision) {
    v1::UnitSummary s = MonthSummary(*catalogue, trust, month, revision);
    aggregator::HeldUnit u;
    u.trust = s.trust();
    u.period = s.period();
    u.revision = revision;
    u.cells = aggregator::UnitCells(s.cells());
    return u;
  };
  for (int i = 0; i < Months(); ++i) {
    for (const std::string& t : trusts) index.PutUnit(held(t, kLast - i, 1));
  }
  index.RecomputeRollups();
  // Prepared outside the timing: the next revisions, spread over trusts and
  // months.
  std::vector<aggregator::HeldUnit> next;
  for (uint64_t r = 2; r < 2 + 4096; ++r) {
    next.push_back(
        held(trusts[r % trusts.size()],
             kLast - static_cast<int>((r / trusts.size()) % Months()), r));
  }
  size_t i = 0;
  aggregator::Index published = index;
  for (auto _ : state) {
    state.PauseTiming();
    aggregator::HeldUnit unit = next[i++ % next.size()];
    published = index;  // the snapshot queries hold meanwhile
    state.ResumeTiming();
    index.ReplaceUnit(std::move(unit));
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Footprint)->Iterations(1);
BENCHMARK(BM_IndexReplaceUnit);
BENCHMARK(BM_Commit)->Threads(1)->Threads(10)->Threads(100)->UseRealTime();
BENCHMARK(BM_RawWriteBatch)
    ->Threads(1)
    ->Threads(10)
    ->Threads(100)
    ->UseRealTime();
BENCHMARK(BM_HeavyQuery)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LightQueryIdle)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LightQueryUnderHeavy)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_CommitLatencyIdle)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CommitLatencyUnderHeavy)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace ohfed

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (ohfed::g_loaded != nullptr) {
    std::filesystem::remove_all(ohfed::g_loaded->dir);
  }
  return 0;
}
