// The client's side of the compact answers (QueryRequest.compact and
// CompletenessRequest.compact, proto/ohfed/v1/ohfed.proto): check them and
// expand them into the tidy rows. An answer from a server that predates the
// form (tidy rows) is read the same way, unchanged.
#ifndef OHFED_COMMON_QUERY_ROWS_H_
#define OHFED_COMMON_QUERY_ROWS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed {

// OK if every column of `compact` has one entry per row (as many as `unit`)
// and every index is inside its table (units and unit_names the same
// length); otherwise kInternal naming what is wrong (a server's fault).
absl::Status CheckCompactRows(const v1::CompactRows& compact);

// `answer` with its rows expanded from `compact`, in order and equal to the
// Rows of the tidy answer, and `compact` cleared (its `rows` as they are if
// `compact` is not set), with its versions and warning.
// CheckCompactRows's error if the columns are inconsistent.
absl::StatusOr<v1::QueryResponse> ExpandCompactRows(v1::QueryResponse answer);

// The same for a Completeness answer by trust (CompletenessRequest.compact,
// PeriodCompleteness.compact and CompletenessResponse.trusts): OK if each
// month's columns have one entry per row, its refusals one reason each at
// rows inside the month, and every trust index is inside `trusts`;
// otherwise kInternal naming the month and what is wrong.
absl::Status CheckCompactCompleteness(const v1::CompletenessResponse& answer);

// `answer` with each month's rows expanded from its columns, after the rows
// it already has, equal to the tidy answer's; the columns and `trusts`
// cleared. CheckCompactCompleteness's error if they are inconsistent.
absl::StatusOr<v1::CompletenessResponse> ExpandCompactCompleteness(
    v1::CompletenessResponse answer);

}  // namespace ohfed

#endif  // OHFED_COMMON_QUERY_ROWS_H_
