#include "aggregator/ingest_service.h"

#include <google/protobuf/stubs/logging.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>
#include <grpcpp/support/server_callback.h>

#include <algorithm>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "aggregator/codec.h"
#include "aggregator/ingest_metrics.h"
#include "aggregator/submit_reader.h"
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
// Readers the service keeps for the next batches, per batch its ingest
// threads may check at once (work_threads x batches_in_flight): enough for
// the batches waiting for a commit meanwhile at tens of streams.
constexpr int kReadersKeptPerBatch = 2;
// A batch's first arena block is at most this (larger batches take more
// blocks).
constexpr size_t kMaxArenaStartBlock = 1 << 20;

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

// Parses one received message on `arena`, dropping unknown fields; nullptr
// if it is not a SubmitRequest. `changed`: per summary, whether anything of
// it was dropped.
v1::SubmitRequest* ParseRequest(absl::string_view bytes,
                                google::protobuf::Arena* arena,
                                std::vector<bool>* changed) {
  // protobuf would log a line for every string that is not UTF-8, at the
  // sender's pace; the rate-limited rejection log reports the failure.
  google::protobuf::LogSilencer quiet;
  auto* request =
      google::protobuf::Arena::CreateMessage<v1::SubmitRequest>(arena);
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !request->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return nullptr;
  }
  // Nothing that is not a catalogue value is stored or forwarded.
  *changed = DiscardUnknownFields(request);
  return request;
}

// Only a forwarding (regional) aggregator's receipt time stands for the
// unit's first receipt; anyone else could backdate on-time.
bool Forwarded(const std::optional<PeerIdentity>& caller) {
  return !caller.has_value() || caller->kind == PeerIdentity::Kind::kRegion;
}

}  // namespace

namespace {

// CheckSubmitter, with the registry version for a regional certificate
// given by `at()` (called only for one).
template <typename At>
absl::Status CheckSubmitterIn(const PeerIdentity& caller,
                              absl::string_view trust, At at) {
  // The refusal's words are made only for a refusal: this runs for every
  // summary received.
  auto refused = [&](absl::string_view why) {
    return absl::PermissionDeniedError(
        absl::StrCat("certificate ", caller.ToString(), " may not submit for ",
                     Echo(trust), why));
  };
  switch (caller.kind) {
    case PeerIdentity::Kind::kTrust:
      if (trust == caller.code) return absl::OkStatus();
      return refused("");
    case PeerIdentity::Kind::kRegion: {
      const Registry& r = at();
      const Trust* t = r.FindTrust(trust);
      if (t != nullptr && t->region == caller.code) return absl::OkStatus();
      return refused(absl::StrCat(
          t == nullptr ? ", a trust not in the registry"
                       : absl::StrCat(", a trust of region ", t->region),
          " (registry ", r.version(), ")"));
    }
    case PeerIdentity::Kind::kNational:
      break;
  }
  return refused(": only a trust's agent or a regional aggregator submits");
}

// The registry version CheckSubmitter uses for `period`: that of its first
// month, however it is written, or the latest.
const Registry& SubmitterRegistry(absl::string_view period,
                                  const RegistryHistory& registry) {
  absl::StatusOr<Period> p = Period::Parse(period);
  return p.ok() ? registry.At(p->first()) : registry.Latest();
}

}  // namespace

absl::Status CheckSubmitter(const PeerIdentity& caller, absl::string_view trust,
                            absl::string_view period,
                            const RegistryHistory& registry) {
  return CheckSubmitterIn(caller, trust, [&]() -> const Registry& {
    return SubmitterRegistry(period, registry);
  });
}

