#include "tests/bench/e2e/writers.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <thread>

#include "absl/synchronization/barrier.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tests/bench/e2e/bench_data.h"

namespace ohfed::bench {
namespace {

// The batches of one stream, made once (so the writer measures the
// receiver, not the generator); each pass changes one value per summary,
// as a correction would.
struct Stream {
  std::vector<std::vector<v1::UnitSummary>> batches;
  uint64_t cells = 0;
};

Stream Prepare(const Catalogue& catalogue, const StreamPlan& plan, int batch) {
  Stream s;
  for (size_t i = 0; i < plan.months.size(); i += batch) {
    std::vector<v1::UnitSummary> b;
    for (size_t j = i; j < plan.months.size() && j < i + batch; ++j) {
      b.push_back(MonthSummary(catalogue, plan.trust, plan.months[j], 0));
      s.cells += b.back().cells_size();
    }
    s.batches.push_back(std::move(b));
  }
  return s;
}

struct Shared {
  absl::Mutex mu;
  RunResult result ABSL_GUARDED_BY(mu);
  absl::Status error ABSL_GUARDED_BY(mu);
};

// A batch sent and not yet durable, with what it counts for.
struct Outstanding {
  absl::Time sent;
  uint64_t summaries = 0, cells = 0, bytes = 0;
};

// Counts `o` as durable now.
void Done(const Outstanding& o, absl::Time start, RunResult& r) {
  const absl::Time now = absl::Now();
  r.latency_ms.push_back(absl::ToDoubleMilliseconds(now - o.sent));
  r.timeline.emplace_back(absl::ToDoubleSeconds(o.sent - start),
                          absl::ToDoubleSeconds(now - start));
  ++r.batches;
  r.summaries += o.summaries;
  r.cells += o.cells;
  r.bytes += o.bytes;
}

// Thread body: sends its streams' batches round-robin, up to
// options.window of them not yet durable.
void Write(std::vector<Stream*> streams, Sink& sink, const RunOptions& options,
           absl::Time start, Shared& shared) {
  RunResult local;
  absl::Status error;
  const absl::Time end = start + options.duration;
  const bool once = options.duration == absl::ZeroDuration();
  const size_t window = std::max(options.window, 1);
  std::deque<Outstanding> out;
  for (uint64_t pass = 0; error.ok(); ++pass) {
    bool sent = false;
    for (Stream* s : streams) {
      for (auto& batch : s->batches) {
        if (once ? pass > 0 : absl::Now() >= end) break;
        for (auto& summary : batch) {
          summary.set_revision(options.revision + pass);
          // The first pass sends bench_data's figures unchanged (what
          // PostgreSQL is bulk-loaded with); later ones correct a value.
          if (pass > 0) {
            summary.mutable_cells(0)->set_value(static_cast<double>(pass % 8));
          }
        }
        Outstanding o{.summaries = batch.size()};
        for (const auto& summary : batch) {
          o.cells += summary.cells_size();
          o.bytes += summary.ByteSizeLong();
        }
        o.sent = absl::Now();
        if (window == 1) {  // as before windows: one call, durable on return
          error = sink.Write(batch);
          if (!error.ok()) break;
          Done(o, start, local);
          sent = true;
          continue;
        }
        error = sink.Send(batch);
        if (!error.ok()) break;
        out.push_back(o);
        sent = true;
        if (out.size() < window) continue;
        error = sink.Collect();
        if (!error.ok()) break;
        Done(out.front(), start, local);
        out.pop_front();
      }
      if (!error.ok()) break;
    }
    if (!sent) break;
  }
  // What is still in flight at the end counts once it is durable.
  while (error.ok() && !out.empty()) {
    error = sink.Collect();
    if (error.ok()) Done(out.front(), start, local);
    out.pop_front();
  }
  absl::MutexLock l(&shared.mu);
  if (!error.ok() && shared.error.ok()) shared.error = error;
  shared.result.summaries += local.summaries;
  shared.result.cells += local.cells;
  shared.result.bytes += local.bytes;
  shared.result.batches += local.batches;
  shared.result.latency_ms.insert(shared.result.latency_ms.end(),
                                  local.latency_ms.begin(),
                                  local.latency_ms.end());
  shared.result.timeline.insert(shared.result.timeline.end(),
                                local.timeline.begin(), local.timeline.end());
}

}  // namespace

std::vector<StreamPlan> IngestPlan(int streams, int months) {
  Orgs orgs = EnglandOrgs();
  const int n = static_cast<int>(orgs.trusts.size());
  std::vector<StreamPlan> plan;
  for (int i = 0; i < streams; ++i) {
    StreamPlan p{orgs.trusts[i % n].code, {}};
    int block = (i / n) % (kMonths / months);
    for (int m = 0; m < months; ++m)
      p.months.push_back(FirstMonth() + block * months + m);
    plan.push_back(std::move(p));
  }
  return plan;
}

std::vector<StreamPlan> CensusPlan(Month first, int months) {
  std::vector<StreamPlan> plan;
  for (const Trust& t : EnglandOrgs().trusts) {
    StreamPlan p{t.code, {}};
    for (int m = 0; m < months; ++m) p.months.push_back(first + m);
    plan.push_back(std::move(p));
  }
  return plan;
}

absl::StatusOr<RunResult> RunWriters(
    const std::vector<StreamPlan>& plan, const RunOptions& options,
    const std::function<absl::StatusOr<std::unique_ptr<Sink>>(int)>& open) {
  auto catalogue = Catalogue::Default();
  std::vector<Stream> streams;
  for (const auto& p : plan)
    streams.push_back(Prepare(*catalogue, p, options.batch));
  const int threads =
      options.threads > 0 && options.threads < static_cast<int>(plan.size())
          ? options.threads
          : static_cast<int>(plan.size());
  std::vector<std::unique_ptr<Sink>> sinks;
  for (int i = 0; i < threads; ++i) {
    auto sink = open(i);
    if (!sink.ok()) return sink.status();
    sinks.push_back(*std::move(sink));
  }
  Shared shared;
  absl::Time start = absl::Now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    std::vector<Stream*> mine;
    for (size_t i = t; i < streams.size(); i += threads)
      mine.push_back(&streams[i]);
    workers.emplace_back(
        [&, mine, t] { Write(mine, *sinks[t], options, start, shared); });
  }
  for (auto& w : workers) w.join();
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  absl::MutexLock l(&shared.mu);
  if (shared.error.ok() && options.after_writes) {
    shared.error = options.after_writes(start);
  }
  sinks.clear();  // streams finish outside the measured time
  if (!shared.error.ok()) return shared.error;
  shared.result.seconds = seconds;
  shared.result.start = start;
  return std::move(shared.result);
}

}  // namespace ohfed::bench
