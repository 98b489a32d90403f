// Streams unit summaries to an aggregator's Ingest service and records the
// acknowledgements (SPEC §5). Used by the agent (its period outbox) and by a
// regional aggregator (forwarding to the national one).
//
// Delivery is convergent: the source hands out the current summary of every
// period not yet acknowledged at its current revision; the uploader sends
// them in batches on a Submit stream and reports each Ack back. Nothing is
// cleared except by an Ack, so a lost ack, a dropped stream or a crash just
// means the same revision is sent again, which the receiver answers with
// OUTCOME_STALE. The outbox is the source's set of unacknowledged periods:
// bounded by the number of periods, whatever the outage.
//
// Several batches may be in flight on a stream (UploaderOptions::
// max_in_flight, 4 by default): a receiver answers a stream's batches in
// order, so the next batch travels and waits at the receiver while the
// source records the acks of the one before. Acks are applied in the order
// the batches went; when a stream breaks or the receiver refuses a batch,
// every batch not yet answered is simply still pending at the source, so
// the next stream starts again from the first unanswered one (a batch the
// receiver committed but did not answer comes back OUTCOME_STALE). A batch
// never carries a unit that is in flight; its newer revision goes once the
// older one is answered. Acks are read on a second thread for the stream's
// lifetime, so that what is committed meanwhile is sent at once (Kick) rather
// than after the next ack.
//
// Every stream has a deadline; failures back off exponentially with full
// jitter up to a cap, and the uploader retries forever until stopped.
//
// Messages are packed by size under the message limit (common/transport.h),
// not only by count. A summary too large to travel alone is set aside: the
// source receives a REJECTED ack for that revision naming the size, so it is
// shown to the user and never blocks the others; a new revision is tried
// again.
//
// Outages are logged, not silent: the first failed pass, then a reminder at
// most every `outage_reminder` with the backlog, then the recovery.
#ifndef OHFED_COMMON_UPLOADER_H_
#define OHFED_COMMON_UPLOADER_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/summary_wire.h"
#include "common/transport.h"
#include "ohfed/v1/ohfed.grpc.pb.h"

