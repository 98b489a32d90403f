#include "aggregator/aggregator.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/data_dir.h"
#include "common/disclosure.h"
#include "common/health.h"
#include "common/log.h"
#include "common/rpc_metrics.h"
#include "common/server_shutdown.h"
#include "common/status.h"
#include "common/transport.h"

namespace ohfed::aggregator {
namespace {

// Forwarded batches on the upstream stream before the first is answered
// (UploaderOptions::max_in_flight): one being committed upstream, the rest
// waiting there to join its next group commit.
constexpr size_t kForwardBatchesInFlight = 4;

// options.covers into options.store.coverage, against the registry the
// store will use.
absl::Status ParseCoverage(AggregatorOptions& options) {
  if (options.covers.empty()) return absl::OkStatus();
  const Registry& registry = options.store.registry != nullptr
                                 ? options.store.registry->Latest()
                                 : *Registry::England();
  OHFED_ASSIGN_OR_RETURN(options.store.coverage,
                         Coverage::Parse(options.covers, registry));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Aggregator>> Aggregator::Start(
    AggregatorOptions options) {
  if (options.listen.empty())
    return absl::InvalidArgumentError("--listen is required");
  if (options.data_dir.empty())
    return absl::InvalidArgumentError("--data is required");
  OHFED_RETURN_IF_ERROR(CheckListenAddress(options.listen));
  OHFED_RETURN_IF_ERROR(CheckDisclosureOptions(options.store.disclosure));
  OHFED_RETURN_IF_ERROR(PrepareDataDir(options.data_dir));
  OHFED_RETURN_IF_ERROR(ParseCoverage(options));
  // Only a regional's forwarder reads the store's records while it writes.
  options.store.write_mostly = options.upstream.empty();
  std::unique_ptr<Aggregator> a(new Aggregator(std::move(options)));
  OHFED_ASSIGN_OR_RETURN(
      a->store_, SummaryStore::Open(a->options_.data_dir, a->options_.store));
  if (a->store_->registry_changed_at_open()) {
    LogLine(
        "the registry places trusts differently from last run: "
        "rollups rebuilt");
  }
  if (a->options_.rebuild_rollups) {
    OHFED_RETURN_IF_ERROR(a->store_->Rebuild());
    LogLine(absl::StrCat("rebuilt rollups from ", a->store_->stats().units_held,
                         " unit summaries"));
  }
  OHFED_RETURN_IF_ERROR(a->StartAuthz());
  if (!a->options_.upstream.empty())
    OHFED_RETURN_IF_ERROR(a->StartForwarding());
  OHFED_RETURN_IF_ERROR(a->StartServer());
  return a;
}

TransportOptions Aggregator::ServingTransport() const {
  return TransportOptions{
      .insecure = options_.insecure,
      .ca_file = options_.tls_ca,
      .cert_file = options_.tls_cert,
      .key_file = options_.tls_key,
      .cert_refresh_seconds = options_.cert_refresh_seconds};
}

TransportOptions Aggregator::UpstreamTransport() const {
  TransportOptions t = ServingTransport();
  if (!options_.upstream_tls_cert.empty())
    t.cert_file = options_.upstream_tls_cert;
  if (!options_.upstream_tls_key.empty())
    t.key_file = options_.upstream_tls_key;
  return t;
}

absl::Status Aggregator::StartForwarding() {
  TransportOptions transport = UpstreamTransport();
  OHFED_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                         MakeChannel(options_.upstream, transport));
  // Connect (TCP and TLS) now rather than at the first commit: a channel
  // connects lazily, which put the handshake in front of the first forward.
  channel->GetState(/*try_to_connect=*/true);
  forwarder_ = std::make_unique<Forwarder>(store_.get());
  UploaderOptions uploader = options_.uploader;
  uploader.peer = absl::StrCat("upstream aggregator ", options_.upstream);
  // Resend what a damaged upstream store lost (aggregator/forwarder.h).
  uploader.check_receiver_holds = true;
  // Pipelined: upstream answers a stream's batches in order, so the next
  // ones wait there while this store records the acks of the one before.
  uploader.max_in_flight = kForwardBatchesInFlight;
  uploader_ = std::make_unique<Uploader>(
      forwarder_.get(), v1::Ingest::NewStub(channel), std::move(uploader),
      options_.store.clock ? options_.store.clock : Clock::Real());
  // Every commit may add to the outbox: send now rather than at the next poll.
  store_->SetCommitListener([this] { uploader_->Kick(); });
  uploader_->Start();
  LogLine(absl::StrCat("forwarding to ", options_.upstream, " (",
                       forwarder_->outbox_size(), " unit summaries pending, ",
                       forwarder_->refused_count(), " refused upstream)"));
  return absl::OkStatus();
}

absl::Status Aggregator::StartAuthz() {
  const Registry& registry = store_->registry().Latest();
  // The store's registry in force, which SIGHUP may replace.
  Authz::RegistrySource latest = [store = store_.get()]() -> const Registry& {
    return store->registry().Latest();
  };
  if (!options_.tokens_file.empty()) {
    OHFED_ASSIGN_OR_RETURN(TokenTable table,
                           TokenTable::Load(options_.tokens_file, registry));
    tokens_ = std::make_unique<ReloadableTokens>(std::move(table));
  }
  authz_ = std::make_unique<Authz>(
      AuthzOptions{.tokens = tokens_.get(),
                   .insecure = options_.insecure,
                   .coverage = store_->coverage().scope()},
      std::move(latest));
  return absl::OkStatus();
}

absl::Status Aggregator::StartServer() {
  TransportOptions transport = ServingTransport();
  OHFED_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> creds,
                         MakeServerCredentials(options_.listen, transport));
  Clock* clock = options_.store.clock ? options_.store.clock : Clock::Real();
  IngestOptions ingest = options_.ingest;
  if (ingest.clock == nullptr) ingest.clock = clock;
  ingest_ = std::make_unique<IngestService>(store_.get(), std::move(ingest));
  ingest_->set_forwarder(forwarder_.get());
  ingest_->set_authz(authz_.get());
  query_ = std::make_unique<QueryService>(store_.get(), clock, authz_.get(),
                                          options_.query_lanes,
                                          options_.query_answers_kept);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen, creds, &port_);
  ApplyServerLimits(builder);
  AddRpcMetrics(builder, &calls_);
  AddHealthService(builder);
  builder.RegisterService(ingest_.get());
  builder.RegisterService(query_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen));
  }
  MarkServing(*server_, {v1::Ingest::service_full_name(),
                         v1::Query::service_full_name()});
  // Ingest cannot acknowledge anything while the store cannot be written;
  // queries go on from memory.
  store_->SetFailingListener([server = server_.get()](bool failing) {
    SetServiceServing(*server, v1::Ingest::service_full_name(), !failing);
  });
  store_recovery_ = std::make_unique<StoreRecoveryLoop>(
      [store = store_.get()] { return store->failing(); },
      [store = store_.get()] { return store->Recover(); },
      options_.store_retry_interval);
  LogLine(absl::StrCat("listening on ", address(), ", data in ",
                       options_.data_dir, ", ", store_->stats().units_held,
                       " unit summaries held, covering ",
                       store_->coverage().ToString()));
  // Once serving, so that a start-up failure stays a single line.
  if (tokens_ != nullptr) {
    LogLine(absl::StrCat(tokens_->size(), " query tokens from ",
                         options_.tokens_file));
  } else if (authz_->open()) {
    LogWarning(
        "queries are unauthenticated: --insecure without --tokens lets "
        "anyone who reaches this address read every figure it holds");
  }
  return absl::OkStatus();
}

std::string Aggregator::address() const {
  size_t colon = options_.listen.rfind(':');
  return absl::StrCat(options_.listen.substr(0, colon), ":", port_);
}

void Aggregator::Shutdown(absl::Duration grace) {
  if (stopped_) return;
  stopped_ = true;
  // The health listener refers to the server.
  store_recovery_.reset();
  if (store_ != nullptr) store_->SetFailingListener(nullptr);
  if (server_ != nullptr) {
    MarkNotServing(*server_);  // health checkers first, then drain
    ShutdownServer(*server_, calls_, grace);
  }
  // Batches and queries received before the server stopped are answered
  // before the store closes.
  if (ingest_ != nullptr) ingest_->Drain();
  if (query_ != nullptr) query_->Drain();
  // No commit kicks the uploader once it is gone.
  if (store_ != nullptr) store_->SetCommitListener(nullptr);
  if (uploader_ != nullptr) uploader_->Stop();
  uploader_.reset();
  forwarder_.reset();
  store_.reset();  // closes the database
}

Aggregator::~Aggregator() { Shutdown(); }

}  // namespace ohfed::aggregator
