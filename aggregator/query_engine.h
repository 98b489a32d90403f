// Answers Query and Completeness requests (SPEC §6) from a View: scopes,
// periods and ranges, measure prefixes, breakdowns, statistics across units,
// time aggregation per the catalogue and the derived indicators.
#ifndef OHFED_AGGREGATOR_QUERY_ENGINE_H_
#define OHFED_AGGREGATOR_QUERY_ENGINE_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aggregator/view.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator {

// kInvalidArgument naming the bad field for a malformed scope, period, level
// or statistic; kNotFound for an unknown scope code or a prefix that matches
// no measure.
absl::StatusOr<v1::QueryResponse> RunQuery(const View& view,
                                           const v1::QueryRequest& request);

// One block per month of the requested period; `now` decides on-time and
// sync state.
absl::StatusOr<v1::CompletenessResponse> RunCompleteness(
    const View& view, const v1::CompletenessRequest& request, absl::Time now);

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_QUERY_ENGINE_H_