namespace {

// The summaries of a parsed request, for PrepareSummaries.
class ParsedSummaries {
 public:
  ParsedSummaries(const v1::SubmitRequest& request,
                  absl::Span<const absl::string_view> received)
      : request_(request),
        received_(received.size() ==
                          static_cast<size_t>(request.summaries_size())
                      ? received
                      : absl::Span<const absl::string_view>()) {}
  int size() const { return request_.summaries_size(); }
  const v1::UnitSummary& header(int i) const { return request_.summaries(i); }
  absl::Status Validate(int i, const CatalogueVersions& catalogues,
                        const SummaryPeriod& period,
                        const ReceiptClock& clock) const {
    return ValidateSummary(request_.summaries(i), catalogues, period, clock);
  }
  SummaryStore::Incoming Incoming(int i, bool forwarded) const {
    return {&request_.summaries(i), forwarded,
            received_.empty() ? absl::string_view()
                              : received_[static_cast<size_t>(i)]};
  }

 private:
  const v1::SubmitRequest& request_;
  const absl::Span<const absl::string_view> received_;
};

// The summaries SubmitReader read, for PrepareSummaries.
class ReadSummaries {
 public:
  explicit ReadSummaries(const SubmitReader& reader)
      : summaries_(reader.summaries()) {}
  int size() const { return static_cast<int>(summaries_.size()); }
  const v1::UnitSummary& header(int i) const { return *at(i).header; }
  absl::Status Validate(int i, const CatalogueVersions& catalogues,
                        const SummaryPeriod& period,
                        const ReceiptClock& clock) const {
    return ValidateSummary(*at(i).header, at(i).cells, catalogues, period,
                           clock);
  }
  SummaryStore::Incoming Incoming(int i, bool forwarded) const {
    return {at(i).header, forwarded, at(i).received, at(i).cells};
  }

 private:
  const SubmitReader::Summary& at(int i) const {
    return summaries_[static_cast<size_t>(i)];
  }
  const absl::Span<const SubmitReader::Summary> summaries_;
};

// PrepareBatch over either form of a batch's summaries.
template <typename Summaries>
absl::Status PrepareSummaries(SummaryStore& store, const Summaries& summaries,
                              size_t bytes, absl::Time now,
                              RejectionLog& rejections,
                              const std::optional<PeerIdentity>& caller,
                              v1::SubmitResponse* response,
                              std::vector<SummaryStore::Incoming>* valid) {
  if (summaries.size() > kMaxSummariesPerBatch) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch of ", summaries.size(), " summaries exceeds the limit of ",
        kMaxSummariesPerBatch));
  }
  const bool forwarded = Forwarded(caller);
  // Once per batch: each takes the store's lock.
  const CatalogueVersions& catalogues = store.catalogues();
  const RegistryHistory& registry = store.registry();
  const ReceiptClock clock(now);
  valid->clear();
  valid->reserve(static_cast<size_t>(summaries.size()));
  for (int i = 0; i < summaries.size(); ++i) {
    const v1::UnitSummary& s = summaries.header(i);
    // The period parsed once for every check, and its registry version
    // found once: what each of them would find for themselves.
    const SummaryPeriod period = FindSummaryPeriod(s.period(), registry);
    RejectionClass failed = RejectionClass::kNotPermitted;
    absl::Status check =
        caller.has_value()
            ? CheckSubmitterIn(*caller, s.trust(),
                               [&]() -> const Registry& {
                                 return period.registry != nullptr
                                            ? *period.registry
                                            : SubmitterRegistry(s.period(),
                                                                registry);
                               })
            : absl::OkStatus();
    if (check.ok()) {
      failed = RejectionClass::kInvalid;
      check = summaries.Validate(i, catalogues, period, clock);
    }
    if (check.ok()) {  // valid: its period is a month or a year
      failed = RejectionClass::kOutsideCoverage;
      check = store.coverage().CheckTrust(s.trust(), *period.registry);
    }
    if (check.ok()) {
      valid->push_back(summaries.Incoming(i, forwarded));
      continue;
    }
    CountRejection(failed);
    // Raw but bounded: the log escapes what it writes (common/log.h).
    const std::string trust = Bound(s.trust());
    rejections.Record(
        trust, check.message(),
        absl::StrCat("rejected ", trust, " ", Bound(s.period()), " revision ",
                     s.revision(), ": ", check.message()));
    *response->add_acks() = MakeAck(s, v1::OUTCOME_REJECTED, check.message());
  }
  store.CountReceived(bytes, summaries.size() - valid->size());
  return absl::OkStatus();
}