namespace ohfed {

// Units by "trust/period" (OutboxKey): the ones in flight on a stream.
using UnitKeys = absl::flat_hash_set<std::string>;
std::string OutboxKey(const v1::UnitSummary& s);
std::string OutboxKey(absl::string_view trust, absl::string_view period);

// Where an uploader takes summaries from and reports acks to. Implementations
// must be thread-safe: the uploader calls from its own thread while the
// owner keeps writing.
class OutboxSource {
 public:
  virtual ~OutboxSource() = default;
  // Up to `max` summaries still awaiting acknowledgement at their current
  // revision, excluding those rejected at that revision. Oldest change first
  // is preferred but not required.
  virtual absl::StatusOr<std::vector<v1::UnitSummary>> Pending(size_t max) = 0;
  // As Pending, leaving out the units in `in_flight` (sent, not yet
  // answered). The default asks Pending for max + in_flight.size() and
  // filters; a source that can skip them without reading them overrides it.
  virtual absl::StatusOr<std::vector<v1::UnitSummary>> PendingExcept(
      size_t max, const UnitKeys& in_flight);
  // What the uploader sends: as PendingExcept (Pending when `in_flight` is
  // empty), each summary serialized and named (trust, period, revision: the
  // uploader does not read the bytes again). The default serializes them; a
  // source that holds them serialized (a regional aggregator's store)
  // overrides it and they travel without being parsed
  // (common/summary_wire.h).
  virtual absl::StatusOr<std::vector<SerializedSummary>> PendingSerialized(
      size_t max, const UnitKeys& in_flight);
  // Records the receiver's answers. ACCEPTED and STALE clear a period whose
  // current revision is <= ack.revision; REJECTED records the reason for that
  // revision. Called with every Ack of one response; durable before returning
  // if the source is, unless a lost record only means a resend (STALE).
  virtual absl::Status OnAcks(const std::vector<v1::Ack>& acks) = 0;
  // How many summaries await acknowledgement (for the outage log). The
  // default counts Pending(); 0 if that fails.
  virtual size_t PendingCount();
  // The receiver's Ingest.Feedback for UploaderOptions::feedback_trust: the
  // complete list of units it holds that an aggregator further up refused.
  // Called after each successful pass when feedback_trust is set. The
  // default ignores it.
  virtual absl::Status OnUpstreamFeedback(const std::vector<v1::Ack>& refused);
  // The receiver's Feedback.held for feedback_trust: every unit it holds
  // with its revision (held_revision). A source that had a revision
  // acknowledged above what the receiver now holds (the receiver lost data
  // and recovered) makes that unit pending again, durably, and returns how
  // many it did; the uploader then sends at once. The default does
  // nothing.
  virtual absl::StatusOr<size_t> OnReceiverHolds(
      const std::vector<v1::Ack>& held);
  // With UploaderOptions::check_receiver_holds (a regional aggregator's
  // forwarder, which sends for many trusts): the trusts to ask the
  // receiver's Feedback about, and its answer for one of them, as
  // OnReceiverHolds. The defaults: none, and OnReceiverHolds(held).
  virtual std::vector<std::string> FeedbackTrusts();
  virtual absl::StatusOr<size_t> OnReceiverHoldsFor(
      absl::string_view trust, const std::vector<v1::Ack>& held);
};

// The default upload window: as many batches as an aggregator reads ahead
// on a Submit stream and commits together (IngestOptions::
// batches_in_flight), so an agent's batches share a group commit there
// instead of paying a round trip and a synced write each.
inline constexpr size_t kUploadBatchesInFlight = 4;

struct UploaderOptions {
  absl::Duration stream_deadline = absl::Seconds(30);
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(30);
  // How often to look for work when nobody calls Kick().
  absl::Duration idle_poll = absl::Seconds(30);
  size_t batch_size = kMaxSummariesPerBatch;
  // Batches sent on a stream before the first of them is answered (the
  // upload window). Whatever is pending goes while the window has room, a
  // backlog as full batches; a batch less than full does not wait for an
  // ack to grow (at the end of a burst nothing more comes, and the ack comes
  // a receiver's commit later). 1: each batch waits for the ack of the one
  // before.
  size_t max_in_flight = kUploadBatchesInFlight;
  // A SubmitRequest never exceeds this many serialized bytes.
  size_t max_message_bytes = kMaxMessageBytes;
  // Who is on the other end, for log lines: "aggregator 10.0.0.1:7443".
  std::string peer = "the aggregator";
  // During an outage, how often to log a reminder with the backlog.
  absl::Duration outage_reminder = absl::Seconds(60);
  // Where log lines go; empty: LogLine (common/log.h).
  std::function<void(absl::string_view)> log;
  // When set, each successful pass asks the receiver's Ingest.Feedback for
  // this trust and hands the answer to OutboxSource::OnUpstreamFeedback and
  // OnReceiverHolds.
  std::string feedback_trust;
  // When set, asks the receiver's Feedback for every trust in
  // OutboxSource::FeedbackTrusts() and hands each held list to
  // OnReceiverHoldsFor: after the first successful pass, and after the first
  // one following a failure (the receiver may have restarted with a
  // damaged store); once more right away, so that the receiver sees a
  // second Feedback once anything lost has been resent, which confirms the
  // trust there (aggregator/store_recovery.h); and otherwise every
  // `holds_check_every`, for a receiver that restarted unnoticed.
  bool check_receiver_holds = false;
  absl::Duration holds_check_every = absl::Minutes(5);
};

// Counters and state for status displays and metrics. A snapshot.
struct UploaderStats {
  uint64_t batches_sent = 0;
  uint64_t summaries_sent = 0;
  uint64_t acks_accepted = 0;
  uint64_t acks_stale = 0;
  uint64_t acks_rejected = 0;
  uint64_t summaries_set_aside = 0;  // too large to send alone
  uint64_t stream_failures = 0;
  uint64_t consecutive_failures = 0;
  // The retry schedule: the wait before the next pass after a failure is
  // uniform in [0, retry_backoff] (full jitter), retry_backoff being
  // min(max_backoff, initial_backoff * 2^consecutive_failures); zero while
  // the last pass succeeded.
  absl::Duration retry_backoff = absl::ZeroDuration();
  absl::Duration initial_backoff, max_backoff;  // as configured
  absl::Time last_ack = absl::InfinitePast();   // InfinitePast: never
  std::string last_error;                       // empty after a success
};

// Owns one background thread between Start() and Stop(). The source and the
// stub must outlive the Uploader.
class Uploader {
 public:
  Uploader(OutboxSource* source,
           std::unique_ptr<v1::Ingest::StubInterface> stub,
           UploaderOptions options, Clock* clock = Clock::Real());
  ~Uploader();  // calls Stop()
  Uploader(const Uploader&) = delete;
  Uploader& operator=(const Uploader&) = delete;

  void Start();
  // Wakes the thread, cancels any stream in flight and joins. Idempotent.
  void Stop();
  // New data: send now rather than at the next poll, and skip any backoff.
  void Kick();
  // Replaces UploaderOptions' initial_backoff and max_backoff (SIGHUP): the
  // next wait after a failure uses them; a wait already begun runs its
  // course.
  void SetBackoff(absl::Duration initial, absl::Duration max);

