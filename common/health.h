// gRPC health checking (grpc.health.v1) for the daemons' servers (SPEC §9).
//
// EnableHealthChecking() once in main(); then AddHealthService() on each
// server's builder serves Check and Watch. MarkServing() reports SERVING for
// the overall server ("") and each named service; MarkNotServing() (what
// SIGTERM does before streams drain) turns every one to NOT_SERVING for
// good, tells each open Watch stream so and then ends it with UNAVAILABLE
// "the server is shutting down", so that a watcher which never cancels does
// not hold the drain for its whole grace. gRPC's built-in service would
// keep such a stream open until the grace ran out.
#ifndef OHFED_COMMON_HEALTH_H_
#define OHFED_COMMON_HEALTH_H_

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

namespace ohfed {

// Turns on the health service for servers built from now on in this
// process (idempotent; call before any server starts).
void EnableHealthChecking();

// Once enabled, adds the health service to `builder` (the server owns it,
// and it is the server's GetHealthCheckService()). No-op otherwise.
void AddHealthService(grpc::ServerBuilder& builder);

// SERVING for "" and each of `services` (full names, e.g. "ohfed.v1.Query").
// No-op for a server built without health checking.
void MarkServing(grpc::Server& server,
                 const std::vector<std::string>& services);

// SERVING or NOT_SERVING for one service (e.g. Ingest while its store
// cannot be written); watchers are told. Ignored once MarkNotServing ran.
void SetServiceServing(grpc::Server& server, const std::string& service,
                       bool serving);

// NOT_SERVING for every service, now and until the server is gone; open
// Watch streams are told and then ended.
void MarkNotServing(grpc::Server& server);

}  // namespace ohfed

#endif  // OHFED_COMMON_HEALTH_H_
