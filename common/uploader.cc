#include "common/uploader.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"
#include "common/summary_wire.h"

namespace ohfed {
namespace {

// Unary calls (Feedback) are short; a stuck one must not hold up the thread.
constexpr absl::Duration kFeedbackDeadline = absl::Seconds(10);

v1::Ack SetAsideAck(const SummaryKey& s, size_t bytes, size_t limit) {
  v1::Ack ack;
  ack.set_trust(s.trust);
  ack.set_period(s.period);
  ack.set_revision(s.revision);
  ack.set_outcome(v1::OUTCOME_REJECTED);
  ack.set_reason(absl::StrCat("not sent: the summary is ", bytes,
                              " bytes, over the message limit of ", limit,
                              " bytes"));
  return ack;
}

std::string Ago(absl::Duration d) {
  const absl::Duration unit =
      d < absl::Seconds(1) ? absl::Milliseconds(1) : absl::Seconds(1);
  return absl::FormatDuration(absl::Trunc(d, unit));
}

}  // namespace

std::string OutboxKey(const v1::UnitSummary& s) {
  return OutboxKey(s.trust(), s.period());
}

std::string OutboxKey(absl::string_view trust, absl::string_view period) {
  return absl::StrCat(trust, "/", period);
}

absl::StatusOr<std::vector<v1::UnitSummary>> OutboxSource::PendingExcept(
    size_t max, const UnitKeys& in_flight) {
  OHFED_ASSIGN_OR_RETURN(std::vector<v1::UnitSummary> all,
                         Pending(max + in_flight.size()));
  std::vector<v1::UnitSummary> out;
  for (v1::UnitSummary& s : all) {
    if (out.size() == max) break;
    if (!in_flight.contains(OutboxKey(s))) out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<std::vector<SerializedSummary>> OutboxSource::PendingSerialized(
    size_t max, const UnitKeys& in_flight) {
  OHFED_ASSIGN_OR_RETURN(
      std::vector<v1::UnitSummary> pending,
      in_flight.empty() ? Pending(max) : PendingExcept(max, in_flight));
  return SerializeSummaries(pending);
}

size_t OutboxSource::PendingCount() {
  absl::StatusOr<std::vector<v1::UnitSummary>> all =
      Pending(std::numeric_limits<size_t>::max());
  return all.ok() ? all->size() : 0;
}

absl::Status OutboxSource::OnUpstreamFeedback(const std::vector<v1::Ack>&) {
  return absl::OkStatus();
}

absl::StatusOr<size_t> OutboxSource::OnReceiverHolds(
    const std::vector<v1::Ack>&) {
  return 0;
}

std::vector<std::string> OutboxSource::FeedbackTrusts() { return {}; }

absl::StatusOr<size_t> OutboxSource::OnReceiverHoldsFor(
    absl::string_view, const std::vector<v1::Ack>& held) {
  return OnReceiverHolds(held);
}

Uploader::Uploader(OutboxSource* source,
                   std::unique_ptr<v1::Ingest::StubInterface> stub,
                   UploaderOptions options, Clock* clock)
    : source_(source),
      stub_(std::move(stub)),
      options_(std::move(options)),
      clock_(clock),
      initial_backoff_(options_.initial_backoff),
      max_backoff_(options_.max_backoff) {}

Uploader::~Uploader() { Stop(); }

void Uploader::Start() {
  absl::MutexLock l(&mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Loop(); });
}

void Uploader::Stop() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
    if (active_ != nullptr) active_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

void Uploader::Kick() {
  absl::MutexLock l(&mu_);
  kicked_ = true;
}

UploaderStats Uploader::stats() const {
  absl::MutexLock l(&mu_);
  UploaderStats stats = stats_;
  stats.retry_backoff = stats.consecutive_failures == 0
                            ? absl::ZeroDuration()
                            : BackoffCap(stats.consecutive_failures);
  stats.initial_backoff = initial_backoff_;
  stats.max_backoff = max_backoff_;
  return stats;
}

absl::Duration Uploader::BackoffCap(uint64_t failures) const {
  int shift = static_cast<int>(std::min<uint64_t>(failures, 20));
  return std::min(max_backoff_, initial_backoff_ * (1 << shift));
}

void Uploader::Log(absl::string_view line, LogLevel level) const {
  if (options_.log) {
    options_.log(line);
  } else {
    ohfed::Log(level, "", line);
  }
}

void Uploader::Loop() {
  while (true) {
    absl::Status s = RunOnce();
    {
      absl::MutexLock l(&mu_);
      if (stop_) return;
    }
    absl::Duration idle = options_.idle_poll;
    if (options_.check_receiver_holds) {
      idle = std::min(idle, options_.holds_check_every);
    }
    absl::Duration wait = s.ok() ? idle : NextBackoff();
    absl::MutexLock l(&mu_);
    auto woken = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return stop_ || kicked_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&woken), wait);
    if (stop_) return;
    kicked_ = false;
  }
}

