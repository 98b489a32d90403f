#include "agent/agent.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/transport.h"

namespace ohfed::agent {
namespace {

// A socket file left by a crashed agent blocks bind(2). The store's lock is
// already held when this runs, so no live agent owns the file.
absl::Status RemoveStaleSocket(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return absl::OkStatus();
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " exists and is not a socket; refusing to remove it"));
  }
  if (unlink(path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot remove stale socket ", path));
  }
  LogLine(absl::StrCat("removed stale socket ", path));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> CheckTrustCode(absl::string_view code) {
  std::string upper = absl::AsciiStrToUpper(code);
  bool ok = upper.size() >= 3 && upper.size() <= 5 &&
            std::all_of(upper.begin(), upper.end(),
                        [](char c) { return absl::ascii_isalnum(c); });
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--trust '", code, "' is not an ODS code (3 to 5 letters or digits)"));
  }
  return upper;
}

absl::StatusOr<std::unique_ptr<Agent>> Agent::Start(AgentOptions options) {
  absl::StatusOr<std::string> trust = CheckTrustCode(options.trust);
  if (!trust.ok()) return trust.status();
  if (options.aggregator.empty()) {
    return absl::InvalidArgumentError("--aggregator HOST:PORT is required");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir + "/db", ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat(
        "cannot create data directory ", options.data_dir, ": ", ec.message()));
  }
  auto channel = MakeChannel(options.aggregator,
                             TransportOptions{.insecure = options.insecure});
  if (!channel.ok()) return channel.status();

  std::unique_ptr<Agent> agent(new Agent());
  agent->socket_ = options.socket.empty() ? options.data_dir + "/agent.sock"
                                          : options.socket;
  auto store = AgentStore::Open({.dir = options.data_dir + "/db",
                                 .trust = *trust,
                                 .clock = options.clock});
  if (!store.ok()) return store.status();
  agent->store_ = std::move(*store);
  UploaderOptions uploader = options.uploader;
  uploader.peer = absl::StrCat("aggregator ", options.aggregator);
  // After each sync pass, learn what was refused further up.
  uploader.feedback_trust = *trust;
  agent->uploader_ = std::make_unique<Uploader>(
      agent->store_.get(), v1::Ingest::NewStub(*channel), std::move(uploader),
      options.clock);
  agent->service_ = std::make_unique<ControlService>(
      ServiceInfo{*trust, options.aggregator}, agent->store_.get(),
      agent->uploader_.get(), options.clock);

  absl::Status stale = RemoveStaleSocket(agent->socket_);
  if (!stale.ok()) return stale;
  const std::string address = "unix:" + agent->socket_;
  auto creds = MakeServerCredentials(address, {});
  if (!creds.ok()) return creds.status();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, *creds);
  ApplyServerLimits(builder);
  builder.RegisterService(agent->service_.get());
  agent->server_ = builder.BuildAndStart();
  if (agent->server_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on unix socket ", agent->socket_));
  }
  // Only the agent's user and group may drive it.
  chmod(agent->socket_.c_str(), 0660);
  agent->uploader_->Start();
  LogLine(absl::StrCat("trust ", *trust, ": listening on ", agent->socket_,
                       ", sending to ", options.aggregator));
  return agent;
}

Agent::~Agent() { Shutdown(absl::Seconds(5)); }

void Agent::Shutdown(absl::Duration grace) {
  if (store_ == nullptr) return;
  store_->CancelWaits();
  if (server_) {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
    server_.reset();
  }
  if (uploader_) uploader_->Stop();
  uploader_.reset();
  service_.reset();
  store_.reset();
  unlink(socket_.c_str());
}

}  // namespace ohfed::agent
