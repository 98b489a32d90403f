// A client of the agent's AgentControl service over its unix socket, used by
// the `ohfed` CLI and by tests. Every call has a deadline; errors are turned
// into one-line reasons (an unreachable agent names the socket).
#ifndef OHFED_CLI_AGENT_CLIENT_H_
#define OHFED_CLI_AGENT_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ohfed/v1/ohfed.grpc.pb.h"

namespace ohfed::agent {

class AgentClient {
 public:
  // Makes the channel; does not connect until the first call.
  static absl::StatusOr<AgentClient> Connect(const std::string& socket);

  // Gives the next piece of a file to import in `piece`; false at its end
  // (or on an error, which it keeps to report).
  using NextPiece = std::function<bool(std::string* piece)>;
  // The size of the pieces a file is sent in.
  static constexpr size_t kPieceBytes = size_t{256} << 10;

  // `kind` is "staffing", "activity" or "profile". Sends the content in
  // pieces (ImportStream), so its size is not limited by a message.
  absl::StatusOr<v1::ImportResponse> Import(const std::string& kind,
                                            const std::string& file_name,
                                            const std::string& content,
                                            bool skip_invalid,
                                            bool accept_outliers = false);
  // Import of the file at `path`, read and sent a piece at a time (the
  // whole file is never in memory). kNotFound / kUnavailable name the path
  // when it cannot be read.
  absl::StatusOr<v1::ImportResponse> ImportFile(const std::string& kind,
                                                const std::string& path,
                                                const std::string& file_name,
                                                bool skip_invalid,
                                                bool accept_outliers = false);
  // Import in one message (the Import RPC older agents have): refused above
  // kMaxImportBytes.
  absl::StatusOr<v1::ImportResponse> ImportOneMessage(
      const std::string& kind, const std::string& file_name,
      const std::string& content, bool skip_invalid,
      bool accept_outliers = false);
  absl::StatusOr<v1::SetValueResponse> SetValue(const std::string& period,
                                                const std::string& measure,
                                                const std::string& value);
  absl::StatusOr<v1::SyncResponse> Sync(absl::Duration timeout);
  absl::StatusOr<v1::StatusResponse> Status();
  absl::StatusOr<v1::UnitSummary> Summary(const std::string& period);
  absl::StatusOr<v1::PeriodChangeResponse> UnsetValue(
      const std::string& period, const std::string& measure);
  absl::StatusOr<v1::PeriodChangeResponse> Retract(const std::string& period);
  absl::StatusOr<v1::PeriodChangeResponse> Confirm(const std::string& period);

 private:
  absl::StatusOr<v1::ImportResponse> ImportPieces(const std::string& kind,
                                                  const std::string& file_name,
                                                  const NextPiece& next,
                                                  bool skip_invalid,
                                                  bool accept_outliers);
  absl::Status Unreachable(const grpc::Status& s) const;
  AgentClient(std::string socket, std::unique_ptr<v1::AgentControl::Stub> stub)
      : socket_(std::move(socket)), stub_(std::move(stub)) {}
  template <typename Req, typename Resp, typename Method>
  absl::StatusOr<Resp> Call(Method method, const Req& request,
                            absl::Duration deadline);

  std::string socket_;
  std::unique_ptr<v1::AgentControl::Stub> stub_;
};

}  // namespace ohfed::agent

#endif  // OHFED_CLI_AGENT_CLIENT_H_
