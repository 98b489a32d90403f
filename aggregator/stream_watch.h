// Bounds what Submit streams can hold on to. An open stream holds its
// buffers and its place in the per-peer limit (and, with gRPC's sync API, a
// thread), so a peer that opens streams and sends nothing, or sends batches
// but never takes its acks (its write then waits once the HTTP/2
// flow-control window is full), would hold them forever. StreamWatch
//  - refuses a stream beyond `max_per_peer` open at once from one peer
//    address (mutual TLS identities come later), and
//  - cancels a stream that has waited on its peer, for the next batch or for
//    the peer to take its acks, longer than `idle_timeout` (real time, not
//    an injected clock: it bounds real resources).
// A watchdog thread checks every fraction of the timeout and calls `on_tick`
// (for periodic work such as flushing rate-limited logs).
//
// Thread-safe. Every Stream must be destroyed before the StreamWatch.
#ifndef OHFED_AGGREGATOR_STREAM_WATCH_H_
#define OHFED_AGGREGATOR_STREAM_WATCH_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ohfed::aggregator {

class StreamWatch {
 public:
  // One open stream, registered until destroyed. Called by one thread at a
  // time: the one handling the stream's current step.
  class Stream {
   public:
    ~Stream();
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    // About to wait on the peer (Read or Write): the idle clock runs.
    void Waiting();
    // Working on a batch: the stream is not idle, however long it takes.
    void Busy();
    // Whether the watchdog cancelled the stream for idling.
    bool timed_out() const;

   private:
    friend class StreamWatch;
    Stream(StreamWatch* watch, grpc::ServerContextBase* context,
           std::string peer)
        : watch_(watch), context_(context), peer_(std::move(peer)) {}
    StreamWatch* const watch_;
    grpc::ServerContextBase* const context_;
    const std::string peer_;
    // Guarded by watch_->mu_.
    bool waiting_ = false;
    absl::Time since_;
    bool timed_out_ = false;
  };

  StreamWatch(int max_per_peer, absl::Duration idle_timeout,
              std::function<void()> on_tick);
  ~StreamWatch();  // stops the watchdog
  StreamWatch(const StreamWatch&) = delete;
  StreamWatch& operator=(const StreamWatch&) = delete;

  // Registers a stream from `peer` (an address without its port).
  // kResourceExhausted naming the peer and the limit when it already has
  // max_per_peer streams open.
  absl::StatusOr<std::unique_ptr<Stream>> Open(grpc::ServerContextBase* context,
                                               const std::string& peer);

  absl::Duration idle_timeout() const { return idle_timeout_; }

 private:
  void Run();
  void CancelIdle(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int max_per_peer_;
  const absl::Duration idle_timeout_;
  const std::function<void()> on_tick_;

  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<Stream*> streams_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> per_peer_ ABSL_GUARDED_BY(mu_);
  std::thread watchdog_;
};

// "ipv4:127.0.0.1:5000" -> "ipv4:127.0.0.1", "ipv6:[::1]:5000" ->
// "ipv6:[::1]": the peer address that stream limits apply to.
std::string PeerAddress(absl::string_view grpc_peer);

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_STREAM_WATCH_H_
