// How long the dashboard takes to build a page (issue 12): England's 207
// trusts x 60 months of staffing, activity and waits, plus yearly profiles,
// in a real SummaryStore in a temporary directory, queried through the
// same engine, coverage and disclosure control as the server. Measured, not
// asserted: run build/tests/bench/dashboard_bench (not part of ctest);
// OHFED_BENCH_BELOW_NATIONAL=1 adds a region and an ICS page.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "aggregator/authz.h"
#include "aggregator/summary_store.h"
#include "dashboard/chart_svg.h"
#include "dashboard/pages.h"
#include "dashboard/store_source.h"
#include "tests/bench/lcg.h"

namespace ohfed {
namespace {

using ::ohfed::bench::Lcg;

constexpr int kMonths = 60;
const Month kLast = Month::Of(2026, 9);

// The server's QuerySource (dashboard/store_source.h) for a caller who may
// see everything: an open Authz, as an --insecure aggregator without tokens
// authorises.
struct Source {
  explicit Source(const aggregator::SummaryStore& store)
      : authz({.insecure = true}, &store.registry().Latest()),
        source(&store, &authz, {}, Clock::Real(), absl::InfiniteFuture()) {}
  aggregator::Authz authz;
  dashboard::StoreSource source;
};

void AddCell(v1::UnitSummary& s, const std::string& measure, double value) {
  v1::Cell* c = s.add_cells();
  c->set_measure(measure);
  c->set_value(value);
}

v1::UnitSummary MonthSummary(const Catalogue& catalogue, const Trust& trust,
                             Month month, int trust_index, Lcg& rng) {
  v1::UnitSummary s;
  s.set_trust(trust.code);
  s.set_period(month.ToString());
  s.set_revision(1);
  s.set_catalogue_version(catalogue.version());
  // Received on the 5th to the 24th of the next month: some late.
  s.set_first_received_unix_ms(absl::ToUnixMillis(
      (month + 1).Start() + absl::Hours(24 * (4 + rng.Next(20)))));
  for (const Measure* m : catalogue.WithPrefix("staffing.wte")) {
    AddCell(s, m->code, rng.Next(40) / 8.0);
  }
  for (const Measure* m : catalogue.WithPrefix("staffing.vacant_wte")) {
    if (rng.Next(3) == 0) AddCell(s, m->code, rng.Next(8) / 4.0);
  }
  for (const Measure* m : catalogue.WithPrefix("activity.count")) {
    AddCell(s, m->code, rng.Next(trust_index % 7 == 0 ? 8 : 200));
  }
  AddCell(s, "activity.staff_seen", 100 + rng.Next(400));
  for (const Measure* m : catalogue.WithPrefix("activity.wait_days")) {
    if (rng.Next(2) == 0) continue;
    v1::Cell* c = s.add_cells();
    c->set_measure(m->code);
    bench::AddDistribution(c, rng);
  }
  return s;
}

v1::UnitSummary YearSummary(const Catalogue& catalogue, const Trust& trust,
                            int year, Lcg& rng) {
  v1::UnitSummary s;
  s.set_trust(trust.code);
  s.set_period(std::to_string(year));
  s.set_revision(1);
  s.set_catalogue_version(catalogue.version());
  for (const Measure* m : catalogue.WithPrefix("profile")) {
    if (m->is_yes_no()) AddCell(s, m->code, rng.Next(2));
  }
  AddCell(s, "profile.staff_served", 2000 + rng.Next(18000));
  return s;
}

// The store, loaded once for every benchmark.
struct Loaded {
  std::string dir;
  std::unique_ptr<aggregator::SummaryStore> store;
};

Loaded* g_loaded = nullptr;  // set by the first Load()

Loaded& Load() {
  static Loaded* loaded = [] {
    auto* l = new Loaded;
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "ohfed-bench-XXXXXX")
            .string();
    l->dir = mkdtemp(tmpl.data());
    auto store = aggregator::SummaryStore::Open(l->dir, {});
    if (!store.ok()) {
      fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
      std::exit(1);
    }
    l->store = *std::move(store);
    const Catalogue& catalogue = l->store->catalogue();
    const Registry& registry = l->store->registry().Latest();
    std::vector<std::string> trusts = registry.TrustsIn(Scope::National());
    Lcg rng(12);
    for (int i = 0; i < kMonths; ++i) {
      Month month = kLast - (kMonths - 1 - i);
      std::vector<v1::UnitSummary> batch;
      for (size_t t = 0; t < trusts.size(); ++t) {
        batch.push_back(MonthSummary(catalogue, *registry.FindTrust(trusts[t]),
                                     month, static_cast<int>(t), rng));
      }
      if (auto s = l->store->Commit(batch); !s.ok()) std::exit(1);
    }
    std::vector<v1::UnitSummary> years;
    for (int year = kLast.year() - 5; year <= kLast.year(); ++year) {
      for (const std::string& t : trusts) {
        years.push_back(
            YearSummary(catalogue, *registry.FindTrust(t), year, rng));
      }
    }
    if (auto s = l->store->Commit(years); !s.ok()) std::exit(1);
    fprintf(stderr, "loaded %zu trusts x %d months into %s\n", trusts.size(),
            kMonths, l->dir.c_str());
    return l;
  }();
  g_loaded = loaded;
  return *loaded;
}

void BuildPageBenchmark(benchmark::State& state, Scope scope, Period period) {
  const aggregator::SummaryStore& store = *Load().store;
  size_t cells = 0;
  for (auto _ : state) {
    Source source(store);  // as the server makes one per page
    auto page = dashboard::BuildPage(source.source, scope, period);
    if (!page.ok()) {
      state.SkipWithError(page.status().ToString().c_str());
      return;
    }
    // Its charts too, as the page draws them.
    cells = 0;
    size_t svg_bytes = 0;
    for (const auto& section : page->sections) {
      for (const auto& table : section.tables) {
        for (const auto& row : table.rows) cells += row.size();
      }
      for (const auto& chart : section.charts) {
        for (const auto& table : section.tables) {
          if (table.id == chart.table_id) {
            svg_bytes += dashboard::RenderChartSvg(chart, table).size();
          }
        }
      }
    }
    benchmark::DoNotOptimize(svg_bytes);
    benchmark::DoNotOptimize(page);
  }
  state.counters["cells"] = static_cast<double>(cells);
}

void BM_EnglandMonth(benchmark::State& state) {
  BuildPageBenchmark(state, Scope::National(), Period::OfMonth(kLast));
}
void BM_EnglandFinancialYear(benchmark::State& state) {
  BuildPageBenchmark(state, Scope::National(), *Period::Parse("FY2025"));
}
void BM_RegionMonth(benchmark::State& state) {
  const Registry& registry = Load().store->registry().Latest();
  BuildPageBenchmark(state, {Scope::Level::kRegion, registry.regions()[0].code},
                     Period::OfMonth(kLast));
}
void BM_IcsMonth(benchmark::State& state) {
  const Registry& registry = Load().store->registry().Latest();
  BuildPageBenchmark(state, {Scope::Level::kIcs, registry.regions()[0].icss[0]},
                     Period::OfMonth(kLast));
}

BENCHMARK(BM_EnglandMonth)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EnglandFinancialYear)->Unit(benchmark::kMillisecond);
// Below national every disclosive measure a page shows costs the engine a
// secondary-suppression pattern over everything it holds (most of a second
// each with five years of England; a page shows over thirty) the first time
// after the data changed; later pages share those patterns. So these run
// once each, in order: the first region page (cold), the same page again,
// then an ICS page (its measures' patterns already computed); and only when
// OHFED_BENCH_BELOW_NATIONAL=1.
void RegisterBelowNational() {
  for (const char* name : {"BM_RegionMonthFirst", "BM_RegionMonthAgain"}) {
    benchmark::RegisterBenchmark(name, BM_RegionMonth)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
  }
  benchmark::RegisterBenchmark("BM_IcsMonthAfterRegion", BM_IcsMonth)
      ->Unit(benchmark::kMillisecond)
      ->Iterations(1);
}

}  // namespace
}  // namespace ohfed

int main(int argc, char** argv) {
  const char* below = std::getenv("OHFED_BENCH_BELOW_NATIONAL");
  if (below != nullptr && std::string(below) == "1") {
    ohfed::RegisterBelowNational();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (ohfed::g_loaded != nullptr) {
    std::filesystem::remove_all(ohfed::g_loaded->dir);
  }
  return 0;
}
