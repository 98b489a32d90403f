// Fuzz target: the completeness handler (RunCompleteness,
// aggregator/query_completeness.h) on a snapshot of a small loaded store
// (tests/fuzz/query_store.h). The input is a serialized
// v1::CompletenessRequest. Properties: nothing crashes; an error is one the
// query contract names.
#include <cstddef>
#include <cstdint>

#include "aggregator/query_completeness.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/query_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ohfed;  // NOLINT: a fuzz entry point
  v1::CompletenessRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  const aggregator::SummaryStore& store = fuzz::QueryStore();
  aggregator::QueryOptions options;
  options.max_rows = 20000;
  absl::StatusOr<v1::CompletenessResponse> response =
      aggregator::RunCompleteness(*store.Snapshot(), request, fuzz::kQueryNow,
                                  options);
  if (!response.ok()) {
    FUZZ_CHECK(fuzz::IsQueryError(response.status()),
               response.status().ToString());
  }
  return 0;
}
