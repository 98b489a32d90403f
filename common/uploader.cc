#include "common/uploader.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"

namespace ohfed {
namespace {

// Unary calls (Feedback) are short; a stuck one must not hold up the thread.
constexpr absl::Duration kFeedbackDeadline = absl::Seconds(10);

// Bytes `s` adds to a SubmitRequest: tag, length prefix, body.
size_t FramedSize(const v1::UnitSummary& s) {
  size_t body = s.ByteSizeLong();
  return 1 + google::protobuf::io::CodedOutputStream::VarintSize64(body) + body;
}

v1::Ack SetAsideAck(const v1::UnitSummary& s, size_t bytes, size_t limit) {
  v1::Ack ack;
  ack.set_trust(s.trust());
  ack.set_period(s.period());
  ack.set_revision(s.revision());
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
    bool drained = false;
    Failure failure = Failure::kNone;
    absl::Status sent = SendPending(stream.get(), &drained, &failure);
    if (failure == Failure::kNone) {
      stream->WritesDone();
    } else if (failure == Failure::kLocal) {
      // Nothing more will be written, and the receiver is waiting for the
      // next batch: without the cancel, Finish() would wait for the deadline.
      ctx.TryCancel();
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

void Uploader::Pack(std::vector<v1::UnitSummary>& pending,
                    v1::SubmitRequest* request,
                    std::vector<v1::Ack>* set_aside) const {
  const size_t limit = options_.max_message_bytes;
  size_t bytes = 0;
  for (v1::UnitSummary& s : pending) {
    const size_t size = FramedSize(s);
    if (size > limit) {
      set_aside->push_back(SetAsideAck(s, size, limit));
      continue;
    }
    // The rest waits for the next message: it is still pending.
    if (bytes + size > limit) break;
    bytes += size;
    *request->add_summaries() = std::move(s);
  }
}

absl::Status Uploader::SendPending(Stream* stream, bool* drained,
                                   Failure* failure) {
  // Stop using a stream after half its deadline, so it never expires mid-batch.
  const absl::Time soft_end = absl::Now() + options_.stream_deadline / 2;
  *failure = Failure::kLocal;  // until the stream itself fails
  while (absl::Now() < soft_end) {
    OHFED_ASSIGN_OR_RETURN(std::vector<v1::UnitSummary> pending,
                           source_->Pending(options_.batch_size));
    if (pending.empty()) {
      *drained = true;
      *failure = Failure::kNone;
      return absl::OkStatus();
    }
    v1::SubmitRequest request;
    std::vector<v1::Ack> set_aside;
    Pack(pending, &request, &set_aside);
    if (!set_aside.empty()) {
      for (const v1::Ack& a : set_aside) {
        Log(absl::StrCat("cannot send ", a.trust(), " ", a.period(),
                         " revision ", a.revision(), " to ", options_.peer,
                         ": ", a.reason(), "; set aside until a new revision"),
            LogLevel::kWarning);
      }
      OHFED_RETURN_IF_ERROR(source_->OnAcks(set_aside));
      absl::MutexLock l(&mu_);
      stats_.summaries_set_aside += set_aside.size();
    }
    if (request.summaries_size() == 0) continue;
    if (!stream->Write(request)) {
      *failure = Failure::kStream;
      return absl::UnavailableError("stream closed while sending");
    }
    {
      absl::MutexLock l(&mu_);
      ++stats_.batches_sent;
      stats_.summaries_sent += request.summaries_size();
    }
    v1::SubmitResponse response;
    if (!stream->Read(&response)) {
      *failure = Failure::kStream;
      return absl::UnavailableError("stream closed before acknowledgement");
    }
    if (response.acks_size() == 0) {
      *failure = Failure::kStream;
      return absl::UnavailableError("receiver acknowledged nothing");
    }
    std::vector<v1::Ack> acks(response.acks().begin(), response.acks().end());
    OHFED_RETURN_IF_ERROR(source_->OnAcks(acks));
    RecordAcks(response);
  }
  *failure = Failure::kNone;
  return absl::OkStatus();
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
