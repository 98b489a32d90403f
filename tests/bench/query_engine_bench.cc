// The query engine over a loaded SummaryStore (issue 14 figure 3), in
// process: no gRPC, no TLS, so a profile of it (perf record) shows the
// engine alone. Measured, not asserted: run
// build/tests/bench/query_engine_bench (not part of ctest).
//
//  - BM_Query/N: the four figure-3 queries of tests/bench/e2e/queries.cc
//    (0 national by ICS for a year, 1 national by trust for five years,
//    2 one ICS by trust for a quarter, 3 completeness for a year), each
//    serialized straight into bytes (SerializeQuery/SerializeCompleteness)
//    with the store's query snapshot, as the gRPC service answers them.
//  - BM_QueryMessage/N: the same answers built as messages on an Arena and
//    then serialized, as the service did before the fifth round.
//  - BM_CompletenessCompact: BM_Query/3 asked for the compact form.
//  - BM_HeavyQuery: figure 4's heavy query, the same way.
//  - BM_FirstQueryAfterCommit: one trust's activity counts for a month,
//    the first query after a commit of one summary with unchanged figures.
//
// The store holds England's 207 trusts x 60 months of bench_data's
// summaries (OHFED_BENCH_MONTHS to load fewer), with the disclosure options
// the end-to-end figure runs with (exact values, secondary pattern on).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "aggregator/query_completeness.h"
#include "aggregator/query_engine.h"
#include "aggregator/summary_store.h"
#include "google/protobuf/arena.h"
#include "tests/bench/e2e/bench_data.h"
#include "tests/bench/e2e/queries.h"

namespace ohfed {
namespace {

int Months() {
  const char* env = std::getenv("OHFED_BENCH_MONTHS");
  return env != nullptr ? std::clamp(std::atoi(env), 1, bench::kMonths)
                        : bench::kMonths;
}

std::string TempDir() {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "ohfed-query-bench-XXXXXX")
          .string();
  return mkdtemp(tmpl.data());
}

DisclosureOptions ExactDisclosure() {
  DisclosureOptions d;
  d.suppress_max = 0;
  d.rounding_base = 1;
  d.min_events = 0;
  return d;
}

aggregator::SummaryStore& Store() {
  static aggregator::SummaryStore* store = [] {
    aggregator::SummaryStoreOptions options;
    options.disclosure = ExactDisclosure();
    auto opened = aggregator::SummaryStore::Open(TempDir(), options);
    if (!opened.ok()) {
      fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
      std::exit(1);
    }
    aggregator::SummaryStore* s = opened->release();
    const Catalogue& catalogue = s->catalogue();
    const bench::Orgs orgs = bench::EnglandOrgs();
    for (int i = 0; i < Months(); ++i) {
      std::vector<v1::UnitSummary> batch;
      for (const Trust& t : orgs.trusts) {
        batch.push_back(
            bench::MonthSummary(catalogue, t.code, bench::LastMonth() - i, 0));
      }
      if (!s->Commit(batch).ok()) std::exit(1);
    }
    fprintf(stderr, "loaded %zu trusts x %d months\n", orgs.trusts.size(),
            Months());
    return s;
  }();
  return *store;
}

aggregator::QueryOptions OptionsFor(
    const aggregator::SummaryStore& store,
    const aggregator::SummaryStore::QuerySnapshot& snapshot) {
  aggregator::QueryOptions options;
  options.patterns = snapshot.patterns;
  options.coverage = store.coverage();
  options.disclosure = store.disclosure();
  return options;
}

// One query as the service answers it (aggregator/query_service.cc: the
// answer serialized straight into bytes); its byte size.
size_t Ask(const aggregator::SummaryStore& store, const bench::QuerySpec& q) {
  const auto snapshot = store.SnapshotForQuery();
  const auto options = OptionsFor(store, snapshot);
  std::string wire;
  const absl::Status s =
      q.completeness
          ? aggregator::SerializeCompleteness(*snapshot.view,
                                              q.completeness_request,
                                              absl::Now(), options, &wire)
          : aggregator::SerializeQuery(*snapshot.view, q.query, options, &wire);
  if (!s.ok()) {
    fprintf(stderr, "%s\n", s.ToString().c_str());
    std::exit(2);
  }
  return wire.size();
}

// The same answer built as a message on an Arena, then serialized: how
// the service answered before the fifth round (docs/performance.md,
// "Queries").
size_t AskMessage(const aggregator::SummaryStore& store,
                  const bench::QuerySpec& q) {
  const auto snapshot = store.SnapshotForQuery();
  const auto options = OptionsFor(store, snapshot);
  google::protobuf::ArenaOptions arena_options;
  arena_options.start_block_size = 8 << 10;
  arena_options.max_block_size = 1 << 20;
  google::protobuf::Arena arena(arena_options);
  std::string wire;
  absl::Status s;
  if (q.completeness) {
    auto* r = google::protobuf::Arena::CreateMessage<v1::CompletenessResponse>(
        &arena);
    s = aggregator::RunCompleteness(*snapshot.view, q.completeness_request,
                                    absl::Now(), options, r);
    r->clear_warning();
    if (s.ok()) r->SerializeToString(&wire);
  } else {
    auto* r = google::protobuf::Arena::CreateMessage<v1::QueryResponse>(&arena);
    s = aggregator::RunQuery(*snapshot.view, q.query, options, r);
    if (s.ok()) r->SerializeToString(&wire);
  }
  if (!s.ok()) std::exit(2);
  return wire.size();
}

void BM_QueryMessage(benchmark::State& state) {
  aggregator::SummaryStore& store = Store();
  const bench::QuerySpec q = bench::BenchQueries()[state.range(0)];
  state.SetLabel(q.name);
  AskMessage(store, q);
  size_t bytes = 0;
  for (auto _ : state) bytes = AskMessage(store, q);
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_QueryMessage)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);

