#include "aggregator/ingest_service.h"

#include <google/protobuf/arena.h>
#include <google/protobuf/stubs/logging.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/method_handler.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "aggregator/ingest_metrics.h"
#include "aggregator/validation.h"
#include "common/log.h"
#include "common/period.h"
#include "common/status.h"
#include "common/transport.h"

namespace ohfed::aggregator {
namespace {

// Index of Submit among the methods of ohfed.v1.Ingest (declaration order).
constexpr int kSubmitMethod = 0;

// At most `max` bytes of valid UTF-8 `text`, never cutting a character, so
// the ack stays valid proto3 (strings must be UTF-8).
std::string Utf8Prefix(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return text.substr(0, end);
}

v1::Ack MakeAck(const v1::UnitSummary& s, v1::Outcome outcome,
                absl::string_view reason = {}) {
  v1::Ack ack;
  // Echo identifiers bounded, so a hostile oversized code is not reflected.
  ack.set_trust(Utf8Prefix(s.trust(), kMaxStringBytes));
  ack.set_period(Utf8Prefix(s.period(), kMaxStringBytes));
  ack.set_revision(s.revision());
  ack.set_outcome(outcome);
  ack.set_reason(std::string(reason));
  return ack;
}

// Blocks of 64 KiB to 1 MiB: a batch of 12 summaries of the full catalogue
// parses into ~200 KiB.
google::protobuf::ArenaOptions BatchArenaOptions() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = 64 << 10;
  options.max_block_size = 1 << 20;
  return options;
}

IngestOptions WithDefaults(IngestOptions options) {
  if (options.clock == nullptr) options.clock = Clock::Real();
  // Rejections: a peer or its data is wrong, and nothing of it was stored.
  if (!options.log) {
    options.log = [](absl::string_view line) { LogWarning(line); };
  }
  return options;
}

// The caller's identity, nullopt without one (plaintext); an error for a
// certificate that names no ohfed identity.
absl::StatusOr<std::optional<PeerIdentity>> CallerOf(
    const grpc::ServerContext& context) {
  absl::StatusOr<PeerIdentity> id = PeerIdentityOf(context);
  if (id.ok()) return std::optional<PeerIdentity>(*id);
  if (id.status().code() == absl::StatusCode::kUnauthenticated) {
    // Over TLS without a certificate (a token holder, say): no right to
    // submit. Plaintext (--insecure on loopback) has no identities at all.
    if (PeerUsesTls(context)) {
      return absl::UnauthenticatedError(
          "a client certificate (trust:CODE or region:CODE) is needed to "
          "submit or ask Feedback");
    }
    return std::optional<PeerIdentity>();
  }
  return id.status();
}

// Feedback's list of what is held for `trust`, so that its sender resends
// what this store lost (aggregator/store_recovery.h); and the request
// counts towards confirming the trust. Unknown trusts get an empty, complete
// list and confirm nothing.
void ListHeld(SummaryStore& store, const std::string& trust,
              v1::FeedbackResponse* response) {
  response->set_held_complete(true);
  if (store.registry().Latest().FindTrust(trust) == nullptr) return;
  for (const auto& [period, revision] : store.HeldOf(trust)) {
    v1::Ack* held = response->add_held();
    held->set_trust(trust);
    held->set_period(period);
    held->set_held_revision(revision);
  }
  // Best effort: a failed write leaves the trust unconfirmed, which only
  // keeps a warning up; the next Feedback tries again.
  absl::Status confirmed = store.OnFeedback(trust);
  if (!confirmed.ok()) {
    LogWarning(absl::StrCat("cannot record that ", trust,
                            " confirmed its data: ", confirmed.message()));
  }
}

}  // namespace

absl::Status CheckSubmitter(const PeerIdentity& caller, absl::string_view trust,
                            absl::string_view period,
                            const RegistryHistory& registry) {
  const std::string who = absl::StrCat("certificate ", caller.ToString());
  const std::string code = Echo(std::string(trust));
  switch (caller.kind) {
    case PeerIdentity::Kind::kTrust:
      if (trust == caller.code) return absl::OkStatus();
      return absl::PermissionDeniedError(
          absl::StrCat(who, " may not submit for ", code));
    case PeerIdentity::Kind::kRegion: {
      absl::StatusOr<Period> p = Period::Parse(period);
      const Registry& r = p.ok() ? registry.At(p->first()) : registry.Latest();
      const Trust* t = r.FindTrust(trust);
      if (t != nullptr && t->region == caller.code) return absl::OkStatus();
      return absl::PermissionDeniedError(absl::StrCat(
          who, " may not submit for ", code,
          t == nullptr ? ", a trust not in the registry"
                       : absl::StrCat(", a trust of region ", t->region),
          " (registry ", r.version(), ")"));
    }
    case PeerIdentity::Kind::kNational:
      break;
  }
  return absl::PermissionDeniedError(
      absl::StrCat(who, " may not submit for ", code,
                   ": only a trust's agent or a regional aggregator submits"));
}

