#include "aggregator/query_service.h"

#include "aggregator/query_engine.h"
#include "common/status.h"

namespace ohfed::aggregator {

grpc::Status QueryService::Query(grpc::ServerContext*,
                                 const v1::QueryRequest* request,
                                 v1::QueryResponse* response) {
  absl::StatusOr<v1::QueryResponse> result =
      store_->Read([&](const View& view) { return RunQuery(view, *request); });
  if (!result.ok()) return ToGrpc(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status QueryService::Completeness(grpc::ServerContext*,
                                        const v1::CompletenessRequest* request,
                                        v1::CompletenessResponse* response) {
  const absl::Time now = clock_->Now();
  absl::StatusOr<v1::CompletenessResponse> result =
      store_->Read([&](const View& view) {
        return RunCompleteness(view, *request, now);
      });
  if (!result.ok()) return ToGrpc(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace ohfed::aggregator
