// Where dashboard pages get their figures: the same query engine, coverage
// and disclosure control as `ohfed query` (aggregator/query_engine.h,
// aggregator/query_completeness.h), already authorised for the person
// looking. dashboard/server implements it over the aggregator's store; tests
// implement it over a small view.
#ifndef OHFED_DASHBOARD_QUERY_SOURCE_H_
#define OHFED_DASHBOARD_QUERY_SOURCE_H_

#include "absl/status/statusor.h"
#include "common/catalogue.h"
#include "common/registry.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::dashboard {

class QuerySource {
 public:
  virtual ~QuerySource() = default;
  // As the Query and Completeness RPCs answer an authorised caller:
  // disclosure control applied, kFailedPrecondition outside the coverage.
  virtual absl::StatusOr<v1::QueryResponse> Query(
      const v1::QueryRequest& request) const = 0;
  virtual absl::StatusOr<v1::CompletenessResponse> Completeness(
      const v1::CompletenessRequest& request) const = 0;
  virtual const Registry& registry() const = 0;  // the latest version
  virtual const Catalogue& catalogue() const = 0;
};

}  // namespace ohfed::dashboard

#endif  // OHFED_DASHBOARD_QUERY_SOURCE_H_
