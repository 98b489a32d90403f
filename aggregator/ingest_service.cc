#include "aggregator/ingest_service.h"

#include <google/protobuf/stubs/logging.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>
#include <grpcpp/support/server_callback.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "aggregator/ingest_metrics.h"
#include "aggregator/validation.h"
#include "common/log.h"
#include "common/period.h"
#include "common/status.h"
#include "common/transport.h"
#include "common/tsan_annotations.h"

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
    const grpc::ServerContextBase& context) {
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

absl::StatusOr<PreparedBatch> PrepareBatch(
    SummaryStore& store, v1::SubmitRequest* request, absl::Time now,
    RejectionLog& rejections, const std::optional<PeerIdentity>& caller) {
  if (request->summaries_size() > kMaxSummariesPerBatch) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch of ", request->summaries_size(),
        " summaries exceeds the limit of ", kMaxSummariesPerBatch));
  }
  PreparedBatch batch;
  v1::SubmitResponse& response = batch.response;
  std::vector<v1::UnitSummary>& valid = batch.valid;
  valid.reserve(request->summaries_size());
  const size_t bytes = request->ByteSizeLong();
  for (v1::UnitSummary& s : *request->mutable_summaries()) {
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
      valid.push_back(std::move(s));
      // Only a forwarding (regional) aggregator's receipt time stands for
      // the unit's first receipt; anyone else could backdate on-time.
      if (caller.has_value() && caller->kind != PeerIdentity::Kind::kRegion) {
        valid.back().clear_first_received_unix_ms();
      }
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
  store.CountReceived(bytes, request->summaries_size() - valid.size());
  return batch;
}

void FinishBatch(const SummaryStore& store,
                 const std::vector<v1::UnitSummary>& valid,
                 const std::vector<v1::Outcome>& outcomes,
                 v1::SubmitResponse* response) {
  for (size_t i = 0; i < valid.size(); ++i) {
    v1::Ack* ack = response->add_acks();
    *ack = MakeAck(valid[i], outcomes[i]);
    // With STALE, tells a sender whose data is older than what is held
    // (restored backup, clock gone back) which revision to go above.
    ack->set_held_revision(
        store.HeldRevisionOf(valid[i].trust(), valid[i].period()));
  }
}

absl::StatusOr<v1::SubmitResponse> IngestBatch(
    SummaryStore& store, const v1::SubmitRequest& request, absl::Time now,
    RejectionLog& rejections, const std::optional<PeerIdentity>& caller) {
  v1::SubmitRequest copy = request;
  OHFED_ASSIGN_OR_RETURN(PreparedBatch batch,
                         PrepareBatch(store, &copy, now, rejections, caller));
  OHFED_ASSIGN_OR_RETURN(std::vector<v1::Outcome> outcomes,
                         store.Commit(batch.valid));
  FinishBatch(store, batch.valid, outcomes, &batch.response);
  return std::move(batch.response);
}

// One Submit stream, driven by gRPC's callbacks: read a batch, check it on
// the ingest pool, commit it through the BatchCommitter, write its acks,
// read the next. At most one of those steps is under way at a time, each
// started by the end of the one before, so the state needs no lock; no
// thread waits for the peer or for the commit meanwhile. gRPC orders each
// step after the one that started it, out of ThreadSanitizer's sight (its
// core is not instrumented): HandOver before each start, TakeOver first in
// each callback (common/tsan_annotations.h).
class IngestService::SubmitCall final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, v1::SubmitResponse> {
 public:
  SubmitCall(IngestService* service, grpc::CallbackServerContext* context)
      : service_(service),
        context_(context),
        peer_(PeerAddress(context->peer())) {
    Start();
  }

  void OnReadDone(bool ok) override {
    TakeOver(this);
    if (!ok) {
      // A half-close after the last batch, or a peer that went away.
      if (context_->IsCancelled()) end_ = StreamEnd::kPeerGone;
      return Conclude();
    }
    watch_->Busy();
    ++message_;
    service_->work_.Post([this] { Process(); });
  }

  void OnWriteDone(bool ok) override {
    TakeOver(this);
    if (!ok) {  // the sender went away
      end_ = StreamEnd::kPeerGone;
      return Conclude();
    }
    ReadNext();
  }

  void OnDone() override {
    TakeOver(this);
    CountStreamEnd(end_);
    delete this;
  }

 private:
  void Start() {
    if (service_->authz_ != nullptr) {
      absl::Status allowed =
          service_->authz_->AuthorizeSubmit(CredentialsOf(*context_));
      if (!allowed.ok()) return End(StreamEnd::kUnauthorized, allowed);
    }
    absl::StatusOr<std::unique_ptr<StreamWatch::Stream>> watched =
        service_->watch_.Open(context_, peer_);
    if (!watched.ok()) {
      Reject("stream limit", watched.status().message());
      return End(StreamEnd::kStreamLimit, watched.status());
    }
    watch_ = std::move(*watched);
    absl::StatusOr<std::optional<PeerIdentity>> caller = CallerOf(*context_);
    if (!caller.ok()) {
      Reject("identity", caller.status().message());
      return End(StreamEnd::kUnauthorized, caller.status());
    }
    caller_ = *caller;
    ReadNext();
  }

