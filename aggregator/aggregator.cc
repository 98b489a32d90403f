#include "aggregator/aggregator.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/disclosure.h"
#include "common/log.h"
#include "common/status.h"
#include "common/transport.h"

namespace ohfed::aggregator {
namespace {

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
  if (options.listen.empty()) return absl::InvalidArgumentError("--listen is required");
  if (options.data_dir.empty()) return absl::InvalidArgumentError("--data is required");
  OHFED_RETURN_IF_ERROR(CheckListenAddress(options.listen));
  OHFED_RETURN_IF_ERROR(CheckDisclosureOptions(options.store.disclosure));
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat(
        "cannot create data directory ", options.data_dir, ": ", ec.message()));
  }
  OHFED_RETURN_IF_ERROR(ParseCoverage(options));
  std::unique_ptr<Aggregator> a(new Aggregator(std::move(options)));
  OHFED_ASSIGN_OR_RETURN(a->store_,
                         Store::Open(a->options_.data_dir, a->options_.store));
  if (a->store_->registry_changed_at_open()) {
    LogLine("the registry places trusts differently from last run: "
            "rollups rebuilt");
  }
  if (a->options_.rebuild_rollups) {
    OHFED_RETURN_IF_ERROR(a->store_->Rebuild());
    LogLine(absl::StrCat("rebuilt rollups from ",
                         a->store_->stats().units_held, " unit summaries"));
  }
  if (!a->options_.upstream.empty()) OHFED_RETURN_IF_ERROR(a->StartForwarding());
  OHFED_RETURN_IF_ERROR(a->StartServer());
  return a;
}

absl::Status Aggregator::StartForwarding() {
  TransportOptions transport{.insecure = options_.insecure};
  OHFED_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                         MakeChannel(options_.upstream, transport));
  OHFED_ASSIGN_OR_RETURN(forwarder_, Forwarder::Create(store_.get()));
  UploaderOptions uploader = options_.uploader;
  uploader.peer = absl::StrCat("upstream aggregator ", options_.upstream);
  uploader_ = std::make_unique<Uploader>(
      forwarder_.get(), v1::Ingest::NewStub(channel), std::move(uploader),
      options_.store.clock ? options_.store.clock : Clock::Real());
  // Every commit may add to the outbox: send now rather than at the next poll.
  store_->SetCommitListener([this](const std::vector<HeldRevision>& units) {
    forwarder_->OnCommit(units);
    uploader_->Kick();
  });
  // Completeness shows what upstream refused.
  store_->SetUpstreamRefusals(forwarder_.get());
  uploader_->Start();
  LogLine(absl::StrCat("forwarding to ", options_.upstream, " (",
                       forwarder_->outbox_size(), " unit summaries pending, ",
                       forwarder_->refused_count(), " refused upstream)"));
  return absl::OkStatus();
}

absl::Status Aggregator::StartServer() {
  TransportOptions transport{.insecure = options_.insecure};
  OHFED_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> creds,
                         MakeServerCredentials(options_.listen, transport));
  Clock* clock = options_.store.clock ? options_.store.clock : Clock::Real();
  IngestOptions ingest = options_.ingest;
  if (ingest.clock == nullptr) ingest.clock = clock;
  ingest_ = std::make_unique<IngestService>(store_.get(), std::move(ingest));
  ingest_->set_forwarder(forwarder_.get());
  query_ = std::make_unique<QueryService>(store_.get(), clock);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen, creds, &port_);
  ApplyServerLimits(builder);
  builder.RegisterService(ingest_.get());
  builder.RegisterService(query_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen));
  }
  LogLine(absl::StrCat("listening on ", address(), ", data in ",
                       options_.data_dir, ", ", store_->stats().units_held,
                       " unit summaries held, covering ",
                       store_->coverage().ToString()));
  return absl::OkStatus();
}

std::string Aggregator::address() const {
  size_t colon = options_.listen.rfind(':');
  return absl::StrCat(options_.listen.substr(0, colon), ":", port_);
}

void Aggregator::Shutdown(absl::Duration grace) {
  if (stopped_) return;
  stopped_ = true;
  if (server_ != nullptr) {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
  }
  if (uploader_ != nullptr) uploader_->Stop();
  uploader_.reset();
  if (store_ != nullptr) store_->SetUpstreamRefusals(nullptr);
  forwarder_.reset();
  store_.reset();  // closes the database
}

Aggregator::~Aggregator() { Shutdown(); }

}  // namespace ohfed::aggregator
