// The Ingest gRPC service (ohfed.v1.Ingest): agents and regional aggregators
// stream batches of unit summaries; each batch is answered with one Ack per
// summary once the accepted ones are durable (SummaryStore::Commit, group
// commit across every stream). Invalid summaries are REJECTED with the reason
// from ValidateSummary and never stored.
//
// At the wire, one peer must not corrupt, freeze or flood anything:
//  - Submit reads raw bytes and parses them itself, so an unparsable message
//    ends the stream with INVALID_ARGUMENT (gRPC's sync API would report a
//    failed parse as a clean end of stream), and unknown fields are discarded
//    before anything is stored or forwarded;
//  - streams are limited per peer and ended when idle (StreamWatch): a
//    handler blocked in Write because the peer does not take its acks reads
//    nothing more (HTTP/2 flow control bounds the acks in flight) and counts
//    as idle;
//  - rejections are logged rate-limited (RejectionLog).
//
// Who may submit (SPEC §8): over TLS the caller's certificate names it
// (common/identity.h). A trust's certificate may submit only for that trust;
// a regional certificate only for trusts inside its region in the registry
// version in effect for the summary's period; anything else, the national
// certificate included, is REJECTED with a reason naming the mismatch, and
// nothing is stored. The national aggregator forwards nowhere, and its
// certificate is also what national query callers hold, so it is refused
// rather than trusted to write any trust's figures. A carried
// first_received_unix_ms is honoured only from a regional certificate (the
// forwarding aggregator's receipt time); from anyone else it is cleared.
// A TLS caller without a client certificate (a bearer-token query caller)
// is refused with UNAUTHENTICATED. Over --insecure loopback there is no
// identity and none of this applies.
//
// Threads: Submit uses gRPC's callback API, so an open stream holds no
// thread while it waits for its peer. A received batch is parsed (on a
// protobuf arena: one free per batch) and checked on a small pool
// (work_threads) and handed to SummaryStore::CommitAsync, whose group commit
// takes the batches of every stream waiting at the time into one synced
// write (led on the pool's thread when no commit is under way); the acks
// are written from its answer, in the order the batches came. A stream is
// read ahead up to batches_in_flight unacknowledged batches, so the batches
// a sender pipelines share a group. Each summary is stored in the
// bytes it arrived in unless something of it is dropped. However many
// streams are open, the service runs on those few threads, the store's
// committing threads and gRPC's own. Feedback is short and stays on gRPC's
// sync threads.
//
// Thread-safe. The store and the clock must outlive the service.
#ifndef OHFED_AGGREGATOR_INGEST_SERVICE_H_
#define OHFED_AGGREGATOR_INGEST_SERVICE_H_

#include <google/protobuf/arena.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <optional>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "aggregator/authz.h"
#include "aggregator/forwarder.h"
#include "aggregator/ingest_metrics.h"
#include "aggregator/rejection_log.h"
#include "aggregator/stream_watch.h"
#include "aggregator/submit_reader.h"
#include "aggregator/summary_store.h"
#include "aggregator/work_pool.h"
#include "common/clock.h"
#include "common/identity.h"
#include "common/registry.h"
#include "ohfed/v1/ohfed.grpc.pb.h"