void Uploader::SetBackoff(absl::Duration initial, absl::Duration max) {
  absl::MutexLock l(&mu_);
  initial_backoff_ = initial;
  max_backoff_ = max;
}

// Full jitter: uniform in [0, min(max, initial * 2^failures)].
absl::Duration Uploader::NextBackoff() {
  absl::MutexLock l(&mu_);
  absl::Duration cap = BackoffCap(stats_.consecutive_failures);
  double fraction = absl::Uniform(rng_, 0.0, 1.0);
  return std::max(absl::Milliseconds(10), cap * fraction);
}

absl::Status Uploader::RunOnce() {
  absl::Status s = Pass();
  RecordOutcome(s);
  if (s.ok() && !options_.feedback_trust.empty()) FetchFeedback();
  if (options_.check_receiver_holds) CheckReceiverHolds(s.ok());
  return s;
}

absl::Status Uploader::Pass() {
  while (true) {
    OHFED_ASSIGN_OR_RETURN(std::vector<v1::UnitSummary> first,
                           source_->Pending(1));
    if (first.empty()) return absl::OkStatus();
    grpc::ClientContext ctx;
    ctx.set_deadline(
        absl::ToChronoTime(absl::Now() + options_.stream_deadline));
    {
      absl::MutexLock l(&mu_);
      if (stop_) return absl::CancelledError("uploader stopping");
      active_ = &ctx;
    }
    auto stream = stub_->Submit(&ctx);
    InFlight flight;
    std::thread reader([&] { ReadAcks(stream.get(), &ctx, &flight); });
    bool drained = false;
    Failure failure = Failure::kNone;
    absl::Status sent = SendPending(stream.get(), &flight, &drained, &failure);
    if (failure == Failure::kNone) {
      stream->WritesDone();
    } else if (failure == Failure::kLocal) {
      // Nothing more will be written, and the receiver is waiting for the
      // next batch: without the cancel, Finish() would wait for the deadline.
      ctx.TryCancel();
    }
    reader.join();  // Finish() only once every response has been read
    {
      // The reader may fail after the writer is done (a last ack not
      // recorded), or while it writes: then its cancel is what the writer
      // saw, and its error is the cause.
      absl::MutexLock l(&mu_);
      if (flight.failure != Failure::kNone &&
          (failure == Failure::kNone || flight.failure == Failure::kLocal)) {
        failure = flight.failure;
        sent = flight.error;
        drained = false;
      }
    }
    grpc::Status finished = stream->Finish();
    {
      absl::MutexLock l(&mu_);
      active_ = nullptr;
    }
    if (failure == Failure::kLocal) return sent;
    if (!finished.ok()) {
      absl::Status rpc = FromGrpc(finished);
      return absl::Status(rpc.code(),
                          absl::StrCat("upload stream: ", rpc.message()));
    }
    OHFED_RETURN_IF_ERROR(sent);
    if (drained) return absl::OkStatus();
    // Not drained: the stream ended at half its deadline; open another.
  }
}

