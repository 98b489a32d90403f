#include "aggregator/query_service.h"

#include <functional>

#include "aggregator/query_completeness.h"
#include "aggregator/query_engine.h"
#include "aggregator/query_limits.h"
#include "common/status.h"

namespace ohfed::aggregator {
namespace {

// Whether the caller has gone or its deadline has passed by `clock` (gRPC
// cancels the call on either, but the deadline is checked too so that nothing
// depends on when that is noticed; no deadline is the far future). The
// deadline is on the system clock: it is moved onto `clock` (which
// OHFED_TEST_NOW may shift).
absl::Time DeadlineOn(Clock* clock, const grpc::ServerContextBase& context) {
  return clock->FromSystemTime(absl::FromChrono(context.deadline()));
}

std::function<bool()> CancelledFor(Clock* clock,
                                   const grpc::ServerContextBase* context) {
  const absl::Time deadline = DeadlineOn(clock, *context);
  return [context, clock, deadline] {
    return context->IsCancelled() || clock->Now() > deadline;
  };
}

// The aggregator's coverage, the patterns shared by queries on the same
// data (SummaryStore::SnapshotForQuery), and a query that stops once
// CancelledFor says so. A heavy query pauses at those polls while light
// queries wait or run (QueryLanes::HeavyPoll), never past its deadline.
QueryOptions OptionsFor(const SummaryStore::QuerySnapshot& snapshot,
                        const SummaryStore& store, Clock* clock,
                        const grpc::ServerContextBase* context,
                        QueryLanes* heavy_lanes) {
  QueryOptions options;
  options.patterns = snapshot.patterns;
  options.coverage = store.coverage();
  options.disclosure = store.disclosure();
  options.cancelled = CancelledFor(clock, context);
  if (heavy_lanes != nullptr) {
    const absl::Time deadline = absl::FromChrono(context->deadline());
    options.cancelled = [heavy_lanes, deadline,
                         cancelled = std::move(options.cancelled)] {
      heavy_lanes->HeavyPoll(deadline);
      return cancelled();
    };
  }
  // IsCancelled passes through gRPC's completion queue: at most every ms.
  options.cancelled_poll_interval = absl::Milliseconds(1);
  return options;
}

// Refused before it is queued as the engine would refuse it (kCancelled,
// "query abandoned"), if its caller has gone or its deadline has passed.
absl::Status AbandonedOnArrival(Clock* clock,
                                const grpc::ServerContextBase* context) {
  QueryOptions options;
  options.cancelled = CancelledFor(clock, context);
  return CheckCancelled(options);
}

// `request` with the scope the caller may ask for (Authz::AuthorizeQuery),
// or the refusal.
template <typename Request>
absl::StatusOr<Request> Authorized(const Authz& authz,
                                   const grpc::ServerContextBase& context,
                                   const Request& request) {
  absl::StatusOr<std::string> scope = authz.AuthorizeQuery(
      CredentialsOf(context), request.scope(), request.by());
  if (!scope.ok()) return scope.status();
  Request authorized = request;
  authorized.set_scope(*scope);
  return authorized;
}

}  // namespace

absl::Status QueryService::StillWanted(
    const grpc::CallbackServerContext& context) const {
  if (clock_->Now() > DeadlineOn(clock_, context)) {
    return absl::DeadlineExceededError(
        "query not run: its deadline passed while it waited for a free "
        "thread (heavy queries run a few at a time)");
  }
  if (context.IsCancelled()) {
    return absl::CancelledError("query not run: the caller has gone");
  }
  return absl::OkStatus();
}

template <typename Request, typename Response, typename Cost, typename Answer>
grpc::ServerUnaryReactor* QueryService::Serve(
    grpc::CallbackServerContext* context, const Request& request,
    Response* response, Cost cost, Answer answer) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Request> authorized = Authorized(*authz_, *context, request);
  if (!authorized.ok()) {
    reactor->Finish(ToGrpc(authorized.status()));
    return reactor;
  }
  if (absl::Status gone = AbandonedOnArrival(clock_, context); !gone.ok()) {
    reactor->Finish(ToGrpc(gone));
    return reactor;
  }
  // Before the lambda below takes the request: argument order is unspecified.
  const QueryLane lane = lanes_.LaneFor(cost(*authorized));
  lanes_.Run(
      lane, [this, lane, context, reactor, response, answer = std::move(answer),
             request = std::move(*authorized)] {
        if (absl::Status wanted = StillWanted(*context); !wanted.ok()) {
          return reactor->Finish(ToGrpc(wanted));
        }
        const SummaryStore::QuerySnapshot snapshot = store_->SnapshotForQuery();
        const QueryOptions options =
            OptionsFor(snapshot, *store_, clock_, context,
                       lane == QueryLane::kHeavy ? &lanes_ : nullptr);
        absl::Status result = answer(request, snapshot, options, response);
        if (!result.ok())
          response->Clear();  // not sent; its memory goes sooner
        reactor->Finish(ToGrpc(result));
      });
  return reactor;
}

grpc::ServerUnaryReactor* QueryService::Query(
    grpc::CallbackServerContext* context, const v1::QueryRequest* request,
    v1::QueryResponse* response) {
  return Serve(
      context, *request, response,
      [this](const v1::QueryRequest& req) {
        return QueryCost(req, store_->registry().Latest(), store_->catalogue());
      },
      [](const v1::QueryRequest& req,
         const SummaryStore::QuerySnapshot& snapshot,
         const QueryOptions& options, v1::QueryResponse* response) {
        OHFED_RETURN_IF_ERROR(RunQuery(*snapshot.view, req, options, response));
        response->set_warning(UnconfirmedWarning(*snapshot.view, req.scope()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* QueryService::Completeness(
    grpc::CallbackServerContext* context,
    const v1::CompletenessRequest* request,
    v1::CompletenessResponse* response) {
  return Serve(
      context, *request, response,
      [this](const v1::CompletenessRequest& req) {
        return CompletenessCost(req, store_->registry().Latest());
      },
      [this](const v1::CompletenessRequest& req,
             const SummaryStore::QuerySnapshot& snapshot,
             const QueryOptions& options, v1::CompletenessResponse* response) {
        return RunCompleteness(*snapshot.view, req, clock_->Now(), options,
                               response);
      });
}

}  // namespace ohfed::aggregator
