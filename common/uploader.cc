#include "common/uploader.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace ohfed {

Uploader::Uploader(OutboxSource* source,
                   std::unique_ptr<v1::Ingest::StubInterface> stub,
                   UploaderOptions options, Clock* clock)
    : source_(source),
      stub_(std::move(stub)),
      options_(options),
      clock_(clock) {}

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
  return stats_;
}

void Uploader::Loop() {
  while (true) {
    absl::Status s = RunOnce();
    absl::Duration wait = options_.idle_poll;
    {
      absl::MutexLock l(&mu_);
      if (stop_) return;
      if (s.ok()) {
        stats_.consecutive_failures = 0;
        stats_.last_error.clear();
      } else {
        ++stats_.stream_failures;
        ++stats_.consecutive_failures;
        stats_.last_error = std::string(s.message());
      }
    }
    if (!s.ok()) wait = NextBackoff();
    absl::MutexLock l(&mu_);
    auto woken = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return stop_ || kicked_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&woken), wait);
    if (stop_) return;
    kicked_ = false;
  }
}

// Full jitter: uniform in [0, min(max, initial * 2^failures)].
absl::Duration Uploader::NextBackoff() {
  absl::MutexLock l(&mu_);
  int shift = static_cast<int>(std::min<uint64_t>(stats_.consecutive_failures, 20));
  absl::Duration cap =
      std::min(options_.max_backoff, options_.initial_backoff * (1 << shift));
  double fraction = absl::Uniform(rng_, 0.0, 1.0);
  return std::max(absl::Milliseconds(10), cap * fraction);
}

absl::Status Uploader::RunOnce() {
  while (true) {
    OHFED_ASSIGN_OR_RETURN(std::vector<v1::UnitSummary> first,
                           source_->Pending(1));
    if (first.empty()) return absl::OkStatus();
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.stream_deadline));
    {
      absl::MutexLock l(&mu_);
      if (stop_) return absl::CancelledError("uploader stopping");
      active_ = &ctx;
    }
    auto stream = stub_->Submit(&ctx);
    bool drained = false;
    absl::Status sent = SendPending(stream.get(), &drained);
    if (sent.ok()) stream->WritesDone();
    grpc::Status finished = stream->Finish();
    {
      absl::MutexLock l(&mu_);
      active_ = nullptr;
    }
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

absl::Status Uploader::SendPending(
    grpc::ClientReaderWriterInterface<v1::SubmitRequest, v1::SubmitResponse>*
        stream,
    bool* drained) {
  // Stop using a stream after half its deadline, so it never expires mid-batch.
  const absl::Time soft_end = absl::Now() + options_.stream_deadline / 2;
  while (absl::Now() < soft_end) {
    OHFED_ASSIGN_OR_RETURN(std::vector<v1::UnitSummary> pending,
                           source_->Pending(options_.batch_size));
    if (pending.empty()) {
      *drained = true;
      return absl::OkStatus();
    }
    v1::SubmitRequest request;
    for (auto& s : pending) *request.add_summaries() = std::move(s);
    if (!stream->Write(request)) {
      return absl::UnavailableError("stream closed while sending");
    }
    {
      absl::MutexLock l(&mu_);
      ++stats_.batches_sent;
      stats_.summaries_sent += request.summaries_size();
    }
    v1::SubmitResponse response;
    if (!stream->Read(&response)) {
      return absl::UnavailableError("stream closed before acknowledgement");
    }
    if (response.acks_size() == 0) {
      return absl::UnavailableError("receiver acknowledged nothing");
    }
    std::vector<v1::Ack> acks(response.acks().begin(), response.acks().end());
    OHFED_RETURN_IF_ERROR(source_->OnAcks(acks));
    RecordAcks(response);
  }
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

}  // namespace ohfed
