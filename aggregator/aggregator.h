// One running aggregator: the store, the Ingest and Query services on a gRPC
// server, and (with an upstream) the forwarder and its uploader. main.cc
// parses flags into AggregatorOptions and runs one; tests run several
// in-process.
//
// Thread-safe for the accessors; Shutdown() must not race with destruction.
#ifndef OHFED_AGGREGATOR_AGGREGATOR_H_
#define OHFED_AGGREGATOR_AGGREGATOR_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aggregator/authz.h"
#include "aggregator/forwarder.h"
#include "aggregator/ingest_service.h"
#include "aggregator/query_lanes.h"
#include "aggregator/query_service.h"
#include "aggregator/summary_store.h"
#include "common/server_shutdown.h"
#include "common/store_recovery.h"
#include "common/token_store.h"
#include "common/transport.h"
#include "common/uploader.h"

namespace ohfed::aggregator {

struct AggregatorOptions {
  std::string listen;    // "HOST:PORT"; port 0 picks one (see port())
  std::string data_dir;  // the RocksDB directory, created if missing
  std::string upstream;  // "HOST:PORT" of the next aggregator up, or empty
  // `--covers`: "" (everything), "region:CODE" or "ics:CODE"; parsed into
  // store.coverage by Start.
  std::string covers;
  bool insecure = false;
  // Mutual TLS (common/transport.h): the serving certificate and key, and
  // the CA that clients' and the upstream's certificates are checked against.
  std::string tls_cert, tls_key, tls_ca;
  // What this aggregator presents to its upstream: a regional certificate
  // (region:CODE). Empty: tls_cert and tls_key.
  std::string upstream_tls_cert, upstream_tls_key;
  int cert_refresh_seconds = 60;
  // `--tokens`: the tokens file (common/token.h) for query callers, or
  // empty. With --insecure and no tokens file anyone may query (see
  // aggregator/authz.h).
  std::string tokens_file;
  bool rebuild_rollups = false;  // recompute every rollup before serving
  SummaryStoreOptions store;     // catalogue, registry, clock, commit delay
  IngestOptions ingest;  // stream limits, rejection logs (clock: store's)
  QueryLaneOptions query_lanes;  // where queries run (query_lanes.h)
  // Light-query and completeness answers kept per data version
  // (query_answer_cache.h); 0 computes every answer.
  size_t query_answers_kept = 256;
  UploaderOptions uploader;
  // How often a store that cannot be written retries reopening by itself
  // (common/store_recovery.h); any write retries too.
  absl::Duration store_retry_interval = absl::Seconds(5);
};

// `--registry` and `--catalogue` (several files or folders each, see
// common/reference_files.h) into `store`; the loader's error, naming the
// file and line, otherwise. Empty lists keep the embedded defaults.
absl::Status LoadReferenceData(const std::vector<std::string>& registry,
                               const std::vector<std::string>& catalogue,
                               SummaryStoreOptions& store);

class Aggregator {
 public:
  // Opens the store and starts serving. kInvalidArgument for bad addresses,
  // --insecure on a non-loopback address or a malformed --covers, kNotFound
  // for a --covers code the registry does not know, kUnavailable when the port
  // cannot be bound, kInvalidArgument naming the line for a malformed tokens
  // file (kUnavailable if it cannot be read), the store's error otherwise.
  static absl::StatusOr<std::unique_ptr<Aggregator>> Start(
      AggregatorOptions options);
  ~Aggregator();  // Shutdown()

  // Stops accepting RPCs (in-flight ones get until `grace`), stops the
  // uploader and closes the database. Idempotent.
  void Shutdown(absl::Duration grace = absl::Seconds(5));

  // SIGHUP (aggregator/reload.cc): puts in force what `next` changes of
  // what can change while serving, the rest of `next` being ignored (the
  // daemon warns of those keys, which need a restart):
  //   store.registry, store.catalogues  (rollups rebuilt if the registry
  //                                      places held periods differently)
  //   store.disclosure                  the thresholds of later queries
  //   tokens_file                       re-read, or read from its new path
  //   uploader.{initial,max}_backoff    the next retry of --upstream
  // Open streams and calls carry on. Everything is checked before anything
  // changes: on error (a tokens file line, bad thresholds, a registry that
  // lacks the --covers code, a write error) nothing changes and the error
  // is returned. A tokens file given where the aggregator started without
  // one, or removed, is logged as needing a restart. Certificates need no
  // reload: the file watcher re-reads them every cert_refresh_seconds.
  absl::Status Reload(const AggregatorOptions& next);

  int port() const { return port_; }
  // "HOST:PORT" with the bound port.
  std::string address() const;
  SummaryStore& store() { return *store_; }
  Forwarder* forwarder() { return forwarder_.get(); }  // nullptr: no upstream
  Uploader* uploader() { return uploader_.get(); }
  // Who may query what (the web dashboard asks it too).
  const Authz& authz() const { return *authz_; }

 private:
  explicit Aggregator(AggregatorOptions options)
      : options_(std::move(options)) {}
  absl::Status StartForwarding();
  absl::Status StartServer();
  // The transport to clients (serving) or to the upstream.
  TransportOptions ServingTransport() const;
  TransportOptions UpstreamTransport() const;
  absl::Status StartAuthz();

  AggregatorOptions options_;
  std::unique_ptr<SummaryStore> store_;
  std::unique_ptr<StoreRecoveryLoop> store_recovery_;  // goes before store_
  std::unique_ptr<Forwarder> forwarder_;
  std::unique_ptr<Uploader> uploader_;
  std::unique_ptr<ReloadableTokens> tokens_;  // nullptr: no --tokens
  std::unique_ptr<Authz> authz_;
  std::unique_ptr<IngestService> ingest_;
  std::unique_ptr<QueryService> query_;
  ServerCalls calls_;  // the server's, for ShutdownServer; outlives it
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool stopped_ = false;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_AGGREGATOR_H_
