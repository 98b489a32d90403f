// Status conversion and the few status macros Abseil 20220623 lacks.
//
// rocksdb::Status and grpc::Status are converted to and from absl::Status
// here and nowhere else, so every layer above speaks absl::Status.
#ifndef OHFED_COMMON_STATUS_H_
#define OHFED_COMMON_STATUS_H_

#include <grpcpp/support/status.h>
#include <rocksdb/status.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ohfed {

// Maps RocksDB errors to canonical codes: NotFound -> kNotFound,
// Corruption -> kDataLoss, IOError/Busy/TryAgain -> kUnavailable,
// InvalidArgument -> kInvalidArgument, everything else -> kInternal.
// `context` (e.g. "open /var/lib/ohfed") prefixes the message.
absl::Status FromRocks(const rocksdb::Status& s,
                       absl::string_view context = {});

// grpc::Status <-> absl::Status; the numeric codes are identical.
absl::Status FromGrpc(const grpc::Status& s);
grpc::Status ToGrpc(const absl::Status& s);

}  // namespace ohfed

#define OHFED_STATUS_CONCAT_INNER_(a, b) a##b
#define OHFED_STATUS_CONCAT_(a, b) OHFED_STATUS_CONCAT_INNER_(a, b)

// Returns from the current function if `expr` (an absl::Status) is not OK.
#define OHFED_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::absl::Status ohfed_status_ = (expr);         \
    if (!ohfed_status_.ok()) return ohfed_status_; \
  } while (0)

// `lhs = value of expr` (an absl::StatusOr<T>), or returns its status.
#define OHFED_ASSIGN_OR_RETURN(lhs, expr)                                  \
  OHFED_ASSIGN_OR_RETURN_IMPL_(OHFED_STATUS_CONCAT_(ohfed_sor_, __LINE__), \
                               lhs, expr)
#define OHFED_ASSIGN_OR_RETURN_IMPL_(var, lhs, expr) \
  auto var = (expr);                                 \
  if (!var.ok()) return std::move(var).status();     \
  lhs = std::move(var).value()

#endif  // OHFED_COMMON_STATUS_H_