// Whether every summary `reader` read may be stored as it arrived: the
// store edits a retraction that carries cells, and a first receipt time
// from a sender that may not set it, and re-serializes those from their
// parsed form (rare: such batches are parsed).
bool StorableAsRead(const SubmitReader& reader, bool forwarded) {
  for (const SubmitReader::Summary& s : reader.summaries()) {
    if (s.header->retracted() && !s.cells.empty()) return false;
    if (!forwarded && s.header->first_received_unix_ms() != 0) return false;
  }
  return true;
}

}  // namespace

absl::Status PrepareBatch(SummaryStore& store, const v1::SubmitRequest& request,
                          absl::Span<const absl::string_view> received,
                          size_t bytes, absl::Time now,
                          RejectionLog& rejections,
                          const std::optional<PeerIdentity>& caller,
                          v1::SubmitResponse* response,
                          std::vector<SummaryStore::Incoming>* valid) {
  return PrepareSummaries(store, ParsedSummaries(request, received), bytes, now,
                          rejections, caller, response, valid);
}

absl::StatusOr<ReadPath> PrepareReceived(
    SummaryStore& store, absl::string_view bytes,
    google::protobuf::Arena* arena, const SubmitReader* read, absl::Time now,
    RejectionLog& rejections, const std::optional<PeerIdentity>& caller,
    v1::SubmitResponse* response, std::vector<SummaryStore::Incoming>* valid) {
  if (read != nullptr && StorableAsRead(*read, Forwarded(caller))) {
    OHFED_RETURN_IF_ERROR(PrepareSummaries(store, ReadSummaries(*read),
                                           bytes.size(), now, rejections,
                                           caller, response, valid));
    return ReadPath::kRead;
  }
  std::vector<bool> changed;
  v1::SubmitRequest* request = ParseRequest(bytes, arena, &changed);
  if (request == nullptr) return ReadPath::kUnparsable;
  std::vector<absl::string_view> received = SummaryBytes(bytes);
  if (received.size() == changed.size()) {
    for (size_t i = 0; i < received.size(); ++i) {
      if (changed[i]) received[i] = {};
    }
  } else {
    received.clear();
  }
  OHFED_RETURN_IF_ERROR(PrepareBatch(store, *request, received, bytes.size(),
                                     now, rejections, caller, response, valid));
  return ReadPath::kParsed;
}

void FinishBatch(const std::vector<SummaryStore::Incoming>& valid,
                 const SummaryStore::Committed& committed,
                 v1::SubmitResponse* response) {
  for (size_t i = 0; i < valid.size(); ++i) {
    v1::Ack* ack = response->add_acks();
    const v1::UnitSummary& s = *valid[i].summary;
    // Validated: codes and periods are short and UTF-8.
    ack->set_trust(s.trust());
    ack->set_period(s.period());
    ack->set_revision(s.revision());
    ack->set_outcome(committed.outcomes[i]);
    // With STALE, tells a sender whose data is older than what is held
    // (restored backup, clock gone back) which revision to go above.
    ack->set_held_revision(committed.held_revisions[i]);
  }
}

absl::StatusOr<v1::SubmitResponse> IngestBatch(
    SummaryStore& store, const v1::SubmitRequest& request, absl::Time now,
    RejectionLog& rejections, const std::optional<PeerIdentity>& caller) {
  v1::SubmitResponse response;
  std::vector<SummaryStore::Incoming> valid;
  OHFED_RETURN_IF_ERROR(PrepareBatch(store, request, {}, request.ByteSizeLong(),
                                     now, rejections, caller, &response,
                                     &valid));
  OHFED_ASSIGN_OR_RETURN(SummaryStore::Committed committed,
                         store.CommitAndWait(valid));
  FinishBatch(valid, committed, &response);
  return response;
}

