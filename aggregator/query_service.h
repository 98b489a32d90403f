// The Query gRPC service (ohfed.v1.Query): a thin adapter that runs the
// query engine (aggregator/query_engine.h) on a snapshot of the store, within
// the store's coverage, stopping once the caller has gone or its deadline
// has passed, and maps absl::Status to grpc::Status. Every call is first
// authorised (aggregator/authz.h): the caller's scope must cover the
// request's scope and breakdown, and an empty scope means the caller's own.
//
// Answers are sent as bytes (raw callback methods), written straight into
// their serialized form (SerializeQuery, SerializeCompleteness) without
// building the response message. A light query's answer is
// kept per data version (aggregator/query_answer_cache.h), so asking it
// again before the next commit sends the same bytes without rebuilding
// them; heavy ones are always computed (they are few, large, and figure 4
// measures what they cost the others).
//
// Calls use gRPC's callback API: the gRPC thread authorises the call and
// hands it to a lane (aggregator/query_lanes.h), light or heavy by its
// estimated cost, where it runs when a thread of the lane is free. A call
// whose deadline has passed (by the store's clock) or whose caller has gone
// when it arrives is answered CANCELLED, as the engine would; one whose
// deadline passes, or whose caller goes, while it waits is answered
// DEADLINE_EXCEEDED (or CANCELLED) without being run.
//
// As it starts (QueryLaneOptions::warm_patterns), the service computes the
// suppression patterns of every disclosive measure on the lanes' background
// thread (WarmPatterns in aggregator/disclosure_pattern.h), at the heavy
// lane's low priority, beside any query, so that the first heavy query after
// a start does not compute them all itself; then it logs "suppression
// patterns ready".
//
// Thread-safe. The store, clock and authz must outlive the service.
#ifndef OHFED_AGGREGATOR_QUERY_SERVICE_H_
#define OHFED_AGGREGATOR_QUERY_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <utility>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "aggregator/authz.h"
#include "aggregator/query_answer_cache.h"
#include "aggregator/query_lanes.h"
#include "aggregator/summary_store.h"
#include "common/clock.h"
#include "ohfed/v1/ohfed.grpc.pb.h"

namespace ohfed::aggregator {

class QueryService final : public v1::Query::WithRawCallbackMethod_Query<
                               v1::Query::WithRawCallbackMethod_Completeness<
                                   v1::Query::CallbackService>> {
 public:
  // `answers_kept`: how many answers AnswerCache keeps (0: none, every
  // answer is computed).
  QueryService(const SummaryStore* store, Clock* clock, const Authz* authz,
               QueryLaneOptions lanes = {}, size_t answers_kept = 256)
      : store_(store),
        clock_(clock),
        authz_(authz),
        answers_(answers_kept),
        warm_started_(clock->Now()),
        lanes_(lanes) {
    if (lanes.warm_patterns) {
      lanes_.RunInBackground([this] { WarmPatterns(); });
    } else {
      warmed_.Notify();
    }
  }
  ~QueryService() override { stopping_ = true; }

  // Waits until every call received has been answered (and stops the
  // patterns' warm-up). Called once the server has stopped (which cancels
  // what still runs), before the store closes.
  void Drain() {
    stopping_ = true;
    lanes_.WaitIdle();
  }

  // TEST ONLY: returns once the warm-up of the patterns has finished (or
  // stopped, or was off).
  void WaitForWarmUp() { warmed_.WaitForNotification(); }

  // A v1::QueryRequest in, a v1::QueryResponse out.
  grpc::ServerUnaryReactor* Query(grpc::CallbackServerContext* context,
                                  const grpc::ByteBuffer* request,
                                  grpc::ByteBuffer* response) override;
  // A v1::CompletenessRequest in, a v1::CompletenessResponse out.
  grpc::ServerUnaryReactor* Completeness(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;

  // TEST ONLY: the answers kept (query_answer_cache.h).
  const AnswerCache& answers() const { return answers_; }

 private:
  // In the lane's thread, before running: DEADLINE_EXCEEDED if the call's
  // deadline has passed by clock_, CANCELLED if its caller has gone.
  absl::Status StillWanted(const grpc::CallbackServerContext& context) const;
  // One query-like call: parsed as a Request, authorized (scope narrowed to
  // the caller's), refused at once if already abandoned, then run in the
  // lane its `cost(authorized request)` picks, where `answer(request,
  // snapshot, options, now, bytes)` writes the serialized Response without
  // its warning, `live(request, snapshot, options, now)` says what that answer
  // reads outside the snapshot (AnswerCache) and `warning(request,
  // snapshot)` gives its warning. With `view_only` (the answer reads
  // nothing outside the snapshot: `live` is always empty), a light call
  // whose answer is kept for the data now published is answered on gRPC's
  // thread, without being handed to a lane (a lookup of microseconds, where
  // the hand-over wakes a thread: on a busy machine that wake-up, not the
  // lookup, is what the call would wait for; issue 14 figure 4).
  template <typename Request, typename Response, typename Cost, typename Answer,
            typename Live, typename Warning>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context,
                                  const grpc::ByteBuffer& raw,
                                  grpc::ByteBuffer* response, Cost cost,
                                  Answer answer, Live live, Warning warning,
                                  bool view_only);

  // One turn of the warm-up, on the background thread: measures until
  // every pattern is ready or the service stops; when a commit published
  // new data, the rest goes on the newest in a new turn (each measure is
  // visited once: one a commit changes is left to the query that needs it).
  void WarmPatterns();

  const SummaryStore* const store_;
  Clock* const clock_;
  const Authz* const authz_;
  AnswerCache answers_;  // light queries' and completeness answers
  std::atomic<bool> stopping_{false};
  size_t warm_next_ = 0;   // WarmPatterns' place: one turn at a time
  int warm_computed_ = 0;  // patterns it computed, for its log line
  const absl::Time warm_started_;
  absl::Notification warmed_;
  QueryLanes lanes_;  // last: its threads run calls that use the above
};

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_QUERY_SERVICE_H_