absl::StatusOr<v1::SubmitResponse> IngestBatch(
    SummaryStore& store, const v1::SubmitRequest& request, absl::Time now,
    RejectionLog& rejections, const std::optional<PeerIdentity>& caller) {
  if (request.summaries_size() > kMaxSummariesPerBatch) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch of ", request.summaries_size(),
        " summaries exceeds the limit of ", kMaxSummariesPerBatch));
  }
  v1::SubmitResponse response;
  // Only a forwarding (regional) aggregator's receipt time stands for the
  // unit's first receipt; anyone else could backdate on-time.
  const bool forwarded =
      !caller.has_value() || caller->kind == PeerIdentity::Kind::kRegion;
  std::vector<SummaryStore::Incoming> valid;  // pointing into `request`
  valid.reserve(request.summaries_size());
  for (const v1::UnitSummary& s : request.summaries()) {
    RejectionClass failed = RejectionClass::kNotPermitted;
    absl::Status check =
        caller.has_value()
            ? CheckSubmitter(*caller, s.trust(), s.period(), store.registry())
            : absl::OkStatus();
    if (check.ok()) {
      failed = RejectionClass::kInvalid;
      check = ValidateSummary(s, store.catalogues(), store.registry(), now);
    }
    if (check.ok()) {
      failed = RejectionClass::kOutsideCoverage;
      check = store.coverage().CheckSummary(s, store.registry());
    }
    if (check.ok()) {
      valid.push_back({&s, forwarded, /*received=*/{}});
      continue;
    }
    CountRejection(failed);
    // Raw but bounded: the log escapes what it writes (common/log.h).
    const std::string trust = Bound(s.trust());
    rejections.Record(
        trust, check.message(),
        absl::StrCat("rejected ", trust, " ", Bound(s.period()), " revision ",
                     s.revision(), ": ", check.message()));
    *response.add_acks() = MakeAck(s, v1::OUTCOME_REJECTED, check.message());
  }
  store.CountReceived(request.ByteSizeLong(),
                      request.summaries_size() - valid.size());
  OHFED_ASSIGN_OR_RETURN(std::vector<v1::Outcome> outcomes,
                         store.CommitReceived(valid));
  for (size_t i = 0; i < valid.size(); ++i) {
    const v1::UnitSummary& s = *valid[i].summary;
    v1::Ack* ack = response.add_acks();
    *ack = MakeAck(s, outcomes[i]);
    // With STALE, tells a sender whose data is older than what is held
    // (restored backup, clock gone back) which revision to go above.
    ack->set_held_revision(store.HeldRevisionOf(s.trust(), s.period()));
  }
  return response;
}

IngestService::IngestService(SummaryStore* store, IngestOptions options)
    : store_(store),
      options_(WithDefaults(std::move(options))),
      rejections_(options_.clock, options_.rejection_log_interval,
                  options_.rejection_log_keys, options_.log),
      watch_(options_.max_streams_per_peer, options_.idle_timeout,
             [this] { rejections_.Flush(); }) {
  // gRPC's sync API reports a message it cannot parse as the end of the
  // stream, so Submit would answer garbage with OK: take the bytes instead.
  MarkMethodStreamed(
      kSubmitMethod,
      new grpc::internal::BidiStreamingHandler<IngestService, grpc::ByteBuffer,
                                               v1::SubmitResponse>(
          [](IngestService* service, grpc::ServerContext* context,
             RawStream* stream) { return service->SubmitRaw(context, stream); },
          this));
}

bool IngestService::Parse(grpc::ByteBuffer& raw, v1::SubmitRequest* request) {
  // protobuf would log a line for every string that is not UTF-8, at the
  // sender's pace; the rate-limited rejection log reports the failure.
  google::protobuf::LogSilencer quiet;
  if (!grpc::GenericDeserialize<grpc::ProtoBufferReader, v1::SubmitRequest>(
           &raw, request)
           .ok()) {
    return false;
  }
  // Nothing that is not a catalogue value is stored or forwarded.
  DiscardUnknownFields(request);
  return true;
}

grpc::Status IngestService::SubmitRaw(grpc::ServerContext* context,
                                      RawStream* stream) {
  StreamEnd end = StreamEnd::kOk;
  grpc::Status status = Submit(context, stream, &end);
  CountStreamEnd(end);
  return status;
}