void Uploader::Pack(std::vector<SerializedSummary>& pending,
                    v1::SubmitRequest* request, std::vector<std::string>* keys,
                    std::vector<v1::Ack>* set_aside) const {
  const size_t limit = options_.max_message_bytes;
  size_t bytes = 0;
  for (SerializedSummary& s : pending) {
    const size_t size = FramedSummarySize(s.bytes.size());
    // The rest waits for the next message: it is still pending.
    if (size <= limit && bytes + size > limit) break;
    if (size > limit) {
      set_aside->push_back(SetAsideAck(s.key, size, limit));
      continue;
    }
    bytes += size;
    keys->push_back(OutboxKey(s.key.trust, s.key.period));
    AddSerializedSummary(std::move(s.bytes), request);
  }
}

absl::Status Uploader::SendPending(Stream* stream, InFlight* flight,
                                   bool* drained, Failure* failure) {
  // Stop writing after half the deadline, so a stream never expires
  // mid-batch; what is in flight is still answered.
  const absl::Time soft_end = absl::Now() + options_.stream_deadline / 2;
  const size_t room = std::max<size_t>(options_.max_in_flight, 1);
  bool look = true;  // whether the source may have something new
  while (true) {
    UnitKeys skip;
    size_t in_flight = 0;
    {
      absl::MutexLock l(&mu_);
      const bool writing = absl::Now() < soft_end;
      // Wait for room and news (a kick, an ack); past the soft end, for the
      // last acks. The reader ending early is a failure either way.
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        if (stop_ || flight->ended) return true;
        if (!writing) return flight->batches.empty();
        return flight->batches.size() < room &&
               (look || kicked_ || flight->acked);
      };
      if (writing) {
        mu_.AwaitWithDeadline(absl::Condition(&ready), soft_end);
      } else {
        mu_.Await(absl::Condition(&ready));
      }
      if (stop_) {
        *failure = Failure::kLocal;
        return absl::CancelledError("uploader stopping");
      }
      if (flight->ended) {
        *failure = flight->failure == Failure::kNone ? Failure::kStream
                                                     : flight->failure;
        if (!flight->error.ok()) return flight->error;
        return absl::UnavailableError("stream closed before acknowledgement");
      }
      if (!ready()) continue;  // the soft end passed while waiting
      if (!writing) {
        *failure = Failure::kNone;  // not drained: Pass opens another stream
        return absl::OkStatus();
      }
      look = kicked_ = flight->acked = false;
      skip = flight->units;
      in_flight = flight->batches.size();
    }
    absl::StatusOr<std::vector<SerializedSummary>> pending =
        source_->PendingSerialized(options_.batch_size, skip);
    if (!pending.ok()) {
      *failure = Failure::kLocal;
      return pending.status();
    }
    if (pending->empty()) {
      if (in_flight > 0) continue;  // wait for the acks, or news
      *drained = true;
      *failure = Failure::kNone;
      return absl::OkStatus();
    }
    absl::StatusOr<bool> wrote = WriteBatch(stream, *pending, flight);
    if (!wrote.ok()) {
      *failure = Failure::kLocal;
      return wrote.status();
    }
    if (!*wrote) {
      *failure = Failure::kStream;
      return absl::UnavailableError("stream closed while sending");
    }
    look = true;
  }
}

absl::StatusOr<bool> Uploader::WriteBatch(
    Stream* stream, std::vector<SerializedSummary>& pending, InFlight* flight) {
  v1::SubmitRequest request;
  std::vector<std::string> keys;
  std::vector<v1::Ack> set_aside;
  Pack(pending, &request, &keys, &set_aside);
  if (!set_aside.empty()) {
    for (const v1::Ack& a : set_aside) {
      Log(absl::StrCat("cannot send ", a.trust(), " ", a.period(), " revision ",
                       a.revision(), " to ", options_.peer, ": ", a.reason(),
                       "; set aside until a new revision"),
          LogLevel::kWarning);
    }
    OHFED_RETURN_IF_ERROR(source_->OnAcks(set_aside));
    absl::MutexLock l(&mu_);
    stats_.summaries_set_aside += set_aside.size();
  }
  if (keys.empty()) return true;
  {
    // In flight before it is written: its answer may come at once.
    absl::MutexLock l(&mu_);
    flight->units.insert(keys.begin(), keys.end());
    ++stats_.batches_sent;
    stats_.summaries_sent += keys.size();
    flight->batches.push_back(std::move(keys));
  }
  return stream->Write(request);
}

