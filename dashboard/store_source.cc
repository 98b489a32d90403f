#include "dashboard/store_source.h"

#include "aggregator/query_completeness.h"
#include "aggregator/query_engine.h"

namespace ohfed::dashboard {
namespace {

// `request` with the scope the visitor may ask for, or the refusal.
template <typename Request>
absl::StatusOr<Request> Authorized(const aggregator::Authz& authz,
                                   const aggregator::Credentials& credentials,
                                   const Request& request) {
  absl::StatusOr<std::string> scope =
      authz.AuthorizeQuery(credentials, request.scope(), request.by());
  if (!scope.ok()) return scope.status();
  Request authorized = request;
  authorized.set_scope(*scope);
  return authorized;
}

}  // namespace

StoreSource::StoreSource(const aggregator::SummaryStore* store,
                         const aggregator::Authz* authz,
                         aggregator::Credentials credentials, Clock* clock,
                         absl::Time deadline)
    : store_(store),
      authz_(authz),
      credentials_(std::move(credentials)),
      clock_(clock),
      snapshot_(store->SnapshotForQuery()) {
  options_.patterns = snapshot_.patterns;
  options_.coverage = store->coverage();
  options_.disclosure = store->disclosure();
  options_.cancelled = [clock, deadline] { return clock->Now() > deadline; };
}

absl::StatusOr<v1::QueryResponse> StoreSource::Query(
    const v1::QueryRequest& request) const {
  absl::StatusOr<v1::QueryRequest> authorized =
      Authorized(*authz_, credentials_, request);
  if (!authorized.ok()) return authorized.status();
  return aggregator::RunQuery(*snapshot_.view, *authorized, options_);
}

absl::StatusOr<v1::CompletenessResponse> StoreSource::Completeness(
    const v1::CompletenessRequest& request) const {
  absl::StatusOr<v1::CompletenessRequest> authorized =
      Authorized(*authz_, credentials_, request);
  if (!authorized.ok()) return authorized.status();
  return aggregator::RunCompleteness(*snapshot_.view, *authorized,
                                     clock_->Now(), options_);
}

const Registry& StoreSource::registry() const {
  return store_->registry().Latest();
}

const Catalogue& StoreSource::catalogue() const { return store_->catalogue(); }

}  // namespace ohfed::dashboard
