// Per-method RPC latency for a gRPC server: a server interceptor that
// observes each call's duration, from its arrival to its status, in the
// histogram ohfed_rpc_duration_seconds{method="/ohfed.v1.Ingest/Submit",
// code="OK"} of metrics::Global(). A streaming call counts once, for the
// whole stream. Only method names of ohfed and grpc services become labels
// (anything else is "other"), and `code` is one of the 17 gRPC status code
// names (OK, CANCELLED, ... UNAUTHENTICATED), so a caller cannot grow the
// series.
#ifndef OHFED_COMMON_RPC_METRICS_H_
#define OHFED_COMMON_RPC_METRICS_H_

#include <grpcpp/grpcpp.h>

#include "common/server_shutdown.h"

namespace ohfed {

// Installs the interceptor, and with `calls` the one that counts the
// server's calls for ShutdownServer (gRPC takes one list of interceptors per
// builder). Call once per builder, before BuildAndStart.
void AddRpcMetrics(grpc::ServerBuilder& builder, ServerCalls* calls = nullptr);

}  // namespace ohfed

#endif  // OHFED_COMMON_RPC_METRICS_H_
