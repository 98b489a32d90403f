// A real gRPC Ingest receiver for tests, on loopback: keeps the highest
// revision per (trust, period) like an aggregator, counts how often a
// revision was applied, records every byte it received and the units of
// every batch with its stream and whether it was answered, and injects
// faults (failed or refused streams, lost acks, delays, a rejected trust,
// acks held back until several batches are in flight). Answers Feedback with
// what it holds for the trust (no upstream refusals) and counts the asks;
// Forget stands in for a store that lost a unit. Header-only; shared by the
// uploader and agent tests.
#ifndef OHFED_TESTS_TESTING_FAKE_INGEST_H_
#define OHFED_TESTS_TESTING_FAKE_INGEST_H_

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "ohfed/v1/ohfed.grpc.pb.h"

namespace ohfed::testing {

class FakeIngest final : public v1::Ingest::Service {
 public:
  struct Faults {
    // Every Nth batch: the stream ends with `fail_code` before the batch is
    // applied (UNAVAILABLE: a broken stream; INVALID_ARGUMENT: a refused
    // batch, as an aggregator ends a stream after the acks before it).
    int fail_every = 0;
    grpc::StatusCode fail_code = grpc::StatusCode::UNAVAILABLE;
    int lose_ack_every = 0;  // every Nth batch: applied, ack never sent
    absl::Duration delay;    // before answering each batch
    std::string reject_trust;
    // The first N batches received (counted over all streams) are answered
    // only once the Nth has arrived, or when their stream's sender is done:
    // a sender that waits for each ack stalls here until its deadline.
    int hold_first = 0;
  };
  // One batch as received.
  struct Batch {
    int stream = 0;                 // 1 for the first Submit stream, ...
    std::vector<std::string> keys;  // "trust/period" of its summaries
    bool answered = false;
  };

  grpc::Status Submit(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::SubmitResponse, v1::SubmitRequest>* stream)
      override {
    int stream_id = 0;
    {
      absl::MutexLock l(&mu_);
      stream_id = ++streams_;
    }
    // Received and not yet answered: (batch number, request).
    std::vector<std::pair<int, v1::SubmitRequest>> waiting;
    v1::SubmitRequest request;
    for (bool open = true; open;) {
      open = stream->Read(&request);
      if (open) {
        absl::MutexLock l(&mu_);
        const int batch = ++batches_;
        wire_ += request.SerializeAsString();
        Batch b{.stream = stream_id};
        for (const auto& s : request.summaries()) {
          b.keys.push_back(s.trust() + "/" + s.period());
        }
        log_.push_back(std::move(b));
        waiting.emplace_back(batch, std::move(request));
        if (batch < faults_.hold_first) continue;
      }
      if (waiting.empty()) continue;
      {
        absl::MutexLock l(&mu_);
        most_unanswered_ = std::max(most_unanswered_, waiting.size());
      }
      for (const auto& [batch, r] : waiting) {
        grpc::Status s = Answer(batch, r, stream);
        if (!s.ok()) return s;
      }
      waiting.clear();
    }
    return grpc::Status::OK;
  }

  grpc::Status Feedback(grpc::ServerContext*,
                        const v1::FeedbackRequest* request,
                        v1::FeedbackResponse* response) override {
    absl::MutexLock l(&mu_);
    ++feedback_asks_[request->trust()];
    const std::string prefix = request->trust() + "/";
    for (const auto& [key, s] : held_) {
      if (key.compare(0, prefix.size(), prefix) != 0) continue;
      v1::Ack* held = response->add_held();
      held->set_trust(s.trust());
      held->set_period(s.period());
      held->set_held_revision(s.revision());
    }
    response->set_held_complete(true);
    return grpc::Status::OK;
  }
  // Drops the held summary of "trust/period", as a damaged store would.
  void Forget(const std::string& key) {
    absl::MutexLock l(&mu_);
    held_.erase(key);
  }
  // How often Feedback was asked for `trust`.
  int feedback_asks(const std::string& trust) {
    absl::MutexLock l(&mu_);
    return feedback_asks_[trust];
  }

