// The client's side of a Query answer's compact form
// (proto/ohfed/v1/query_compact.proto): ask for it, check it and expand it
// into the tidy rows. An answer from a server that predates the form (tidy
// rows) is read the same way, unchanged.
#ifndef OHFED_COMMON_QUERY_ROWS_H_
#define OHFED_COMMON_QUERY_ROWS_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ohfed/v1/ohfed.pb.h"
#include "ohfed/v1/query_compact.pb.h"

namespace ohfed {

// Query.Query over `channel` with `request` followed by QueryForm{compact}:
// `*answer` gets the rows in `compact`, or in `rows` from a server that
// predates the form. Blocks until the call ends; the call's status
// (INTERNAL if the answer does not parse).
grpc::Status QueryCompact(
    const std::shared_ptr<grpc::ChannelInterface>& channel,
    grpc::ClientContext* context, const v1::QueryRequest& request,
    v1::CompactQueryResponse* answer);

// OK if every column of `compact` has one entry per row (as many as `unit`)
// and every index is inside its table (units and unit_names the same
// length); otherwise kInternal naming what is wrong (a server's fault).
absl::Status CheckCompactRows(const v1::CompactRows& compact);

// The QueryResponse `answer` stands for: its rows expanded from `compact`,
// in order and equal to the Rows of the tidy answer (or its `rows` as they
// are, if `compact` is not set), with its versions and warning.
// CheckCompactRows's error if the columns are inconsistent.
absl::StatusOr<v1::QueryResponse> ExpandCompactRows(
    v1::CompactQueryResponse answer);

}  // namespace ohfed

#endif  // OHFED_COMMON_QUERY_ROWS_H_