void Uploader::ReadAcks(Stream* stream, grpc::ClientContext* ctx,
                        InFlight* flight) {
  Failure failure = Failure::kNone;
  absl::Status error;
  v1::SubmitResponse response;
  while (stream->Read(&response)) {
    if (response.acks_size() == 0) {
      failure = Failure::kLocal;
      error = absl::UnavailableError("receiver acknowledged nothing");
      break;
    }
    // Counted before the source hears of them: whoever waits on the source
    // (a drain) then sees them counted.
    RecordAcks(response);
    std::vector<v1::Ack> acks(response.acks().begin(), response.acks().end());
    error = source_->OnAcks(acks);
    if (!error.ok()) {
      failure = Failure::kLocal;
      break;
    }
    absl::MutexLock l(&mu_);
    if (!flight->batches.empty()) {
      for (const std::string& key : flight->batches.front()) {
        flight->units.erase(key);
      }
      flight->batches.pop_front();
    }
    flight->acked = true;
  }
  // Ended by us: the writer is blocked in Write or waiting for this.
  if (failure != Failure::kNone) ctx->TryCancel();
  absl::MutexLock l(&mu_);
  flight->failure = failure;
  flight->error = std::move(error);
  flight->ended = true;
}

void Uploader::RecordAcks(const v1::SubmitResponse& response) {
  absl::MutexLock l(&mu_);
  for (const v1::Ack& ack : response.acks()) {
    switch (ack.outcome()) {
      case v1::OUTCOME_ACCEPTED:
        ++stats_.acks_accepted;
        break;
      case v1::OUTCOME_STALE:
        ++stats_.acks_stale;
        break;
      default:
        ++stats_.acks_rejected;
        break;
    }
  }
  stats_.last_ack = clock_->Now();
}

// Stats, and the outage log: first failure, reminders, recovery. At most one
// line per outage_reminder while failing, however the link flaps: a failure
// soon after the last line is only reported by the next reminder.
void Uploader::RecordOutcome(const absl::Status& status) {
  const absl::Time now = clock_->Now();
  enum { kNothing, kFirst, kReminder, kRecovered } line = kNothing;
  absl::Duration down;
  {
    absl::MutexLock l(&mu_);
    if (stop_) return;  // a cancelled pass is not an outage
    const bool quiet = now - outage_logged_ < options_.outage_reminder;
    if (status.ok()) {
      stats_.consecutive_failures = 0;
      stats_.last_error.clear();
      if (outage_ && outage_reported_) line = kRecovered;
      outage_ = false;
    } else {
      ++stats_.stream_failures;
      ++stats_.consecutive_failures;
      stats_.last_error = std::string(status.message());
      if (!outage_) {
        outage_ = true;
        outage_since_ = now;
        outage_reported_ = false;
        if (!quiet) line = kFirst;
      } else if (!quiet) {
        line = outage_reported_ ? kReminder : kFirst;
      }
      if (line != kNothing) outage_reported_ = true;
    }
    if (line != kNothing) outage_logged_ = now;
    down = now - outage_since_;
  }
  if (line == kNothing) return;
  const size_t backlog = source_->PendingCount();
  switch (line) {
    case kFirst:
      Log(absl::StrCat("cannot send to ", options_.peer, ": ", status.message(),
                       "; ", backlog, " unit summaries waiting, retrying"),
          LogLevel::kWarning);
      break;
    case kReminder:
      Log(absl::StrCat("still cannot send to ", options_.peer, " after ",
                       Ago(down), ": ", status.message(), "; ", backlog,
                       " unit summaries waiting"),
          LogLevel::kWarning);
      break;
    default:
      Log(absl::StrCat("sending to ", options_.peer, " again after ", Ago(down),
                       "; ", backlog, " unit summaries waiting"));
      break;
  }
}

