// gRPC health checking (grpc.health.v1) for the daemons' servers (SPEC §9).
//
// Both daemons use gRPC's default health service: EnableHealthChecking()
// before building a server adds it, MarkServing() then reports SERVING for
// the overall server ("") and for each named service, and MarkNotServing()
// turns every one to NOT_SERVING (what SIGTERM does before streams drain),
// so a load balancer or `grpc_health_probe` stops sending new work while
// in-flight streams finish. Watchers are told at once.
#ifndef OHFED_COMMON_HEALTH_H_
#define OHFED_COMMON_HEALTH_H_

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

namespace ohfed {

// Turns on gRPC's default health service for servers built from now on
// (a process-wide gRPC setting; idempotent).
void EnableHealthChecking();

// SERVING for "" and each of `services` (full names, e.g. "ohfed.v1.Query").
// No-op for a server built without health checking.
void MarkServing(grpc::Server& server,
                 const std::vector<std::string>& services);

// NOT_SERVING for every service, now and until the server is gone.
void MarkNotServing(grpc::Server& server);

}  // namespace ohfed

#endif  // OHFED_COMMON_HEALTH_H_