  // One pass on the calling thread: opens a stream, sends every pending
  // summary in batches and applies the acks, until nothing is pending; then
  // asks for upstream feedback if configured. Records the outcome in stats()
  // and the outage log. OK when the source has nothing pending at the end;
  // otherwise the transport or source error (a source error ends the stream
  // at once). Does not back off. Used by the thread, and directly by tests.
  absl::Status RunOnce();

  UploaderStats stats() const;

 private:
  using Stream =
      grpc::ClientReaderWriterInterface<v1::SubmitRequest, v1::SubmitResponse>;
  // Whether Pass was interrupted by the transport or by the source.
  enum class Failure { kNone, kStream, kLocal };
  // One stream's batches sent and not yet answered, oldest first, shared by
  // the writer (the uploader's thread) and the ack reader; under mu_.
  struct InFlight {
    std::deque<std::vector<std::string>> batches;  // OutboxKeys per batch
    UnitKeys units;                                // all of them
    bool acked = false;  // a batch was answered since the writer looked
    bool ended = false;  // the reader is done: the stream ended or failed
    Failure failure = Failure::kNone;  // why the reader stopped, if early
    absl::Status error;
  };

  void Loop();
  absl::Status Pass();
  // Writes batches while any are pending, up to max_in_flight unanswered,
  // until nothing is pending or in flight (drained) or half the stream's
  // deadline has passed.
  absl::Status SendPending(Stream* stream, InFlight* flight, bool* drained,
                           Failure* failure);
  // Packs and writes one batch from `pending`; false if the stream failed.
  absl::StatusOr<bool> WriteBatch(Stream* stream,
                                  std::vector<SerializedSummary>& pending,
                                  InFlight* flight);
  // The reader: applies each response's acks to the source, in order.
  void ReadAcks(Stream* stream, grpc::ClientContext* ctx, InFlight* flight);
  // Fills `request` from `pending` (serialized summaries) up to the size
  // limit, with the OutboxKey of each in `keys`; summaries too large to send
  // alone go to `set_aside` as REJECTED acks.
  void Pack(std::vector<SerializedSummary>& pending, v1::SubmitRequest* request,
            std::vector<std::string>* keys,
            std::vector<v1::Ack>* set_aside) const;
  void RecordAcks(const v1::SubmitResponse& response);
  void RecordOutcome(const absl::Status& status);
  void FetchFeedback();
  // One unary Feedback call for `trust`, cancellable by Stop().
  grpc::Status AskFeedback(const std::string& trust,
                           v1::FeedbackResponse* response);
  // check_receiver_holds: a round of Feedback over the source's trusts when
  // one is due (see UploaderOptions).
  void CheckReceiverHolds(bool pass_ok);
  // Hands Feedback.held to the source; kicks the loop if it lost anything.
  void ResendLost(const v1::FeedbackResponse& response);
  // To options_.log if set, else to common/log.h at `level`.
  void Log(absl::string_view line, LogLevel level = LogLevel::kInfo) const;
  absl::Duration NextBackoff();
  // retry_backoff (UploaderStats) for `failures` in a row.
  absl::Duration BackoffCap(uint64_t failures) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  OutboxSource* const source_;
  std::unique_ptr<v1::Ingest::StubInterface> stub_;
  const UploaderOptions options_;
  Clock* const clock_;

  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool kicked_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration initial_backoff_ ABSL_GUARDED_BY(mu_);
  absl::Duration max_backoff_ ABSL_GUARDED_BY(mu_);
  grpc::ClientContext* active_ ABSL_GUARDED_BY(mu_) = nullptr;
  UploaderStats stats_ ABSL_GUARDED_BY(mu_);
  absl::BitGen rng_ ABSL_GUARDED_BY(mu_);
  // The outage log: set while passes fail, with when it began and when a
  // line (start, reminder or recovery) was last logged.
  bool outage_ ABSL_GUARDED_BY(mu_) = false;
  bool outage_reported_ ABSL_GUARDED_BY(mu_) = false;  // this outage logged
  absl::Time outage_since_ ABSL_GUARDED_BY(mu_);
  absl::Time outage_logged_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // check_receiver_holds: rounds still due now, and when the last ended.
  int holds_rounds_due_ ABSL_GUARDED_BY(mu_) = 2;
  absl::Time holds_checked_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::thread thread_;
};

}  // namespace ohfed

#endif  // OHFED_COMMON_UPLOADER_H_
