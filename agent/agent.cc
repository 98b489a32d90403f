#include "agent/agent.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/certificate.h"
#include "common/data_dir.h"
#include "common/health.h"
#include "common/identity.h"
#include "common/log.h"
#include "common/registry.h"
#include "common/rpc_metrics.h"
#include "common/server_shutdown.h"
#include "common/status.h"
#include "common/transport.h"

namespace ohfed::agent {
namespace {

// Whether some process accepts connections on the unix socket at `path`:
// false only when connect(2) is refused (ECONNREFUSED), which is what a
// socket file left by a dead process gives; any other failure is an error.
absl::StatusOr<bool> SocketAnswers(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "socket path ", path, " is longer than ", sizeof(addr.sun_path) - 1,
        " bytes; give a shorter --socket"));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot create a socket: ", std::strerror(errno)));
  }
  int rc = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  close(fd);
  if (rc == 0) return true;
  if (err == ECONNREFUSED) return false;
  return absl::UnavailableError(
      absl::StrCat("cannot check socket ", path, ": ", std::strerror(err)));
}

// A socket file left by a crashed agent blocks bind(2); one that a live
// process answers belongs to it (another agent started with the same
// --socket) and is never taken over.
absl::Status RemoveStaleSocket(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return absl::OkStatus();
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " exists and is not a socket; refusing to remove it"));
  }
  absl::StatusOr<bool> live = SocketAnswers(path);
  if (!live.ok()) return live.status();
  if (*live) {
    return absl::FailedPreconditionError(
        absl::StrCat("socket ", path,
                     " is in use by another running process (another "
                     "ohfed-agent?); give each agent its own --socket"));
  }
  if (unlink(path.c_str()) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot remove stale socket ", path));
  }
  LogLine(absl::StrCat("removed stale socket ", path));
  return absl::OkStatus();
}

// Holds an exclusive flock(2) on DIR/agent.lock for the agent's life, so a
// second agent on the same data directory is refused with a clear reason
// (before RocksDB's own lock error). The lock dies with the process.
absl::StatusOr<int> LockDataDir(const std::string& dir) {
  const std::string path = dir + "/agent.lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) {
      return absl::UnavailableError(
          absl::StrCat("data directory ", dir, " is in use by another agent"));
    }
    return absl::UnavailableError(
        absl::StrCat("cannot lock ", path, ": ", std::strerror(err)));
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::string> CheckKnownTrust(absl::string_view code,
                                            const RegistryHistory& registry) {
  OHFED_ASSIGN_OR_RETURN(std::string trust, CheckTrustCode(code));
  for (const Registry* version : registry.versions()) {
    if (version->FindTrust(trust) != nullptr) return trust;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown trust code '", trust, "': not in the registry (",
                   registry.Latest().version(),
                   "); check --trust, or --registry for a newer version"));
}

