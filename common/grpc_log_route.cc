// RouteGrpcLogs (common/transport.h), apart from transport.cc: it brings
// in the daemons' logging (spdlog, libsystemd), which the `ohfed` command,
// a gRPC client that uses transport.cc, does not link (issue 14, figure 5:
// every library loaded is paid at each command's start).
#include <grpc/support/log.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/log.h"
#include "common/transport.h"

namespace ohfed {
namespace {

void GrpcLogToLogLine(gpr_log_func_args* args) {
  if (args->severity < GPR_LOG_SEVERITY_ERROR) return;
  absl::string_view message(args->message);
  constexpr size_t kMaxLogBytes = 300;
  if (size_t nl = message.find('\n'); nl != absl::string_view::npos) {
    message = message.substr(0, nl);
  }
  Log(LogLevel::kError, "grpc",
      absl::StrCat(message.substr(0, kMaxLogBytes),
                   message.size() > kMaxLogBytes ? "..." : ""));
}

}  // namespace

void RouteGrpcLogs() { gpr_set_log_function(GrpcLogToLogLine); }

}  // namespace ohfed
