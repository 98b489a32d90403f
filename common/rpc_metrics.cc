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

class LatencyInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit LatencyInterceptor(grpc::experimental::ServerRpcInfo* info)
      : histogram_(metrics::Global().GetHistogram(
            "ohfed_rpc_duration_seconds",
            "Time from an RPC's arrival to its status, by method.",
            metrics::LatencyBuckets(),
            {{"method", MethodLabel(info->method())}})),
        start_(absl::Now()) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      histogram_.Observe(absl::ToDoubleSeconds(absl::Now() - start_));
    }
    methods->Proceed();
  }

 private:
  metrics::Histogram& histogram_;
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
