// The client's side of a Query answer's compact form (QueryRequest.compact
// and QueryResponse.compact, proto/ohfed/v1/ohfed.proto): check it and
// expand it into the tidy rows. An answer from a server that predates the
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

}  // namespace ohfed

#endif  // OHFED_COMMON_QUERY_ROWS_H_