void BM_Query(benchmark::State& state) {
  aggregator::SummaryStore& store = Store();
  const bench::QuerySpec q = bench::BenchQueries()[state.range(0)];
  state.SetLabel(q.name);
  Ask(store, q);  // patterns computed once, as for the repeated e2e query
  size_t bytes = 0;
  for (auto _ : state) bytes = Ask(store, q);
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Query)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);

// Figure 3's completeness in the compact form (CompletenessRequest.compact),
// as `ohfed query` and the driver ask for it since the fifteenth round.
void BM_CompletenessCompact(benchmark::State& state) {
  aggregator::SummaryStore& store = Store();
  bench::QuerySpec q = bench::BenchQueries()[3];
  q.completeness_request.set_compact(true);
  state.SetLabel(q.name);
  size_t bytes = 0;
  for (auto _ : state) bytes = Ask(store, q);
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_CompletenessCompact)->Unit(benchmark::kMillisecond);

// What a repeated completeness query costs the service before it can send
// the kept answer (aggregator/query_answer_cache.h): its live inputs.
void BM_CompletenessLive(benchmark::State& state) {
  aggregator::SummaryStore& store = Store();
  const bench::QuerySpec q = bench::BenchQueries()[3];
  const auto snapshot = store.SnapshotForQuery();
  const auto options = OptionsFor(store, snapshot);
  size_t bytes = 0;
  for (auto _ : state) {
    bytes = aggregator::CompletenessLive(*snapshot.view, q.completeness_request,
                                         absl::Now(), options)
                .size();
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_CompletenessLive)->Unit(benchmark::kMillisecond);

// Figure 4's heavy query (national by trust for a year, every measure and
// default statistic), which loops while the light query and ingest are
// timed.
void BM_HeavyQuery(benchmark::State& state) {
  aggregator::SummaryStore& store = Store();
  const bench::QuerySpec q = bench::HeavyQuery();
  Ask(store, q);
  size_t bytes = 0;
  for (auto _ : state) bytes = Ask(store, q);
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_HeavyQuery)->Unit(benchmark::kMillisecond);

void BM_FirstQueryAfterCommit(benchmark::State& state) {
  aggregator::SummaryStore& store = Store();
  const bench::QuerySpec q = bench::ColdQuery();
  const Trust trust = bench::EnglandOrgs().trusts[3];
  uint64_t revision = 1;
  for (auto _ : state) {
    state.PauseTiming();
    v1::UnitSummary one = bench::MonthSummary(store.catalogue(), trust.code,
                                              bench::LastMonth(), 0);
    one.set_revision(++revision);
    if (!store.Commit({one}).ok()) std::exit(1);
    state.ResumeTiming();
    Ask(store, q);
  }
}
BENCHMARK(BM_FirstQueryAfterCommit)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ohfed

BENCHMARK_MAIN();