  void ReadNext() {
    watch_->Waiting();
    HandOver(this);
    StartRead(&raw_);
  }

  // On the ingest pool: parse and check the batch, then hand it to the
  // committer.
  void Process() {
    const size_t bytes = raw_.Length();
    v1::SubmitRequest request;
    if (!Parse(raw_, &request)) {
      absl::Status bad = absl::InvalidArgumentError(
          absl::StrCat("message ", message_, " of this stream (", bytes,
                       " bytes) is not a valid ohfed.v1.SubmitRequest"));
      Reject("unparsable", bad.message());
      return End(StreamEnd::kUnparsable, bad);
    }
    raw_.Clear();
    absl::StatusOr<PreparedBatch> batch = PrepareBatch(
        *service_->store_, &request, service_->options_.clock->Now(),
        service_->rejections_, caller_);
    if (!batch.ok()) return Refuse(batch.status());
    response_ = std::move(batch->response);
    service_->committer_.Commit(
        std::move(batch->valid),
        [this](std::vector<v1::UnitSummary> valid,
               absl::StatusOr<std::vector<v1::Outcome>> outcomes) {
          Committed(valid, outcomes);
        });
  }

  // On a committing thread: the acks go out.
  void Committed(const std::vector<v1::UnitSummary>& valid,
                 const absl::StatusOr<std::vector<v1::Outcome>>& outcomes) {
    if (!outcomes.ok()) return Refuse(outcomes.status());
    FinishBatch(*service_->store_, valid, *outcomes, &response_);
    // While the peer's flow-control window is full, i.e. while it is not
    // taking its acks, nothing more is read and the idle clock runs.
    watch_->Waiting();
    HandOver(this);
    StartWrite(&response_);
  }

  // The batch was refused whole (oversized, or the commit failed).
  void Refuse(const absl::Status& status) {
    Reject(status.message(), status.message());
    End(StreamEnd::kBatchRefused, status);
  }

  // The stream ended by the peer (or the watch): OK, or the idle timeout.
  void Conclude() {
    if (watch_->timed_out()) {
      absl::Status idle = absl::DeadlineExceededError(absl::StrCat(
          "Submit stream idle for ",
          absl::FormatDuration(service_->watch_.idle_timeout()), ": ended"));
      Reject("idle", idle.message());
      return End(StreamEnd::kIdleTimeout, idle);
    }
    End(end_, absl::OkStatus());
  }

  void Reject(absl::string_view reason, absl::string_view message) {
    service_->rejections_.Record(
        peer_, reason, absl::StrCat("ingest from ", peer_, ": ", message));
  }

  void End(StreamEnd end, const absl::Status& status) {
    end_ = end;
    // The stream's place is free before its peer learns it has ended, so
    // that the peer may open the next one at once (OnDone comes later).
    watch_.reset();
    HandOver(this);
    Finish(ToGrpc(status));
  }

  IngestService* const service_;
  grpc::CallbackServerContext* const context_;
  const std::string peer_;
  std::unique_ptr<StreamWatch::Stream> watch_;
  std::optional<PeerIdentity> caller_;
  StreamEnd end_ = StreamEnd::kOk;
  int message_ = 0;  // of the stream, from 1
  grpc::ByteBuffer raw_;
  v1::SubmitResponse response_;
};

IngestService::IngestService(SummaryStore* store, IngestOptions options)
    : store_(store),
      options_(WithDefaults(std::move(options))),
      rejections_(options_.clock, options_.rejection_log_interval,
                  options_.rejection_log_keys, options_.log),
      watch_(options_.max_streams_per_peer, options_.idle_timeout,
             [this] { rejections_.Flush(); }),
      committer_(store, options_.commit_threads),
      work_("ohfed-ingest", options_.work_threads) {
  // gRPC would report a message it cannot parse as the end of the stream,
  // so Submit would answer garbage with OK: take the bytes instead. The
  // callback API holds no thread for an open stream.
  MarkMethodCallback(
      kSubmitMethod,
      new grpc::internal::CallbackBidiHandler<grpc::ByteBuffer,
                                              v1::SubmitResponse>(
          [this](grpc::CallbackServerContext* context) {
            return new SubmitCall(this, context);
          }));
}

IngestService::~IngestService() { Drain(); }

void IngestService::Drain() {
  // A batch being checked may still hand its summaries to the committer.
  work_.WaitIdle();
  committer_.WaitIdle();
  work_.WaitIdle();
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
