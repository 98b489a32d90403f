#include "common/rpc_metrics.h"

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "common/metrics.h"

namespace ohfed {
namespace {

using grpc::experimental::InterceptionHookPoints;

std::string MethodLabel(const char* method) {
  std::string m = method == nullptr ? "" : method;
  if ((absl::StartsWith(m, "/ohfed.") || absl::StartsWith(m, "/grpc.")) &&
      m.size() <= 100) {
    return m;
  }
  return "other";
}

// The canonical name of a gRPC status code, as grpc-go and the gRPC docs
// spell it.
std::string CodeLabel(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i < 17 ? kNames[i] : "UNKNOWN";
}

class LatencyInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit LatencyInterceptor(grpc::experimental::ServerRpcInfo* info)
      : method_(MethodLabel(info->method())), start_(absl::Now()) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics::Global()
          .GetHistogram(
              "ohfed_rpc_duration_seconds",
              "Time from an RPC's arrival to its status, by method "
              "and status code.",
              metrics::LatencyBuckets(),
              {{"method", method_},
               {"code", CodeLabel(methods->GetSendStatus().error_code())}})
          .Observe(absl::ToDoubleSeconds(absl::Now() - start_));
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  const absl::Time start_;
};

class LatencyFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new LatencyInterceptor(info);
  }
};

}  // namespace

void AddRpcMetrics(grpc::ServerBuilder& builder, ServerCalls* calls) {
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      creators;
  creators.push_back(std::make_unique<LatencyFactory>());
  if (calls != nullptr) creators.push_back(calls->InterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(creators));
}

}  // namespace ohfed
