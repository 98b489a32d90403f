// The dashboard's QuerySource over the aggregator's own store: the query
// engine, coverage and disclosure control the Query service uses
// (aggregator/query_service.cc), with each request authorised for the
// visitor as the Query service authorises a caller (Authz::AuthorizeQuery),
// so a page can show no figure its viewer could not query.
//
// One source serves one page: it reads one snapshot of the store, so every
// table on the page comes from the same data (and the suppression patterns
// computed for it, shared with other pages until the data next changes), and
// stops once `deadline` (on `clock`) has passed.
//
// Thread-compatible. The store, authz and clock must outlive it.
#ifndef OHFED_DASHBOARD_STORE_SOURCE_H_
#define OHFED_DASHBOARD_STORE_SOURCE_H_

#include <memory>

#include "aggregator/authz.h"
#include "aggregator/query_limits.h"
#include "aggregator/summary_store.h"
#include "common/clock.h"
#include "dashboard/query_source.h"

namespace ohfed::dashboard {

class StoreSource : public QuerySource {
 public:
  StoreSource(const aggregator::SummaryStore* store,
              const aggregator::Authz* authz,
              aggregator::Credentials credentials, Clock* clock,
              absl::Time deadline);

  absl::StatusOr<v1::QueryResponse> Query(
      const v1::QueryRequest& request) const override;
  absl::StatusOr<v1::CompletenessResponse> Completeness(
      const v1::CompletenessRequest& request) const override;
  const Registry& registry() const override;
  const Catalogue& catalogue() const override;

 private:
  const aggregator::SummaryStore* const store_;
  const aggregator::Authz* const authz_;
  const aggregator::Credentials credentials_;
  Clock* const clock_;
  const aggregator::SummaryStore::QuerySnapshot snapshot_;
  aggregator::QueryOptions options_;
};

}  // namespace ohfed::dashboard

#endif  // OHFED_DASHBOARD_STORE_SOURCE_H_
