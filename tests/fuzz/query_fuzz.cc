// Fuzz target: the query handler (RunQuery, aggregator/query_engine.h) on a
// snapshot of a small loaded store (tests/fuzz/query_store.h), as the Query
// service runs it for each request. The input is a serialized
// v1::QueryRequest. Properties: nothing crashes; an error is one the
// engine's contract names; no answer exceeds the row limit; no row is built
// on more trusts than the registry holds; a compact answer's columns are
// consistent (checked on its rows once expanded, as a client reads them).
#include <cstddef>
#include <cstdint>

#include "aggregator/query_engine.h"
#include "common/query_rows.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/query_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ohfed;  // NOLINT: a fuzz entry point
  v1::QueryRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  const aggregator::SummaryStore& store = fuzz::QueryStore();
  aggregator::QueryOptions options;
  options.max_rows = 20000;
  absl::StatusOr<v1::QueryResponse> response =
      aggregator::RunQuery(*store.Snapshot(), request, options);
  if (!response.ok()) {
    FUZZ_CHECK(fuzz::IsQueryError(response.status()),
               response.status().ToString());
    return 0;
  }
  absl::StatusOr<v1::QueryResponse> rows =
      ExpandCompactRows(*std::move(response));
  FUZZ_CHECK(rows.ok(), rows.status().ToString());
  FUZZ_CHECK(rows->rows_size() <= options.max_rows, "too many rows");
  for (const v1::Row& row : rows->rows()) {
    FUZZ_CHECK(row.n_units() <= 5, row.ShortDebugString());
  }
  return 0;
}
