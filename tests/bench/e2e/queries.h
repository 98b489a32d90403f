// The benchmark queries (issue 14 figures 3 and 4), each asked of the
// aggregator over gRPC and of PostgreSQL as the equivalent GROUP BY, with
// their answers as comparable maps.
#ifndef OHFED_TESTS_BENCH_E2E_QUERIES_H_
#define OHFED_TESTS_BENCH_E2E_QUERIES_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/period.h"
#include "ohfed/v1/ohfed.grpc.pb.h"
#include "tests/bench/e2e/pg.h"

namespace ohfed::bench {

// "unit|measure" (or "period|trust" for completeness) -> value.
using Answer = std::map<std::string, double>;

struct QuerySpec {
  std::string name;
  bool completeness = false;
  v1::QueryRequest query;                        // unless completeness
  v1::CompletenessRequest completeness_request;  // if completeness
  std::string sql;  // rows: key part 1, key part 2, value
};

// The four figure-3 queries, over the span bench_data loads.
std::vector<QuerySpec> BenchQueries();
// Light and heavy queries for the isolation figure.
QuerySpec LightQuery();
QuerySpec HeavyQuery();
// A small query below national of a disclosive measure (one trust's activity
// counts for a month), for the first query after a commit.
QuerySpec ColdQuery();

// Fails with the gRPC status's code and message. A Query or Completeness
// call is asked for its compact answer (QueryRequest.compact,
// CompletenessRequest.compact), as `ohfed query` asks, unless `compact` is
// false (tidy rows, as clients asked before it).
absl::StatusOr<Answer> AskOhfed(const std::shared_ptr<grpc::Channel>& channel,
                                const QuerySpec& q,
                                absl::Time deadline = absl::InfiniteFuture(),
                                bool compact = true);
absl::StatusOr<Answer> AskPg(Pg& pg, const QuerySpec& q);

// Figure 2's poll: national completeness by region of `months` months
// from `from`.
QuerySpec CensusQuery(Month from, int months);
// Whether CensusQuery(from, months) shows every month with every trust
// reported; the gRPC error if the query failed.
absl::StatusOr<bool> NationalComplete(v1::Query::Stub& stub, Month from,
                                      int months);

// Largest |a-b| / max(|a|,|b|) over the union of keys (a key missing on one
// side counts as 1); `missing` counts such keys.
double LargestRelativeDifference(const Answer& a, const Answer& b,
                                 int* missing);

}  // namespace ohfed::bench

#endif  // OHFED_TESTS_BENCH_E2E_QUERIES_H_
