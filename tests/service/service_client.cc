#include "tests/service/service_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "proto/grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace ohfed::testing {
namespace {

using grpc::reflection::v1alpha::ServerReflection;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

absl::Status FromGrpc(const grpc::Status& s, absl::string_view what) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(what, ": ", s.error_message()));
}

// One request and its response on a reflection stream.
absl::StatusOr<ServerReflectionResponse> Reflect(
    const std::shared_ptr<grpc::Channel>& channel,
    const ServerReflectionRequest& request) {
  auto stub = ServerReflection::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto stream = stub->ServerReflectionInfo(&ctx);
  ServerReflectionResponse response;
  bool ok = stream->Write(request) && stream->Read(&response);
  stream->WritesDone();
  grpc::Status finish = stream->Finish();
  if (!finish.ok()) return FromGrpc(finish, "reflection");
  if (!ok) return absl::UnavailableError("reflection: no response");
  if (response.has_error_response()) {
    return absl::NotFoundError(response.error_response().error_message());
  }
  return response;
}

}  // namespace

absl::StatusOr<std::unique_ptr<NotifySocket>> NotifySocket::Bind(
    std::string path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError("notify socket path too long");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 ||
      bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (fd >= 0) close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot bind ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<NotifySocket>(new NotifySocket(fd, std::move(path)));
}

NotifySocket::~NotifySocket() {
  close(fd_);
  unlink(path_.c_str());
}

absl::Status NotifySocket::WaitFor(const std::string& line,
                                   absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::vector<std::string> seen;
  while (absl::Now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    int ms =
        static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    if (poll(&p, 1, std::max(ms, 1)) <= 0) continue;
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) continue;
    std::string message(buf, n);
    seen.push_back(message);
    for (absl::string_view l : absl::StrSplit(message, '\n')) {
      if (l == line) return absl::OkStatus();
    }
  }
  return absl::DeadlineExceededError(
      absl::StrCat("no ", line, " on the notify socket; got [",
                   absl::StrJoin(seen, "|"), "]"));
}

absl::StatusOr<ServingStatus> CheckHealth(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status s = stub->Check(&ctx, request, &response);
  if (!s.ok()) return FromGrpc(s, absl::StrCat("health of '", service, "'"));
  return response.status();
}

absl::StatusOr<std::vector<std::string>> ListServices(
    const std::shared_ptr<grpc::Channel>& channel) {
  ServerReflectionRequest request;
  request.set_list_services("");
  absl::StatusOr<ServerReflectionResponse> response = Reflect(channel, request);
  if (!response.ok()) return response.status();
  std::vector<std::string> names;
  for (const auto& s : response->list_services_response().service()) {
    names.push_back(s.name());
  }
  return names;
}

absl::StatusOr<google::protobuf::FileDescriptorProto> FileOf(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& symbol) {
  ServerReflectionRequest request;
  request.set_file_containing_symbol(symbol);
  absl::StatusOr<ServerReflectionResponse> response = Reflect(channel, request);
  if (!response.ok()) return response.status();
  const auto& files =
      response->file_descriptor_response().file_descriptor_proto();
  if (files.empty()) return absl::NotFoundError("no file descriptor");
  google::protobuf::FileDescriptorProto file;
  if (!file.ParseFromString(files[0])) {
    return absl::DataLossError("unparseable file descriptor");
  }
  return file;
}

absl::StatusOr<std::vector<std::string>> ServicesInFileOf(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& symbol) {
  absl::StatusOr<google::protobuf::FileDescriptorProto> file =
      FileOf(channel, symbol);
  if (!file.ok()) return file.status();
  std::vector<std::string> names;
  for (const auto& s : file->service()) {
    names.push_back(absl::StrCat(file->package(), ".", s.name()));
  }
  return names;
}

}  // namespace ohfed::testing
