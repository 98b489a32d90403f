// A real gRPC Ingest receiver for tests, on loopback: keeps the highest
// revision per (trust, period) like an aggregator, counts how often a
// revision was applied, records every byte it
// received, and injects faults (failed streams, lost acks, delays, a
// rejected trust). Answers Feedback with what it holds for the trust (no
// upstream refusals) and counts the asks; Forget stands in for a store that
// lost a unit. Header-only; shared by the uploader and agent tests.
#ifndef OHFED_TESTS_TESTING_FAKE_INGEST_H_
#define OHFED_TESTS_TESTING_FAKE_INGEST_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "ohfed/v1/ohfed.grpc.pb.h"

namespace ohfed::testing {

class FakeIngest final : public v1::Ingest::Service {
 public:
  struct Faults {
    int fail_every = 0;      // every Nth batch: stream fails before applying
    int lose_ack_every = 0;  // every Nth batch: applied, ack never sent
    absl::Duration delay;    // before answering each batch
    std::string reject_trust;
  };

  grpc::Status Submit(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::SubmitResponse, v1::SubmitRequest>* stream)
      override {
    v1::SubmitRequest request;
    while (stream->Read(&request)) {
      Faults faults;
      int batch = 0;
      {
        absl::MutexLock l(&mu_);
        faults = faults_;
        batch = ++batches_;
        wire_ += request.SerializeAsString();
      }
      absl::SleepFor(faults.delay);
      if (faults.fail_every && batch % faults.fail_every == 0) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "injected failure");
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
      stream->Write(response);
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
  // Revisions accepted (each counted once however often it was sent).
  int applied() {
    absl::MutexLock l(&mu_);
    return applied_;
  }

 private:
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
