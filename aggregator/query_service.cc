#include "aggregator/query_service.h"

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "aggregator/disclosure_pattern.h"
#include "aggregator/query_completeness.h"
#include "aggregator/query_engine.h"
#include "aggregator/query_limits.h"
#include "common/log.h"
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
// CancelledFor says so.
QueryOptions OptionsFor(const SummaryStore::QuerySnapshot& snapshot,
                        const SummaryStore& store, Clock* clock,
                        const grpc::ServerContextBase* context) {
  QueryOptions options;
  options.patterns = snapshot.patterns;
  options.coverage = store.coverage();
  options.disclosure = store.disclosure();
  options.cancelled = CancelledFor(clock, context);
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

// The bytes of `answer` (whose buffer it shares: a cached answer is sent
// without a copy) followed by `warning` as the response's field 4.
grpc::ByteBuffer ToBytes(std::shared_ptr<const AnswerCache::Answer> answer,
                         absl::string_view warning) {
  auto* held =
      new std::shared_ptr<const AnswerCache::Answer>(std::move(answer));
  grpc::Slice slices[2] = {
      grpc::Slice(
          const_cast<char*>((*held)->bytes.data()), (*held)->bytes.size(),
          [](void* p) {
            delete static_cast<std::shared_ptr<const AnswerCache::Answer>*>(p);
          },
          held),
      grpc::Slice()};
  if (warning.empty()) return grpc::ByteBuffer(slices, 1);
  std::string field;
  AppendWarning(warning, &field);
  slices[1] = grpc::Slice(field);
  return grpc::ByteBuffer(slices, 2);
}

// What an answer is kept under: the response's type, the authorized
// request (which names a Query answer's form, tidy or compact) and the
// disclosure thresholds (which a reload may change; it also publishes a new
// View, but the two are read separately).
template <typename Request>
std::string CacheKey(absl::string_view response, const Request& request,
                     const DisclosureOptions& d) {
  return absl::StrCat(response, ";", d.suppress_max, ",", d.rounding_base, ",",
                      d.min_events, ",", d.min_possible_values, ",",
                      d.secondary ? 1 : 0, ";", request.SerializeAsString());
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

void QueryService::WarmPatterns() {
  const SummaryStore::QuerySnapshot snapshot = store_->SnapshotForQuery();
  bool again = false;
  if (snapshot.patterns != nullptr) {
    warm_computed_ += aggregator::WarmPatterns(
        *snapshot.view, store_->disclosure(), store_->coverage().scope(),
        *snapshot.patterns,
        [&] {
          if (stopping_) return true;
          again = store_->SnapshotForQuery().patterns != snapshot.patterns;
          return again;
        },
        &warm_next_);
  }
  if (stopping_) return warmed_.Notify();
  if (again) return lanes_.RunInBackground([this] { WarmPatterns(); });
  // Operators (and the benchmarks, which time queries after it) see when
  // the start-up work is done.
  LogLine(absl::StrCat("suppression patterns ready: ", warm_computed_,
                       " computed in advance in ",
                       absl::FormatDuration(clock_->Now() - warm_started_)));
  warmed_.Notify();
}

template <typename Request, typename Response, typename Cost, typename Answer,
          typename Live, typename Warning>
grpc::ServerUnaryReactor* QueryService::Serve(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer& raw,
    grpc::ByteBuffer* response, Cost cost, Answer answer, Live live,
    Warning warning, bool view_only) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Request request;
  grpc::ByteBuffer copy(raw);  // Deserialize consumes; this shares the slices
  if (!grpc::SerializationTraits<Request>::Deserialize(&copy, &request).ok()) {
    reactor->Finish(grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("request: not a valid ", Request::descriptor()->name())));
    return reactor;
  }
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
  if (view_only && lane == QueryLane::kLight && answers_.enabled()) {
    const SummaryStore::QuerySnapshot snapshot = store_->SnapshotForQuery();
    if (auto kept = answers_.Lookup(snapshot.view,
                                    CacheKey(Response::descriptor()->name(),
                                             *authorized, store_->disclosure()),
                                    std::string())) {
      *response = ToBytes(std::move(kept), warning(*authorized, snapshot));
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }
  }
  lanes_.Run(lane, [this, context, reactor, response, lane,
                    answer = std::move(answer), live = std::move(live),
                    warning = std::move(warning),
                    request = std::move(*authorized)] {
    if (absl::Status wanted = StillWanted(*context); !wanted.ok()) {
      return reactor->Finish(ToGrpc(wanted));
    }
    const SummaryStore::QuerySnapshot snapshot = store_->SnapshotForQuery();
    const QueryOptions options = OptionsFor(snapshot, *store_, clock_, context);
    const absl::Time now = clock_->Now();  // one instant for the whole call
    bool cached = lane == QueryLane::kLight && answers_.enabled();
    std::string key, live_now;
    if (cached) {
      key =
          CacheKey(Response::descriptor()->name(), request, options.disclosure);
      live_now = live(request, snapshot, options, now);
      if (auto kept = answers_.Lookup(snapshot.view, key, live_now)) {
        *response = ToBytes(std::move(kept), warning(request, snapshot));
        return reactor->Finish(grpc::Status::OK);
      }
    }
    auto built = std::make_shared<AnswerCache::Answer>();
    if (absl::Status result =
            answer(request, snapshot, options, now, &built->bytes);
        !result.ok()) {
      return reactor->Finish(ToGrpc(result));
    }
    // Kept only if what it read outside the View did not change meanwhile.
    if (cached && live(request, snapshot, options, now) == live_now) {
      built->live = std::move(live_now);
      answers_.Insert(snapshot.view, std::move(key), built);
    }
    *response = ToBytes(std::move(built), warning(request, snapshot));
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* QueryService::Query(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  auto cost = [this](const v1::QueryRequest& req) {
    return QueryCost(req, store_->registry().Latest(), store_->catalogue());
  };
  auto answer = [](const v1::QueryRequest& req,
                   const SummaryStore::QuerySnapshot& snapshot,
                   const QueryOptions& options, absl::Time /*now*/,
                   std::string* bytes) {
    return SerializeQuery(*snapshot.view, req, options, bytes);
  };
  // RunQuery reads nothing outside the View.
  auto live = [](const v1::QueryRequest&, const SummaryStore::QuerySnapshot&,
                 const QueryOptions&, absl::Time) { return std::string(); };
  auto warning = [](const v1::QueryRequest& req,
                    const SummaryStore::QuerySnapshot& snapshot) {
    return UnconfirmedWarning(*snapshot.view, req.scope());
  };
  return Serve<v1::QueryRequest, v1::QueryResponse>(context, *request, response,
                                                    cost, answer, live, warning,
                                                    /*view_only=*/true);
}

grpc::ServerUnaryReactor* QueryService::Completeness(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return Serve<v1::CompletenessRequest, v1::CompletenessResponse>(
      context, *request, response,
      [this](const v1::CompletenessRequest& req) {
        return CompletenessCost(req, store_->registry().Latest());
      },
      // Without the warning: sent as `warning` gives it.
      [](const v1::CompletenessRequest& req,
         const SummaryStore::QuerySnapshot& snapshot,
         const QueryOptions& options, absl::Time now, std::string* bytes) {
        return SerializeCompleteness(*snapshot.view, req, now, options, bytes);
      },
      [](const v1::CompletenessRequest& req,
         const SummaryStore::QuerySnapshot& snapshot,
         const QueryOptions& options, absl::Time now) {
        return CompletenessLive(*snapshot.view, req, now, options);
      },
      [this](const v1::CompletenessRequest& req,
             const SummaryStore::QuerySnapshot& snapshot) {
        return UnconfirmedWarning(
            *snapshot.view,
            req.scope().empty() ? store_->coverage().ToString() : req.scope());
      },
      /*view_only=*/false);
}

}  // namespace ohfed::aggregator
