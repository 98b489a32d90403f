// Completeness and timeliness (SPEC §6): which trusts of a scope reported
// each month of a period, whether on time, and how current each one is.
//
// Per month of the period and per trust of the scope (registry order):
//   reported  the aggregator holds a summary of the trust for that month
//   on_time   its first revision arrived before OnTimeDeadline(month), the
//             end of the 15th of the following month (common/period.h)
// and, independent of the month, the trust's sync state relative to `now`:
//   current   it holds a summary for the "due month" or any later month up to
//             now's month, where the due month is the latest month whose
//             on-time deadline has passed (on 10 March: January; on 20
//             March: February), so a trust is not called behind before its
//             data is due
//   behind    not current, but something arrived within the last 62 days
//   silent    nothing within 62 days, or never
#ifndef OHFED_AGGREGATOR_QUERY_COMPLETENESS_H_
#define OHFED_AGGREGATOR_QUERY_COMPLETENESS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aggregator/query_limits.h"
#include "aggregator/view.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed::aggregator {

// One block per month of the requested period; `now` decides the sync state
// (above). `by` "", "self" or "trust" lists the trusts of the scope;
// "region" or "ics" gives one summary row per unit instead. Errors as for
// RunQuery (aggregator/query_engine.h).
//
// With `compact` by trust, each month's rows are columns
// (PeriodCompleteness.compact) and what a trust's rows share is in the
// response's `trusts` (proto/ohfed/v1/ohfed.proto); expanded by
// ExpandCompactCompleteness (common/query_rows.h), the answer is the tidy
// one.
//
// After the store was damaged and recovered, each trust whose agent has not
// yet confirmed its data is marked unconfirmed (TrustCompleteness, counted
// in PeriodCompleteness.unconfirmed) and the response carries a warning
// (UnconfirmedWarning): what it reports as reported may be partial.
absl::StatusOr<v1::CompletenessResponse> RunCompleteness(
    const View& view, const v1::CompletenessRequest& request, absl::Time now,
    const QueryOptions& options = {});
// The same, written into `*out` (cleared first; on an error its contents
// are unspecified), which may live on a protobuf Arena (RunQuery's
// counterpart in aggregator/query_engine.h).
absl::Status RunCompleteness(const View& view,
                             const v1::CompletenessRequest& request,
                             absl::Time now, const QueryOptions& options,
                             v1::CompletenessResponse* out);

// The CompletenessResponse RunCompleteness(view, request, now, options)
// gives, without its warning, serialized: byte for byte what that response
// with clear_warning() serializes to, written straight into `*bytes`
// (cleared first) without building the message (for a year by trust, 2,484
// rows). The service sends these bytes and appends the warning
// (aggregator/query_answer_cache.h's AppendWarning). Errors as RunCompleteness.
absl::Status SerializeCompleteness(const View& view,
                                   const v1::CompletenessRequest& request,
                                   absl::Time now, const QueryOptions& options,
                                   std::string* bytes);

// What RunCompleteness(view, request, now, options) reads outside the View
// (aggregator/query_answer_cache.h), as a string equal for two calls on the
// same View exactly when their answers are: the sync states `now` gives its
// trusts, their recovery confirmations and their upstream refusals. The
// answer's warning is not in it. A request RunCompleteness refuses gives
// the refusal's message.
std::string CompletenessLive(const View& view,
                             const v1::CompletenessRequest& request,
                             absl::Time now, const QueryOptions& options);

// The warning for an answer about `scope` (a Scope string; "" or malformed:
// national) while some of its trusts are unconfirmed (View::Unconfirmed):
// what happened and how many; empty if none is.
std::string UnconfirmedWarning(const View& view, absl::string_view scope);

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_QUERY_COMPLETENESS_H_
