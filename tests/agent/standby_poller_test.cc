// StandbyPoller leaves gRPC working around it and its thread stops with it.
// (What it is for, a connection answered while gRPC's callback pollers nap,
// is a matter of timing: the benchmark shows it, figure 5.)
#include "agent/standby_poller.h"

#include <grpcpp/grpcpp.h>

#include <memory>

#include "common/health.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

namespace ohfed::agent {
namespace {

TEST(StandbyPollerTest, StopsAlone) {
  auto poller = std::make_unique<StandbyPoller>();
  poller.reset();  // joins: a hang here fails the test by its timeout
}

TEST(StandbyPollerTest, CallbackServerAnswersWhileItPolls) {
  EnableHealthChecking();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  AddHealthService(builder);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto poller = std::make_unique<StandbyPoller>();
  auto stub = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(stub->Check(&ctx, request, &response).ok());
    EXPECT_EQ(response.status(),
              grpc::health::v1::HealthCheckResponse::SERVING);
  }
  server->Shutdown();
  poller.reset();
}

}  // namespace
}  // namespace ohfed::agent