namespace ohfed::aggregator {

struct IngestOptions {
  // A Submit stream waiting this long for its next batch, or for the peer to
  // take its acks, is cancelled. The agent's uploader opens one stream per
  // sync and finishes it.
  absl::Duration idle_timeout = absl::Seconds(60);
  // Submit streams open at once per peer address; an agent or a regional
  // aggregator uses one.
  int max_streams_per_peer = 16;
  // Rejections: the first per (trust, reason) logged, then one count per
  // interval; at most this many (trust, reason) pairs per interval.
  absl::Duration rejection_log_interval = absl::Seconds(60);
  int rejection_log_keys = 100;
  // The receiver's clock for revisions, periods and log intervals; default
  // Clock::Real().
  Clock* clock = nullptr;
  // Where log lines go; default LogLine.
  std::function<void(absl::string_view)> log;
  // Threads that parse and check received batches; fixed, whatever the
  // number of streams (the store has its own committing threads).
  int work_threads = 2;
  // Batches of one Submit stream read before the first of them is
  // acknowledged: a sender keeping several in flight (a regional
  // aggregator's forwarder, an agent) has them checked and committed
  // together. Acks go in the order the batches came.
  int batches_in_flight = 4;
};

// Whether `caller` may submit (or ask Feedback) for `trust`, as above;
// `period` picks the registry version ("" or unparsable: the latest).
// kPermissionDenied naming the mismatch, e.g. "certificate trust:RJ1 may not
// submit for RV5".
absl::Status CheckSubmitter(const PeerIdentity& caller, absl::string_view trust,
                            absl::string_view period,
                            const RegistryHistory& registry);

// IngestBatch before its commit: the caller's right to each summary of
// `request`, validation against `now`, rejections acknowledged in `response`
// and logged, the batch (`bytes` received) counted. The valid summaries go
// to `valid`, in order, pointing into `request` (which the caller keeps
// until their commit is answered), each with its bytes from `received` (one
// per summary of the request, or empty: none known) and whether its
// first_received_unix_ms may stand (a regional certificate's, or no
// identity). kInvalidArgument for an oversized batch.
absl::Status PrepareBatch(SummaryStore& store, const v1::SubmitRequest& request,
                          absl::Span<const absl::string_view> received,
                          size_t bytes, absl::Time now,
                          RejectionLog& rejections,
                          const std::optional<PeerIdentity>& caller,
                          v1::SubmitResponse* response,
                          std::vector<SummaryStore::Incoming>* valid);

// How PrepareReceived took a batch: its cells read from the bytes
// (SubmitReader), parsed into a v1::SubmitRequest, or neither (not a
// SubmitRequest: the stream is refused).
enum class ReadPath { kRead, kParsed, kUnparsable };

// PrepareBatch of the SubmitRequest serialized in `bytes`, which the caller
// keeps, with `arena` and `read`, until the commit is answered (the valid
// summaries point into them). `read`: a SubmitReader that read `bytes`
// (aggregator/submit_reader.h), or nullptr when it did not take them. Its
// summaries are checked and stored as read when each may be stored as it
// came; otherwise the bytes are parsed on `arena`, unknown fields dropped,
// as before. Either way the same acks, reasons and stored records.
absl::StatusOr<ReadPath> PrepareReceived(
    SummaryStore& store, absl::string_view bytes,
    google::protobuf::Arena* arena, const SubmitReader* read, absl::Time now,
    RejectionLog& rejections, const std::optional<PeerIdentity>& caller,
    v1::SubmitResponse* response, std::vector<SummaryStore::Incoming>* valid);

// The arena a received batch of `request_bytes` is parsed on (with its
// acks): one first block that holds the parsed request of a typical batch
// (measured: ~2.9x its bytes for 12 full-catalogue summaries, of which most
// cells are distributions), and small blocks beyond it. With a first block
// of twice the bytes, every batch took a second block of twice that: ~2.2x
// more memory than used per batch in flight (at 1,000 streams, ~1,000
// batches wait for the commit at once) and one more malloc each.
// A batch whose cells were read from its bytes (not `parsed`) keeps only
// its acks on the arena: one small first block.
google::protobuf::ArenaOptions BatchArenaOptions(size_t request_bytes,
                                                 bool parsed = true);

// IngestBatch after its commit: one ack per valid summary with its outcome
// and the revision held after the commit, appended to `response`.
void FinishBatch(const std::vector<SummaryStore::Incoming>& valid,
                 const SummaryStore::Committed& committed,
                 v1::SubmitResponse* response);

// Acks for one batch: the caller's right to each summary (nullopt: no
// identity, plaintext), validation against `now`, then one commit for the
// valid summaries; rejections go to `rejections`. kInvalidArgument for an
// oversized batch; the store's error if the commit fails (then no summary of
// the batch is acknowledged).
absl::StatusOr<v1::SubmitResponse> IngestBatch(
    SummaryStore& store, const v1::SubmitRequest& request, absl::Time now,
    RejectionLog& rejections,
    const std::optional<PeerIdentity>& caller = std::nullopt);

// IngestBatch of a batch as received (PrepareReceived, then the commit),
// for tests and the fuzz target; `path` (optional) tells how it was read.
// kInvalidArgument "not a valid ohfed.v1.SubmitRequest" for bytes that are
// not one.
absl::StatusOr<v1::SubmitResponse> IngestReceived(
    SummaryStore& store, absl::string_view bytes, absl::Time now,
    RejectionLog& rejections,
    const std::optional<PeerIdentity>& caller = std::nullopt,
    bool use_reader = true, ReadPath* path = nullptr);

class IngestService final : public v1::Ingest::Service {
 public:
  explicit IngestService(SummaryStore* store, IngestOptions options = {});
  ~IngestService() override;  // Drain()

  // Waits until every batch received has been answered or refused. Called
  // once the server has stopped, before the store closes.
  void Drain();

  // Units of the trust whose held revision the upstream aggregator refused
  // (empty without an upstream), and every unit held for it with its
  // revision (held, held_complete), so that the sender resends what this
  // store lost in a recovery from damage; the call also counts towards
  // confirming the trust (aggregator/store_recovery.h). kInvalidArgument for a
  // malformed trust; with a caller identity, kPermissionDenied for a trust it
  // may not submit for (CheckSubmitter).
  grpc::Status Feedback(grpc::ServerContext* context,
                        const v1::FeedbackRequest* request,
                        v1::FeedbackResponse* response) override;

  // The forwarder Feedback answers from; nullptr (the default) when there is
  // no upstream. Set before serving; must outlive the service.
  void set_forwarder(const Forwarder* forwarder) { forwarder_ = forwarder; }

  // Who may open a Submit stream and ask Feedback (aggregator/authz.h);
  // nullptr (the default) lets anyone. Set before serving; must outlive the
  // service.
  void set_authz(const Authz* authz) { authz_ = authz; }

 private:
  // One Submit stream (ingest_service.cc): replaces the generated handler
  // (see the file comment); requests arrive as bytes.
  class SubmitCall;
  // Counts a batch handed to the store (+1) or answered by it (-1).
  void Committing(int delta);

  SummaryStore* const store_;
  const IngestOptions options_;
  RejectionLog rejections_;
  StreamWatch watch_;  // after rejections_: its watchdog flushes them
  // Batches handed to the store and not answered yet (Drain waits for 0).
  absl::Mutex committing_mu_;
  int committing_ ABSL_GUARDED_BY(committing_mu_) = 0;
  // Lent to the batches being checked and committed (before work_: its
  // tasks hold them).
  SubmitReaderPool readers_;
  WorkPool work_;
  const Forwarder* forwarder_ = nullptr;
  const Authz* authz_ = nullptr;
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_INGEST_SERVICE_H_
