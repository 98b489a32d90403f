#include "common/server_shutdown.h"

#include <grpc/grpc.h>

#include <algorithm>

#include "absl/time/clock.h"

namespace ohfed {
namespace {

constexpr absl::Duration kLinger = absl::Milliseconds(500);

// Counts its call from creation to destruction, which gRPC does when the
// call is over (its context is destroyed).
class CountingInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit CountingInterceptor(ServerCalls* calls) : calls_(calls) {
    calls_->Begin();
  }
  ~CountingInterceptor() override { calls_->End(); }
  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    methods->Proceed();
  }

 private:
  ServerCalls* const calls_;
};

class CountingFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CountingFactory(ServerCalls* calls) : calls_(calls) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo*) override {
    return new CountingInterceptor(calls_);
  }

 private:
  ServerCalls* const calls_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
ServerCalls::InterceptorFactory() {
  return std::make_unique<CountingFactory>(this);
}

void ServerCalls::Begin() {
  absl::MutexLock l(&mu_);
  ++in_flight_;
}

void ServerCalls::End() {
  absl::MutexLock l(&mu_);
  --in_flight_;
}

bool ServerCalls::AwaitNone(absl::Time deadline) {
  absl::MutexLock l(&mu_);
  auto none = [this]()
                  ABSL_SHARED_LOCKS_REQUIRED(mu_) { return in_flight_ == 0; };
  return mu_.AwaitWithDeadline(absl::Condition(&none), deadline);
}

void ShutdownServer(grpc::Server& server, ServerCalls& calls,
                    absl::Duration grace) {
  const absl::Time deadline = absl::Now() + grace;
  // What grpc::Server::Shutdown does first: no new calls, GOAWAY to every
  // client. Done here so that the wait below can end it early.
  grpc_completion_queue* cq = grpc_completion_queue_create_for_next(nullptr);
  static int tag;
  grpc_server_shutdown_and_notify(server.c_server(), cq, &tag);
  calls.AwaitNone(deadline);
  // Nothing left to drain (or the grace is over). Clients that poll their
  // connection acknowledge the GOAWAY within milliseconds and the last
  // statuses reach them; connections still open after kLinger are closed
  // (closing at once could reset a connection before a client has read the
  // status of its last call).
  server.Shutdown(
      absl::ToChronoTime(std::min(deadline, absl::Now() + kLinger)));
  server.Wait();
  grpc_completion_queue_shutdown(cq);
  while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME),
                                    nullptr)
             .type != GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(cq);
}

}  // namespace ohfed
