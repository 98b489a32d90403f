// TEMPORARY placeholder so the library links while the engine is written;
// replaced by the real implementation.
#include "aggregator/query_engine.h"

namespace ohfed::aggregator {

absl::StatusOr<v1::QueryResponse> RunQuery(const View&, const v1::QueryRequest&) {
  return absl::UnimplementedError("query engine not built yet");
}

absl::StatusOr<v1::CompletenessResponse> RunCompleteness(
    const View&, const v1::CompletenessRequest&, absl::Time) {
  return absl::UnimplementedError("completeness not built yet");
}

}  // namespace ohfed::aggregator