absl::StatusOr<v1::SubmitResponse> IngestReceived(
    SummaryStore& store, absl::string_view bytes, absl::Time now,
    RejectionLog& rejections, const std::optional<PeerIdentity>& caller,
    bool use_reader, ReadPath* path) {
  SubmitReader reader;
  const bool read = use_reader && reader.Read(bytes);
  google::protobuf::Arena arena(BatchArenaOptions(bytes.size(), !read));
  v1::SubmitResponse response;
  std::vector<SummaryStore::Incoming> valid;
  // An error comes from checking the summaries, read or parsed.
  if (path != nullptr) *path = read ? ReadPath::kRead : ReadPath::kParsed;
  OHFED_ASSIGN_OR_RETURN(
      ReadPath how,
      PrepareReceived(store, bytes, &arena, read ? &reader : nullptr, now,
                      rejections, caller, &response, &valid));
  if (path != nullptr) *path = how;
  if (how == ReadPath::kUnparsable) {
    return absl::InvalidArgumentError("not a valid ohfed.v1.SubmitRequest");
  }
  OHFED_ASSIGN_OR_RETURN(SummaryStore::Committed committed,
                         store.CommitAndWait(valid));
  FinishBatch(valid, committed, &response);
  return response;
}

google::protobuf::ArenaOptions BatchArenaOptions(size_t request_bytes,
                                                 bool parsed) {
  google::protobuf::ArenaOptions options;
  // What does not fit (a batch of unusually many buckets) takes blocks of a
  // fraction of the first rather than twice it.
  options.max_block_size =
      std::clamp<size_t>(request_bytes / 4, 4096, kMaxArenaStartBlock);
  if (!parsed) {
    // Read from its bytes, the batch keeps only its acks here.
    options.start_block_size = 4096;
    return options;
  }
  // 3.5x the bytes: the parsed objects of a typical batch (~2.9x) fit with
  // room to spare; acks are small.
  options.start_block_size = std::clamp<size_t>(request_bytes / 2 * 7 + 4096,
                                                4096, kMaxArenaStartBlock);
  return options;
}

// One Submit stream, driven by gRPC's callbacks: read batches, check them on
// the ingest pool, hand them to the store's group commit, write their acks
// in the order the batches came. Up to batches_in_flight batches of the
// stream are read before the first is acknowledged, so a sender that keeps
// several in flight (a regional forwarder) has them checked and committed
// together, in one group; a sender that waits for each ack sees no
// difference. No thread waits for the peer or for a commit meanwhile.
// State is under mu_, taken by gRPC's callbacks, the ingest pool and the
// committing threads. gRPC orders each callback after the operation that
// started it, out of ThreadSanitizer's sight (its core is not
// instrumented): HandOver before each start, TakeOver first in each
// callback (common/tsan_annotations.h).
class IngestService::SubmitCall final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, v1::SubmitResponse> {
 public:
  SubmitCall(IngestService* service, grpc::CallbackServerContext* context)
      : service_(service),
        context_(context),
        peer_(PeerAddress(context->peer())),
        window_(static_cast<size_t>(
            std::max(1, service->options_.batches_in_flight))) {
    absl::MutexLock l(&mu_);
    Start();
  }

  void OnReadDone(bool ok) override {
    TakeOver(this);
    absl::MutexLock l(&mu_);
    reading_ = false;
    if (!ok) {
      // A half-close after the last batch, or a peer that went away.
      if (context_->IsCancelled()) end_ = StreamEnd::kPeerGone;
      read_closed_ = true;
      return Advance();
    }
    if (ending_ || failed_) return;  // nothing more is taken
    auto batch = std::make_unique<Batch>();
    batch->raw.Swap(&raw_);
    batch->message = ++message_;
    batches_.push_back(std::move(batch));
    ++unstarted_;
    ++working_;
    Watch();
    if (!processing_) {
      processing_ = true;
      service_->work_.Post([this] { ProcessQueued(); });
    }
    ReadMore();
  }

