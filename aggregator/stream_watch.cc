#include "aggregator/stream_watch.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ohfed::aggregator {

StreamWatch::StreamWatch(int max_per_peer, absl::Duration idle_timeout,
                         std::function<void()> on_tick)
    : max_per_peer_(max_per_peer),
      idle_timeout_(idle_timeout),
      on_tick_(std::move(on_tick)),
      watchdog_([this] { Run(); }) {}

StreamWatch::~StreamWatch() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
  }
  watchdog_.join();
}

absl::StatusOr<std::unique_ptr<StreamWatch::Stream>> StreamWatch::Open(
    grpc::ServerContextBase* context, const std::string& peer) {
  absl::MutexLock l(&mu_);
  int& open = per_peer_[peer];
  if (open >= max_per_peer_) {
    if (open == 0) per_peer_.erase(peer);
    return absl::ResourceExhaustedError(absl::StrCat(
        "too many Submit streams from ", peer, ": at most ", max_per_peer_,
        " at once; finish one before opening another"));
  }
  ++open;
  std::unique_ptr<Stream> stream(new Stream(this, context, peer));
  stream->since_ = absl::Now();
  streams_.insert(stream.get());
  return stream;
}

StreamWatch::Stream::~Stream() {
  absl::MutexLock l(&watch_->mu_);
  watch_->streams_.erase(this);
  if (--watch_->per_peer_[peer_] <= 0) watch_->per_peer_.erase(peer_);
}

void StreamWatch::Stream::Waiting() {
  absl::MutexLock l(&watch_->mu_);
  waiting_ = true;
  since_ = absl::Now();
}

void StreamWatch::Stream::Busy() {
  absl::MutexLock l(&watch_->mu_);
  waiting_ = false;
}

bool StreamWatch::Stream::timed_out() const {
  absl::MutexLock l(&watch_->mu_);
  return timed_out_;
}

void StreamWatch::CancelIdle(absl::Time now) {
  for (Stream* s : streams_) {
    if (s->waiting_ && !s->timed_out_ && now - s->since_ >= idle_timeout_) {
      s->timed_out_ = true;
      // Ends the stream's pending Read or Write; the context lives until the
      // stream is done, which needs mu_ to unregister it first.
      s->context_->TryCancel();
    }
  }
}

void StreamWatch::Run() {
  const absl::Duration tick =
      std::clamp(idle_timeout_ / 4, absl::Milliseconds(10), absl::Seconds(1));
  absl::MutexLock l(&mu_);
  while (!stop_) {
    mu_.AwaitWithTimeout(absl::Condition(&stop_), tick);
    if (stop_) break;
    CancelIdle(absl::Now());
    if (on_tick_) {
      mu_.Unlock();
      on_tick_();
      mu_.Lock();
    }
  }
}

std::string PeerAddress(absl::string_view grpc_peer) {
  const size_t colon = grpc_peer.rfind(':');
  const size_t bracket = grpc_peer.rfind(']');
  const bool has_port =
      colon != absl::string_view::npos &&
      (bracket == absl::string_view::npos || colon > bracket) &&
      grpc_peer.find(':') != colon;  // "scheme:addr:port"
  return std::string(has_port ? grpc_peer.substr(0, colon) : grpc_peer);
}

}  // namespace ohfed::aggregator
