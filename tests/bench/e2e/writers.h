// Many concurrent writers of unit summaries into one Sink each, as agents
// streaming to an aggregator: the plan of who writes which trust-months, and
// the timed run (issue 14 figures 1, 2 and 7).
#ifndef OHFED_TESTS_BENCH_E2E_WRITERS_H_
#define OHFED_TESTS_BENCH_E2E_WRITERS_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/period.h"
#include "tests/bench/e2e/sinks.h"

namespace ohfed::bench {

// One writer: a trust and the months it sends, `batch` at a time.
struct StreamPlan {
  std::string trust;
  std::vector<Month> months;
};

// Ingest: stream i writes trust i % 207, and a block of `months` months of
// its own (12: the 60 months hold five blocks, so up to 1,035 streams never
// share a key; 48, a window of 4 batches of 12: up to 207 streams).
std::vector<StreamPlan> IngestPlan(int streams, int months = 12);
// Census: every trust, `months` months from `first`.
std::vector<StreamPlan> CensusPlan(Month first, int months);

struct RunOptions {
  int batch = 12;
  uint64_t revision = 1;  // the first revision sent; later passes add one
  // Zero: every stream sends its months once. Otherwise streams loop over
  // their months until this much time has passed.
  absl::Duration duration;
  // Streams per writing thread (PostgreSQL: a pool of connections).
  int threads = 0;  // 0: one per stream
  // Batches a writer sends before the first of them is durable (Sink::Send
  // and Collect), as an agent's upload window. 1: Sink::Write, each batch
  // waits for the one before. Every stream needs at least `window` batches
  // (a batch is never resent while it is in flight).
  int window = 1;
  // Run once every batch is durable (the writers joined, `seconds` taken)
  // and before any stream is finished, with the clock's start: figure 2's
  // poll of the national view. An error fails the run.
  std::function<absl::Status(absl::Time start)> after_writes;
};

struct RunResult {
  uint64_t summaries = 0, cells = 0, bytes = 0, batches = 0;
  double seconds = 0;
  absl::Time start;                // the clock's
  std::vector<double> latency_ms;  // per batch, sent to durable
  // Per batch, seconds from the clock's start to its send and to its ack
  // (`write --timeline FILE`).
  std::vector<std::pair<double, double>> timeline;
};

// `open(i)` makes the sink of thread i. Every sink is open before the clock
// starts.
absl::StatusOr<RunResult> RunWriters(
    const std::vector<StreamPlan>& plan, const RunOptions& options,
    const std::function<absl::StatusOr<std::unique_ptr<Sink>>(int)>& open);

}  // namespace ohfed::bench

#endif  // OHFED_TESTS_BENCH_E2E_WRITERS_H_