  void OnWriteDone(bool ok) override {
    TakeOver(this);
    std::unique_ptr<Batch> sent;  // its memory goes outside the lock
    absl::MutexLock l(&mu_);
    writing_ = false;
    sent = std::move(batches_.front());
    batches_.pop_front();
    if (!ok) {  // the sender went away, or stopped taking its acks
      read_closed_ = true;
      if (TimedOut()) return EndIdle();
      return EndLocked(StreamEnd::kPeerGone, absl::OkStatus());
    }
    Advance();
  }

  void OnDone() override {
    TakeOver(this);
    // Finish may have been called by a thread that still holds mu_: it
    // uses nothing of the call once it lets go.
    StreamEnd end;
    {
      absl::MutexLock l(&mu_);
      end = end_;
    }
    CountStreamEnd(end);
    delete this;
  }

 private:
  // One received batch, from its read until its acks are sent: its bytes,
  // the arena its request and acks live on, the valid summaries (pointing
  // into both), and how its commit went.
  struct Batch {
    int message = 0;  // of the stream, from 1
    grpc::ByteBuffer raw;
    grpc::Slice bytes;
    std::optional<google::protobuf::Arena> arena;
    // The cells, when read from `bytes`: lent by the service's pool until
    // the batch is done, so that its storage serves the next batch.
    SubmitReaderPool::Lease reader;
    std::vector<SummaryStore::Incoming> valid;
    v1::SubmitResponse* response = nullptr;  // on arena
    bool answered = false;  // acks ready in `response`, or `refused`
    absl::Status refused;   // the batch ends the stream
    std::string reason;     // of the refusal, for the rejection log
    StreamEnd end = StreamEnd::kBatchRefused;  // how a refusal ends it

    absl::string_view Bytes() const {
      return absl::string_view(reinterpret_cast<const char*>(bytes.begin()),
                               bytes.size());
    }
  };

