#include "aggregator/query_service.h"

#include "aggregator/query_completeness.h"
#include "aggregator/query_engine.h"
#include "common/status.h"

namespace ohfed::aggregator {
namespace {

// The aggregator's coverage, the patterns shared by queries on the same
// data (SummaryStore::SnapshotForQuery), and a query that stops once its caller
// has gone or its deadline has passed by `clock` (gRPC cancels the call on
// either, but the deadline is checked too so that nothing depends on when that
// is noticed; no deadline is the far future). The deadline is on the system
// clock: it is moved onto `clock` (which OHFED_TEST_NOW may shift).
QueryOptions OptionsFor(const SummaryStore::QuerySnapshot& snapshot,
                        const SummaryStore& store, Clock* clock,
                        grpc::ServerContext* context) {
  QueryOptions options;
  options.patterns = snapshot.patterns;
  options.coverage = store.coverage();
  options.disclosure = store.disclosure();
  const absl::Time deadline =
      clock->FromSystemTime(absl::FromChrono(context->deadline()));
  options.cancelled = [context, clock, deadline] {
    return context->IsCancelled() || clock->Now() > deadline;
  };
  // IsCancelled passes through gRPC's completion queue: at most every ms.
  options.cancelled_poll_interval = absl::Milliseconds(1);
  return options;
}

// `request` with the scope the caller may ask for (Authz::AuthorizeQuery),
// or the refusal.
template <typename Request>
absl::StatusOr<Request> Authorized(const Authz& authz,
                                   const grpc::ServerContext& context,
                                   const Request& request) {
  absl::StatusOr<std::string> scope = authz.AuthorizeQuery(
      CredentialsOf(context), request.scope(), request.by());
  if (!scope.ok()) return scope.status();
  Request authorized = request;
  authorized.set_scope(*scope);
  return authorized;
}

}  // namespace

grpc::Status QueryService::Query(grpc::ServerContext* context,
                                 const v1::QueryRequest* request,
                                 v1::QueryResponse* response) {
  absl::StatusOr<v1::QueryRequest> authorized =
      Authorized(*authz_, *context, *request);
  if (!authorized.ok()) return ToGrpc(authorized.status());
  const SummaryStore::QuerySnapshot snapshot = store_->SnapshotForQuery();
  const QueryOptions options = OptionsFor(snapshot, *store_, clock_, context);
  absl::StatusOr<v1::QueryResponse> result =
      RunQuery(*snapshot.view, *authorized, options);
  if (!result.ok()) return ToGrpc(result.status());
  *response = std::move(*result);
  response->set_warning(
      UnconfirmedWarning(*snapshot.view, authorized->scope()));
  return grpc::Status::OK;
}

grpc::Status QueryService::Completeness(grpc::ServerContext* context,
                                        const v1::CompletenessRequest* request,
                                        v1::CompletenessResponse* response) {
  absl::StatusOr<v1::CompletenessRequest> authorized =
      Authorized(*authz_, *context, *request);
  if (!authorized.ok()) return ToGrpc(authorized.status());
  const absl::Time now = clock_->Now();
  const SummaryStore::QuerySnapshot snapshot = store_->SnapshotForQuery();
  const QueryOptions options = OptionsFor(snapshot, *store_, clock_, context);
  absl::StatusOr<v1::CompletenessResponse> result =
      RunCompleteness(*snapshot.view, *authorized, now, options);
  if (!result.ok()) return ToGrpc(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace ohfed::aggregator