grpc::Status Uploader::AskFeedback(const std::string& trust,
                                   v1::FeedbackResponse* response) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(
      absl::Now() + std::min(kFeedbackDeadline, options_.stream_deadline)));
  {
    absl::MutexLock l(&mu_);
    if (stop_) return grpc::Status::CANCELLED;
    active_ = &ctx;
  }
  v1::FeedbackRequest request;
  request.set_trust(trust);
  grpc::Status s = stub_->Feedback(&ctx, request, response);
  absl::MutexLock l(&mu_);
  active_ = nullptr;
  return s;
}

void Uploader::FetchFeedback() {
  v1::FeedbackResponse response;
  grpc::Status s = AskFeedback(options_.feedback_trust, &response);
  // Best effort: an older receiver without Feedback, or a blip, leaves the
  // last feedback in place until the next pass.
  if (!s.ok()) return;
  std::vector<v1::Ack> refused(response.upstream().begin(),
                               response.upstream().end());
  absl::Status applied = source_->OnUpstreamFeedback(refused);
  if (!applied.ok()) {
    Log(absl::StrCat("upstream feedback from ", options_.peer,
                     " not recorded: ", applied.message()),
        LogLevel::kError);
  }
  if (response.held_complete()) ResendLost(response);
}

void Uploader::ResendLost(const v1::FeedbackResponse& response) {
  std::vector<v1::Ack> held(response.held().begin(), response.held().end());
  absl::StatusOr<size_t> lost = source_->OnReceiverHolds(held);
  if (!lost.ok()) {
    Log(absl::StrCat("cannot compare with what ", options_.peer,
                     " holds: ", lost.status().message()),
        LogLevel::kError);
    return;
  }
  if (*lost == 0) return;
  Log(absl::StrCat(options_.peer, " no longer holds ", *lost,
                   " acknowledged unit summaries (its store was damaged "
                   "and recovered?): sending them again"),
      LogLevel::kWarning);
  absl::MutexLock l(&mu_);
  kicked_ = true;
}

void Uploader::CheckReceiverHolds(bool pass_ok) {
  const absl::Time now = clock_->Now();
  {
    absl::MutexLock l(&mu_);
    if (!pass_ok) {
      // Reconnecting: whoever answers next may have lost data.
      holds_rounds_due_ = 2;
      return;
    }
    if (holds_rounds_due_ == 0 &&
        now - holds_checked_ < options_.holds_check_every) {
      return;
    }
  }
  size_t lost = 0;
  bool complete = true;  // every trust answered and compared
  for (const std::string& trust : source_->FeedbackTrusts()) {
    v1::FeedbackResponse response;
    grpc::Status s = AskFeedback(trust, &response);
    if (!s.ok()) {
      // Not reachable: the round is tried again. Refused (a trust moved
      // elsewhere) or not implemented: nothing to compare.
      const grpc::StatusCode c = s.error_code();
      if (c == grpc::StatusCode::UNAVAILABLE ||
          c == grpc::StatusCode::DEADLINE_EXCEEDED ||
          c == grpc::StatusCode::CANCELLED) {
        complete = false;
        break;
      }
      continue;
    }
    if (!response.held_complete()) continue;
    std::vector<v1::Ack> held(response.held().begin(), response.held().end());
    absl::StatusOr<size_t> n = source_->OnReceiverHoldsFor(trust, held);
    if (!n.ok()) {
      Log(absl::StrCat("cannot compare ", trust, " with what ", options_.peer,
                       " holds: ", n.status().message()),
          LogLevel::kError);
      complete = false;
      continue;
    }
    lost += *n;
  }
  if (lost > 0) {
    Log(absl::StrCat(options_.peer, " no longer holds ", lost,
                     " acknowledged unit summaries (its store was damaged "
                     "and recovered?): sending them again"),
        LogLevel::kWarning);
  }
  absl::MutexLock l(&mu_);
  if (!complete) return;  // tried again after the next pass
  holds_checked_ = now;
  holds_rounds_due_ = std::max(holds_rounds_due_ - 1, 0);
  // Once what was lost is resent, ask again: that confirms the trusts.
  if (lost > 0) holds_rounds_due_ = std::max(holds_rounds_due_, 1);
  if (holds_rounds_due_ > 0) kicked_ = true;
}

}  // namespace ohfed