  void set_faults(Faults f) {
    absl::MutexLock l(&mu_);
    faults_ = std::move(f);
  }
  // The held summary per "trust/period".
  std::map<std::string, v1::UnitSummary> held() {
    absl::MutexLock l(&mu_);
    return held_;
  }
  std::string wire() {
    absl::MutexLock l(&mu_);
    return wire_;
  }
  int batches() {
    absl::MutexLock l(&mu_);
    return batches_;
  }
  // Every batch received, in order of arrival.
  std::vector<Batch> batch_log() {
    absl::MutexLock l(&mu_);
    return log_;
  }
  // The most batches of one stream received at once before being answered
  // (1 for a sender that waits for each ack, unless hold_first).
  size_t most_unanswered() {
    absl::MutexLock l(&mu_);
    return most_unanswered_;
  }
  // Revisions accepted (each counted once however often it was sent).
  int applied() {
    absl::MutexLock l(&mu_);
    return applied_;
  }

 private:
  // Applies and answers batch number `batch` (1-based over all streams),
  // or fails the stream as faults_ say.
  grpc::Status Answer(
      int batch, const v1::SubmitRequest& request,
      grpc::ServerReaderWriter<v1::SubmitResponse, v1::SubmitRequest>* stream) {
    Faults faults;
    {
      absl::MutexLock l(&mu_);
      faults = faults_;
    }
    absl::SleepFor(faults.delay);
    if (faults.fail_every && batch % faults.fail_every == 0) {
      return grpc::Status(faults.fail_code,
                          absl::StrCat("injected failure at batch ", batch));
    }
    v1::SubmitResponse response;
    {
      absl::MutexLock l(&mu_);
      for (const auto& s : request.summaries()) {
        *response.add_acks() = Apply(s, faults);
      }
    }
    if (faults.lose_ack_every && batch % faults.lose_ack_every == 0) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "ack lost");
    }
    if (!stream->Write(response)) return grpc::Status::OK;
    absl::MutexLock l(&mu_);
    log_[batch - 1].answered = true;
    return grpc::Status::OK;
  }

  v1::Ack Apply(const v1::UnitSummary& s, const Faults& faults)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    v1::Ack ack;
    ack.set_trust(s.trust());
    ack.set_period(s.period());
    ack.set_revision(s.revision());
    if (s.trust() == faults.reject_trust) {
      ack.set_outcome(v1::OUTCOME_REJECTED);
      ack.set_reason("unknown trust '" + s.trust() + "'");
      return ack;
    }
    v1::UnitSummary& held = held_[s.trust() + "/" + s.period()];
    if (s.revision() <= held.revision()) {
      ack.set_outcome(v1::OUTCOME_STALE);
      return ack;
    }
    held = s;
    ++applied_;
    ack.set_outcome(v1::OUTCOME_ACCEPTED);
    return ack;
  }

  absl::Mutex mu_;
  Faults faults_ ABSL_GUARDED_BY(mu_);
  int batches_ ABSL_GUARDED_BY(mu_) = 0;
  int streams_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<Batch> log_ ABSL_GUARDED_BY(mu_);
  size_t most_unanswered_ ABSL_GUARDED_BY(mu_) = 0;
  int applied_ ABSL_GUARDED_BY(mu_) = 0;
  std::string wire_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::UnitSummary> held_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> feedback_asks_ ABSL_GUARDED_BY(mu_);
};

// Runs a FakeIngest on 127.0.0.1:<free port>.
class IngestServer {
 public:
  IngestServer() {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                       &port_);
    b.RegisterService(&ingest_);
    server_ = b.BuildAndStart();
  }
  ~IngestServer() {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  FakeIngest& ingest() { return ingest_; }

 private:
  FakeIngest ingest_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace ohfed::testing

#endif  // OHFED_TESTS_TESTING_FAKE_INGEST_H_
