// The agent daemon wired together: the store, one uploader streaming the
// outbox to the aggregator, and the AgentControl service on a unix socket.
// main.cc parses flags and signals; tests start an Agent in-process too.
#ifndef OHFED_AGENT_AGENT_H_
#define OHFED_AGENT_AGENT_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "agent/local_store.h"
#include "agent/service.h"
#include "agent/standby_poller.h"
#include "common/clock.h"
#include "common/registry.h"
#include "common/server_shutdown.h"
#include "common/store_recovery.h"
#include "common/uploader.h"

namespace ohfed::agent {

struct AgentOptions {
  std::string trust;       // ODS code, e.g. "RJ1"
  std::string data_dir;    // the store lives in data_dir/db
  std::string aggregator;  // host:port of the aggregator's Ingest service
  std::string socket;      // empty: data_dir/agent.sock
  bool insecure = false;   // plaintext to the aggregator (loopback only)
  // Mutual TLS to the aggregator (common/transport.h): this trust's
  // certificate, whose identity must be trust:<trust>, its key, and the CA.
  std::string tls_cert, tls_key, tls_ca;
  int cert_refresh_seconds = 60;
  // `--registry`: the registry versions `trust` is checked against (a trust
  // formed by a merger after this release is known only to a newer one);
  // known to any version will do. nullptr: England, embedded.
  std::shared_ptr<const RegistryHistory> registry;
  UploaderOptions uploader;
  Clock* clock = Clock::Real();  // must outlive the agent
  // How often a store that cannot be written retries reopening by itself
  // (common/store_recovery.h); any write retries too.
  absl::Duration store_retry_interval = absl::Seconds(5);
  // ServiceInfo::trim_memory (agent/service.h); nullptr: TrimMemory.
  std::function<void()> trim_memory;
  // ServiceInfo::trim_before_months_bytes.
  uint64_t trim_before_months_bytes = ServiceInfo::kTrimBeforeMonthsBytes;
};

class Agent {
 public:
  // Checks the trust code against the registry (kInvalidArgument
  // if unknown), locks the data directory (a second agent on it fails with
  // kUnavailable, "data directory ... is in use by another agent"), opens the
  // store, removes a stale socket file (one that no live process answers;
  // a socket another process serves is refused with kFailedPrecondition
  // naming it), starts the control server and the uploader. Errors name
  // what failed. With --tls-cert, a certificate that does not name this
  // trust (common/identity.h) is refused with kFailedPrecondition naming both.
  static absl::StatusOr<std::unique_ptr<Agent>> Start(AgentOptions options);
  ~Agent();  // Shutdown(seconds(5))

  // Stops accepting calls (waiting Sync calls return at once, others get
  // `grace` to finish), stops the uploader, closes the store and removes the
  // socket file. Idempotent.
  // Idempotent; also releases the data directory's lock.
  void Shutdown(absl::Duration grace);

  const std::string& socket() const { return socket_; }
  LocalStore* store() { return store_.get(); }
  Uploader* uploader() { return uploader_.get(); }  // nullptr once shut down

 private:
  Agent() = default;
  std::string socket_;
  int lock_fd_ = -1;          // flock on DATA/agent.lock
  bool owns_socket_ = false;  // bound by this agent: removed at shutdown
  std::unique_ptr<LocalStore> store_;
  std::unique_ptr<StoreRecoveryLoop> store_recovery_;  // goes before store_
  std::unique_ptr<Uploader> uploader_;
  std::unique_ptr<ControlService> service_;
  ServerCalls calls_;  // the server's, for ShutdownServer; outlives it
  std::unique_ptr<grpc::Server> server_;
  // Polls while gRPC's callback pollers nap (agent/standby_poller.h); goes
  // after the server.
  std::unique_ptr<StandbyPoller> standby_poller_;
};

// Normalises and checks a trust's ODS code: 3 to 5 letters or digits,
// returned upper-case; kInvalidArgument otherwise.
absl::StatusOr<std::string> CheckTrustCode(absl::string_view code);
// CheckTrustCode, and the code must name a trust of some version of
// `registry` (common/registry.h); kInvalidArgument naming it otherwise.
absl::StatusOr<std::string> CheckKnownTrust(absl::string_view code,
                                            const RegistryHistory& registry);
// The certificate file must carry the identity trust:<trust>;
// kFailedPrecondition naming both otherwise, the file's error if unreadable.
absl::Status CheckCertificateNamesTrust(const std::string& cert_file,
                                        const std::string& trust);

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_AGENT_H_
