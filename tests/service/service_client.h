// What a service manager and standard gRPC tooling see of a daemon, for the
// tests: systemd's notification socket, the grpc.health.v1 client and a
// grpc.reflection.v1alpha client.
#ifndef OHFED_TESTS_SERVICE_SERVICE_CLIENT_H_
#define OHFED_TESTS_SERVICE_SERVICE_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace ohfed::testing {

// A unix datagram socket like systemd's $NOTIFY_SOCKET, bound at `path`.
class NotifySocket {
 public:
  static absl::StatusOr<std::unique_ptr<NotifySocket>> Bind(std::string path);
  ~NotifySocket();
  const std::string& path() const { return path_; }
  // Reads datagrams until one holds the line `line` (e.g. "READY=1");
  // kDeadlineExceeded, listing what came, if none does within `timeout`.
  absl::Status WaitFor(const std::string& line,
                       absl::Duration timeout = absl::Seconds(30));

 private:
  NotifySocket(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

// grpc.health.v1.Health/Check for `service` ("" for the whole server).
absl::StatusOr<ServingStatus> CheckHealth(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& service);

// grpc.reflection.v1alpha list_services: every service's full name.
absl::StatusOr<std::vector<std::string>> ListServices(
    const std::shared_ptr<grpc::Channel>& channel);

// The file that defines `symbol`, as reflection describes it
// (file_containing_symbol, as `grpcurl describe` asks).
absl::StatusOr<google::protobuf::FileDescriptorProto> FileOf(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& symbol);

// The names of the services in the file that defines `symbol`.
absl::StatusOr<std::vector<std::string>> ServicesInFileOf(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& symbol);

}  // namespace ohfed::testing

#endif  // OHFED_TESTS_SERVICE_SERVICE_CLIENT_H_
