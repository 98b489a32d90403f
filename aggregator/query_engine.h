// Answers Query and Completeness requests (SPEC §6) from a View: scopes,
// periods and ranges, measure prefixes, breakdowns, statistics across units,
// time aggregation per the catalogue and the derived indicators. Completeness
// requests: aggregator/query_completeness.h.
#ifndef OHFED_AGGREGATOR_QUERY_ENGINE_H_
#define OHFED_AGGREGATOR_QUERY_ENGINE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aggregator/query_limits.h"
#include "aggregator/view.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator {

// Rows come measure by measure (catalogue order), unit by unit (registry
// order) and statistic by statistic; a row built on no reporting trust is
// omitted. Statistics and their interpolation: aggregator/query_stats.h;
// time aggregation and the use of rollups: aggregator/query_values.h;
// derived indicators: aggregator/query_derived.h. They are the response's
// `rows`, or, when the request asks for `compact`, the same rows in the same
// order as its `compact` columns.
//
// An empty scope means the whole coverage (national unless the aggregator
// covers one region or ICS). Statistics listed more than once count once.
//
// Every row passes disclosure control (aggregator/query_disclosure.h) with
// `options.disclosure`.
//
// kInvalidArgument naming the bad field for a malformed scope, period, level
// or statistic, a period longer than kMaxPeriodMonths, more than
// kMaxStatsListed statistics, or a period that is not a month, quarter, year
// or financial year for a disclosive measure below national level; kNotFound
// for an unknown scope code or a prefix that matches no measure;
// kFailedPrecondition for a scope outside `options.coverage`;
// kResourceExhausted once the answer would exceed `options.max_rows`;
// kCancelled once `options.cancelled` says so.
absl::StatusOr<v1::QueryResponse> RunQuery(const View& view,
                                           const v1::QueryRequest& request,
                                           const QueryOptions& options = {});

// The same, written into `*out` (cleared first; on an error its contents
// are unspecified), which may live on a protobuf Arena.
absl::Status RunQuery(const View& view, const v1::QueryRequest& request,
                      const QueryOptions& options, v1::QueryResponse* out);

// The same answer serialized: byte for byte what RunQuery's response
// serializes to, written straight into `*bytes` (cleared first; on an error
// its contents are unspecified) without building the message, as the
// service sends it (building 630 rows' strings, then serializing them, was
// most of a year by ICS). Every row passes the same disclosure control.
absl::Status SerializeQuery(const View& view, const v1::QueryRequest& request,
                            const QueryOptions& options, std::string* bytes);

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_QUERY_ENGINE_H_
