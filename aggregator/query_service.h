// The Query gRPC service (ohfed.v1.Query): a thin adapter that runs the
// query engine (aggregator/query_engine.h) on a snapshot of the store, within
// the store's coverage, stopping once the caller has gone or its deadline
// has passed, and maps absl::Status to grpc::Status. Every call is first
// authorised (aggregator/authz.h): the caller's scope must cover the
// request's scope and breakdown, and an empty scope means the caller's own.
//
// Thread-safe. The store, clock and authz must outlive the service.
#ifndef OHFED_AGGREGATOR_QUERY_SERVICE_H_
#define OHFED_AGGREGATOR_QUERY_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "aggregator/authz.h"
#include "aggregator/summary_store.h"
#include "common/clock.h"
#include "ohfed/v1/ohfed.grpc.pb.h"

namespace ohfed::aggregator {

class QueryService final : public v1::Query::Service {
 public:
  QueryService(const SummaryStore* store, Clock* clock, const Authz* authz)
      : store_(store), clock_(clock), authz_(authz) {}

  grpc::Status Query(grpc::ServerContext* context,
                     const v1::QueryRequest* request,
                     v1::QueryResponse* response) override;
  grpc::Status Completeness(grpc::ServerContext* context,
                            const v1::CompletenessRequest* request,
                            v1::CompletenessResponse* response) override;

 private:
  const SummaryStore* const store_;
  Clock* const clock_;
  const Authz* const authz_;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_QUERY_SERVICE_H_