absl::Status CheckCertificateNamesTrust(const std::string& cert_file,
                                        const std::string& trust) {
  OHFED_ASSIGN_OR_RETURN(CertificateInfo cert, ReadCertificate(cert_file));
  absl::StatusOr<PeerIdentity> id = ParsePeerIdentity(cert.common_name);
  if (id.ok() && id->kind == PeerIdentity::Kind::kTrust && id->code == trust) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "--trust ", trust, " but certificate ", cert_file, " is for '",
      id.ok() ? id->ToString() : cert.common_name.substr(0, 64),
      "': an agent may only send as the trust its certificate names"));
}

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
  if (options.registry == nullptr) {
    options.registry = std::make_shared<RegistryHistory>(Registry::England());
  }
  absl::StatusOr<std::string> trust =
      CheckKnownTrust(options.trust, *options.registry);
  if (!trust.ok()) return trust.status();
  if (options.aggregator.empty()) {
    return absl::InvalidArgumentError("--aggregator HOST:PORT is required");
  }
  OHFED_RETURN_IF_ERROR(PrepareDataDir(options.data_dir));
  OHFED_RETURN_IF_ERROR(PrepareDataDir(options.data_dir + "/db"));
  TransportOptions transport{
      .insecure = options.insecure,
      .ca_file = options.tls_ca,
      .cert_file = options.tls_cert,
      .key_file = options.tls_key,
      .cert_refresh_seconds = options.cert_refresh_seconds};
  if (transport.tls() && options.tls_cert.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key are required with TLS: the agent submits "
        "as the trust its certificate names");
  }
  if (!options.tls_cert.empty()) {
    OHFED_RETURN_IF_ERROR(CheckCertificateNamesTrust(options.tls_cert, *trust));
  }
  auto channel = MakeChannel(options.aggregator, transport);
  if (!channel.ok()) return channel.status();

  std::unique_ptr<Agent> agent(new Agent());
  absl::StatusOr<int> lock = LockDataDir(options.data_dir);
  if (!lock.ok()) return lock.status();
  agent->lock_fd_ = *lock;
  agent->socket_ = options.socket.empty() ? options.data_dir + "/agent.sock"
                                          : options.socket;
  auto store = LocalStore::Open({.dir = options.data_dir + "/db",
                                 .trust = *trust,
                                 .clock = options.clock});
  if (!store.ok()) return store.status();
  agent->store_ = std::move(*store);
  UploaderOptions uploader = options.uploader;
  uploader.peer = absl::StrCat("aggregator ", options.aggregator);
  // After each sync pass, learn what was refused further up.
  uploader.feedback_trust = *trust;
  // max_in_flight stays at its default (kUploadBatchesInFlight, 4): the
  // aggregator reads that many batches of a stream ahead and commits them
  // in one group, instead of one round trip and one synced write each.
  agent->uploader_ = std::make_unique<Uploader>(
      agent->store_.get(), v1::Ingest::NewStub(*channel), std::move(uploader),
      options.clock);
  agent->service_ = std::make_unique<ControlService>(
      ServiceInfo{*trust, options.aggregator, options.trim_memory,
                  options.trim_before_months_bytes},
      agent->store_.get(), agent->uploader_.get(), options.clock);

  const std::string address = "unix:" + agent->socket_;
  if (absl::Status s = CheckListenAddress(address); !s.ok()) return s;
  absl::Status stale = RemoveStaleSocket(agent->socket_);
  if (!stale.ok()) return stale;
  auto creds = MakeServerCredentials(address, {});
  if (!creds.ok()) return creds.status();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, *creds);
  ApplyServerLimits(builder);
  // An import streams in faster than it is parsed: without bandwidth
  // probing the window stays small, and so does what waits in memory.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  AddRpcMetrics(builder, &agent->calls_);
  AddHealthService(builder);
  builder.RegisterService(agent->service_.get());
  agent->server_ = builder.BuildAndStart();
  if (agent->server_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on unix socket ", agent->socket_));
  }
  agent->owns_socket_ = true;
  agent->standby_poller_ = std::make_unique<StandbyPoller>();
  MarkServing(*agent->server_, {v1::AgentControl::service_full_name()});
  // Imports and `set` fail while the store cannot be written.
  agent->store_->SetFailingListener([server =
                                         agent->server_.get()](bool failing) {
    SetServiceServing(*server, v1::AgentControl::service_full_name(), !failing);
  });
  agent->store_recovery_ = std::make_unique<StoreRecoveryLoop>(
      [store = agent->store_.get()] { return store->failing(); },
      [store = agent->store_.get()] { return store->Recover(); },
      options.store_retry_interval);
  // Only the agent's user and group may drive it.
  chmod(agent->socket_.c_str(), 0660);
  agent->uploader_->Start();
  LogLine(absl::StrCat("trust ", *trust, ": listening on ", agent->socket_,
                       ", sending to ", options.aggregator));
  return agent;
}

Agent::~Agent() { Shutdown(absl::Seconds(5)); }

void Agent::Shutdown(absl::Duration grace) {
  if (store_) store_->CancelWaits();
  // The health listener refers to the server.
  store_recovery_.reset();
  if (store_) store_->SetFailingListener(nullptr);
  if (server_) {
    MarkNotServing(*server_);  // health checkers first, then drain
    ShutdownServer(*server_, calls_, grace);
    server_.reset();
  }
  standby_poller_.reset();
  if (uploader_) uploader_->Stop();
  uploader_.reset();
  service_.reset();
  store_.reset();
  // Only a socket this agent bound: a refused start must not remove the
  // socket of the agent that owns it.
  if (owns_socket_) unlink(socket_.c_str());
  owns_socket_ = false;
  if (lock_fd_ >= 0) close(lock_fd_);
  lock_fd_ = -1;
}

}  // namespace ohfed::agent
