// Shutting a daemon's gRPC server down without waiting on idle clients.
//
// grpc::Server::Shutdown(deadline) lets calls in flight finish, but it also
// waits for every connection to close, and a client that holds a connection
// without polling it (a C++ channel with no call open, a probe that went
// quiet) only answers the server's GOAWAY when it next polls: the daemon
// then sits out the whole grace period with nothing left to drain.
// ShutdownServer waits for the calls, then at most half a second for the
// connections.
#ifndef OHFED_COMMON_SERVER_SHUTDOWN_H_
#define OHFED_COMMON_SERVER_SHUTDOWN_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ohfed {

// The calls in flight on one server, counted by an interceptor
// (AddRpcMetrics installs it). Thread-safe; must outlive the server.
class ServerCalls {
 public:
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  InterceptorFactory();

  void Begin();
  void End();
  // Waits until no call is in flight or until `deadline`; whether none is.
  bool AwaitNone(absl::Time deadline);

 private:
  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

// Stops `server` taking calls, gives those in flight until now + `grace`,
// then closes every connection still open half a second later (or at the
// end of the grace, if sooner) and waits for the server to stop. Health
// (common/health.h) should be NOT_SERVING first. `calls` must be the
// server's (AddRpcMetrics).
void ShutdownServer(grpc::Server& server, ServerCalls& calls,
                    absl::Duration grace);

}  // namespace ohfed

#endif  // OHFED_COMMON_SERVER_SHUTDOWN_H_
