// gRPC server reflection (grpc.reflection.v1alpha), so grpc_cli, grpcurl or
// any reflection client can list and describe the daemons' services.
#ifndef OHFED_DAEMON_REFLECTION_H_
#define OHFED_DAEMON_REFLECTION_H_

namespace ohfed {

// Adds reflection and health checking (common/health.h) to every gRPC
// server built from now on in this process. Call before starting a server.
void EnableDiscovery();

}  // namespace ohfed

#endif  // OHFED_DAEMON_REFLECTION_H_