  void Start() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (service_->authz_ != nullptr) {
      absl::Status allowed =
          service_->authz_->AuthorizeSubmit(CredentialsOf(*context_));
      if (!allowed.ok()) return EndLocked(StreamEnd::kUnauthorized, allowed);
    }
    absl::StatusOr<std::unique_ptr<StreamWatch::Stream>> watched =
        service_->watch_.Open(context_, peer_);
    if (!watched.ok()) {
      Reject("stream limit", watched.status().message());
      return EndLocked(StreamEnd::kStreamLimit, watched.status());
    }
    watch_ = std::move(*watched);
    absl::StatusOr<std::optional<PeerIdentity>> caller = CallerOf(*context_);
    if (!caller.ok()) {
      Reject("identity", caller.status().message());
      return EndLocked(StreamEnd::kUnauthorized, caller.status());
    }
    caller_ = *caller;
    ReadMore();
  }

  // Reads the next batch if the window has room and the stream goes on.
  void ReadMore() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (reading_ || read_closed_ || ending_ || failed_ ||
        batches_.size() >= window_) {
      return;
    }
    reading_ = true;
    Watch();
    HandOver(this);
    StartRead(&raw_);
  }

  // While a batch is checked or committed the stream is busy, however long
  // that takes; otherwise it waits on its peer (for a batch, or to take its
  // acks: with the window full of unsent acks nothing more is read) and the
  // idle clock runs.
  void Watch() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (watch_ == nullptr) return;
    if (working_ > 0) {
      watch_->Busy();
    } else {
      watch_->Waiting();
    }
  }

  // On the ingest pool: checks every batch received and not yet checked, in
  // order, and hands those that pass to the store's group commit together.
  void ProcessQueued() {
    std::vector<Batch*> ready;
    while (true) {
      ready.clear();
      {
        absl::MutexLock l(&mu_);
        while (unstarted_ > 0 && !failed_) {
          ready.push_back(batches_[batches_.size() - unstarted_].get());
          --unstarted_;
        }
        if (failed_) {  // what came after a refused batch is not checked
          working_ -= unstarted_;
          unstarted_ = 0;
        }
        if (ready.empty()) {
          processing_ = false;
          return Advance();
        }
      }
      std::vector<Batch*> checked;
      for (Batch* b : ready) {
        absl::Status s = Process(*b);
        if (!s.ok()) {
          Answer(*b, s);  // later batches of the stream are not committed
          break;
        }
        checked.push_back(b);
      }
      {
        absl::MutexLock l(&mu_);
        // Never answered (a batch before failed): no longer worked on.
        working_ -= ready.size() - checked.size() -
                    (checked.size() < ready.size() ? 1 : 0);
        Watch();
      }
      for (size_t i = 0; i < checked.size(); ++i) {
        Commit(*checked[i], /*more_follow=*/i + 1 < checked.size());
      }
    }
  }

  // Parses and checks one batch; an error refuses it (and ends the stream).
  absl::Status Process(Batch& b) {
    const size_t bytes = b.raw.Length();
    // One contiguous copy at most (none when gRPC holds it in one slice):
    // the summaries' bytes are stored from it as they came, and their cells
    // are read from it (SubmitReader) unless it must be parsed.
    const bool whole = b.raw.DumpToSingleSlice(&b.bytes).ok();
    b.raw.Clear();
    b.reader = service_->readers_.Take();
    const bool read = whole && b.reader->Read(b.Bytes());
    if (!read) b.reader.reset();
    // The batch's protobuf objects live on one arena, freed at once when
    // its acks are sent.
    b.arena.emplace(BatchArenaOptions(bytes, /*parsed=*/!read));
    b.response =
        google::protobuf::Arena::CreateMessage<v1::SubmitResponse>(&*b.arena);
    absl::StatusOr<ReadPath> how =
        whole ? PrepareReceived(*service_->store_, b.Bytes(), &*b.arena,
                                b.reader.get(), service_->options_.clock->Now(),
                                service_->rejections_, caller_, b.response,
                                &b.valid)
              : ReadPath::kUnparsable;
    if (!how.ok()) return how.status();
    if (*how == ReadPath::kUnparsable) {
      b.reason = "unparsable";
      b.end = StreamEnd::kUnparsable;
      return absl::InvalidArgumentError(
          absl::StrCat("message ", b.message, " of this stream (", bytes,
                       " bytes) is not a valid ohfed.v1.SubmitRequest"));
    }
    return absl::OkStatus();
  }

  void Commit(Batch& b, bool more_follow) {
    IngestService* const service = service_;
    service->Committing(+1);
    service->store_->CommitAsync(
        b.valid,
        [this, &b, service](absl::StatusOr<SummaryStore::Committed> c) {
          if (c.ok()) FinishBatch(b.valid, *c, b.response);
          // May end the call: `this` is not used after.
          Answer(b, c.status());
          service->Committing(-1);
        },
        more_follow);
  }

  // The batch is answered: its acks go out in turn, or it ends the stream.
  void Answer(Batch& b, const absl::Status& status) {
    absl::MutexLock l(&mu_);
    b.answered = true;
    b.refused = status;
    if (!status.ok()) failed_ = true;
    --working_;
    Advance();
  }

  // After any change: writes the first batch's acks once it is answered,
  // reads more while there is room, and ends the stream once what was
  // received is answered (a refusal, or the peer's half-close).
  void Advance() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    if (!ending_ && !writing_ && !batches_.empty() &&
        batches_.front()->answered) {
      Batch& first = *batches_.front();
      if (!first.refused.ok()) {
        Reject(first.reason.empty() ? first.refused.message()
                                    : absl::string_view(first.reason),
               first.refused.message());
        return EndLocked(first.end, first.refused);
      }
      writing_ = true;
      Watch();
      HandOver(this);
      StartWrite(first.response);
      return;
    }
    if (!ending_ && read_closed_ && batches_.empty() && !writing_) {
      return Conclude();
    }
    if (ending_) return FinishIfIdle();
    ReadMore();
    Watch();
  }

  // The stream ended by the peer (or the watch): OK, or the idle timeout.
  void Conclude() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (TimedOut()) return EndIdle();
    EndLocked(end_, absl::OkStatus());
  }

  // Whether the watch ended the stream for waiting on its peer too long.
  bool TimedOut() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return watch_ != nullptr && watch_->timed_out();
  }
  void EndIdle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::Status idle = absl::DeadlineExceededError(absl::StrCat(
        "Submit stream idle for ",
        absl::FormatDuration(service_->watch_.idle_timeout()), ": ended"));
    Reject("idle", idle.message());
    EndLocked(StreamEnd::kIdleTimeout, idle);
  }

  void Reject(absl::string_view reason, absl::string_view message) {
    service_->rejections_.Record(
        peer_, reason, absl::StrCat("ingest from ", peer_, ": ", message));
  }

  // Ends the stream with `status` once no batch of it is still checked or
  // committed (their answers refer to this call).
  void EndLocked(StreamEnd end, const absl::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (ending_) return;
    ending_ = true;
    end_ = end;
    end_status_ = status;
    FinishIfIdle();
  }

  void FinishIfIdle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || working_ > 0 || processing_ || writing_) return;
    finished_ = true;
    // The stream's place is free before its peer learns it has ended, so
    // that the peer may open the next one at once (OnDone comes later).
    watch_.reset();
    HandOver(this);
    Finish(ToGrpc(end_status_));
  }

  IngestService* const service_;
  grpc::CallbackServerContext* const context_;
  const std::string peer_;
  const size_t window_;  // batches read and not yet acknowledged, at most
  std::optional<PeerIdentity> caller_;  // set by Start, then read only

  absl::Mutex mu_;
  std::unique_ptr<StreamWatch::Stream> watch_ ABSL_GUARDED_BY(mu_);
  StreamEnd end_ ABSL_GUARDED_BY(mu_) = StreamEnd::kOk;
  absl::Status end_status_ ABSL_GUARDED_BY(mu_);
  int message_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::ByteBuffer raw_;  // the read under way's; taken by OnReadDone
  // Received and not yet acknowledged, in order; the last `unstarted_` of
  // them not yet taken by the ingest pool.
  std::deque<std::unique_ptr<Batch>> batches_ ABSL_GUARDED_BY(mu_);
  size_t unstarted_ ABSL_GUARDED_BY(mu_) = 0;
  // Batches received and not yet answered (checked, or committed).
  size_t working_ ABSL_GUARDED_BY(mu_) = 0;
  bool processing_ ABSL_GUARDED_BY(mu_) = false;  // a pool task runs
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool read_closed_ ABSL_GUARDED_BY(mu_) = false;  // no more reads
  bool failed_ ABSL_GUARDED_BY(mu_) = false;       // a batch was refused
  bool ending_ ABSL_GUARDED_BY(mu_) = false;       // ends once nothing works
  bool finished_ ABSL_GUARDED_BY(mu_) = false;     // Finish called
};

IngestService::IngestService(SummaryStore* store, IngestOptions options)
    : store_(store),
      options_(WithDefaults(std::move(options))),
      rejections_(options_.clock, options_.rejection_log_interval,
                  options_.rejection_log_keys, options_.log),
      watch_(options_.max_streams_per_peer, options_.idle_timeout,
             [this] { rejections_.Flush(); }),
      readers_(static_cast<size_t>(std::max(1, options_.work_threads) *
                                   std::max(1, options_.batches_in_flight) *
                                   kReadersKeptPerBatch)),
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
  // A batch being checked may still hand its summaries to the store.
  work_.WaitIdle();
  absl::MutexLock l(&committing_mu_);
  committing_mu_.Await(absl::Condition(
      +[](int* n) { return *n == 0; }, &committing_));
}

void IngestService::Committing(int delta) {
  absl::MutexLock l(&committing_mu_);
  committing_ += delta;
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