grpc::Status IngestService::Submit(grpc::ServerContext* context,
                                   RawStream* stream, StreamEnd* end) {
  if (authz_ != nullptr) {
    absl::Status allowed = authz_->AuthorizeSubmit(CredentialsOf(*context));
    if (!allowed.ok()) {
      *end = StreamEnd::kUnauthorized;
      return ToGrpc(allowed);
    }
  }
  const std::string peer = PeerAddress(context->peer());
  absl::StatusOr<std::unique_ptr<StreamWatch::Stream>> watched =
      watch_.Open(context, peer);
  if (!watched.ok()) {
    rejections_.Record(
        peer, "stream limit",
        absl::StrCat("ingest from ", peer, ": ", watched.status().message()));
    *end = StreamEnd::kStreamLimit;
    return ToGrpc(watched.status());
  }
  absl::StatusOr<std::optional<PeerIdentity>> caller = CallerOf(*context);
  if (!caller.ok()) {
    rejections_.Record(
        peer, "identity",
        absl::StrCat("ingest from ", peer, ": ", caller.status().message()));
    *end = StreamEnd::kUnauthorized;
    return ToGrpc(caller.status());
  }
  StreamWatch::Stream& watch = **watched;
  grpc::ByteBuffer raw;
  for (int message = 1;; ++message) {
    watch.Waiting();
    if (!stream->Read(&raw)) {
      // A half-close after the last batch, or a peer that went away.
      if (context->IsCancelled()) *end = StreamEnd::kPeerGone;
      break;
    }
    watch.Busy();
    const size_t bytes = raw.Length();
    // A batch is ~700 cells: on an arena they cost a bump of a pointer each,
    // and one free for all.
    google::protobuf::Arena arena(BatchArenaOptions());
    v1::SubmitRequest& request =
        *google::protobuf::Arena::CreateMessage<v1::SubmitRequest>(&arena);
    if (!Parse(raw, &request)) {
      absl::Status bad = absl::InvalidArgumentError(
          absl::StrCat("message ", message, " of this stream (", bytes,
                       " bytes) is not a valid ohfed.v1.SubmitRequest"));
      rejections_.Record(
          peer, "unparsable",
          absl::StrCat("ingest from ", peer, ": ", bad.message()));
      *end = StreamEnd::kUnparsable;
      return ToGrpc(bad);
    }
    absl::StatusOr<v1::SubmitResponse> response = IngestBatch(
        *store_, request, options_.clock->Now(), rejections_, *caller);
    if (!response.ok()) {
      rejections_.Record(peer, response.status().message(),
                         absl::StrCat("ingest from ", peer, ": ",
                                      response.status().message()));
      *end = StreamEnd::kBatchRefused;
      return ToGrpc(response.status());
    }
    // Blocks while the peer's flow-control window is full, i.e. while it is
    // not taking its acks; nothing more is read meanwhile.
    watch.Waiting();
    if (!stream->Write(*response)) {  // the sender went away
      *end = StreamEnd::kPeerGone;
      break;
    }
  }
  if (watch.timed_out()) {
    absl::Status idle = absl::DeadlineExceededError(
        absl::StrCat("Submit stream idle for ",
                     absl::FormatDuration(watch_.idle_timeout()), ": ended"));
    rejections_.Record(
        peer, "idle", absl::StrCat("ingest from ", peer, ": ", idle.message()));
    *end = StreamEnd::kIdleTimeout;
    return ToGrpc(idle);
  }
  return grpc::Status::OK;
}

grpc::Status IngestService::Feedback(grpc::ServerContext* context,
                                     const v1::FeedbackRequest* request,
                                     v1::FeedbackResponse* response) {
  if (authz_ != nullptr) {
    absl::Status allowed =
        authz_->AuthorizeFeedback(CredentialsOf(*context), request->trust());
    if (!allowed.ok()) return ToGrpc(allowed);
  }
  const std::string& trust = request->trust();
  if (trust.empty() || trust.size() > static_cast<size_t>(kMaxStringBytes) ||
      trust.find('/') != std::string::npos) {
    return ToGrpc(absl::InvalidArgumentError("feedback needs a trust code"));
  }
  absl::StatusOr<std::optional<PeerIdentity>> caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpc(caller.status());
  if (caller->has_value()) {
    absl::Status may =
        CheckSubmitter(**caller, trust, /*period=*/"", store_->registry());
    if (!may.ok()) return ToGrpc(may);
  }
  if (forwarder_ != nullptr) {
    for (v1::Ack& ack : forwarder_->Refused(trust)) {
      *response->add_upstream() = std::move(ack);
    }
  }
  ListHeld(*store_, trust, response);
  return grpc::Status::OK;
}

}  // namespace ohfed::aggregator
