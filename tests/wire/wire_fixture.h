// A real aggregator on 127.0.0.1:0 with a real RocksDB store, a fake clock
// and captured log lines, plus clients that send crafted Submit messages:
// typed batches through the generated stub, or raw bytes (what a hostile
// peer can send that no typed client would). Header-only.
#ifndef OHFED_TESTS_WIRE_WIRE_FIXTURE_H_
#define OHFED_TESTS_WIRE_WIRE_FIXTURE_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/sync_stream.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "aggregator/aggregator.h"
#include "aggregator/codec.h"
#include "common/clock.h"
#include "common/rocksdb_util.h"
#include "common/status.h"
#include "common/transport.h"
#include "ohfed/v1/ohfed.grpc.pb.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator::wire {

// The receiver's "now" in every wire test: 2026-11-26 12:00 UTC.
inline absl::Time WireNow() {
  return absl::FromCivil(absl::CivilSecond(2026, 11, 26, 12, 0, 0),
                         absl::UTCTimeZone());
}

class WireTest : public ::testing::Test {
 protected:
  // Starts the aggregator with ingest_options_ (set them first).
  void Start() {
    AggregatorOptions options =
        ::ohfed::aggregator::testing::LoopbackOptions(dir_.File("db"));
    options.store.clock = &clock_;
    options.ingest = ingest_options_;
    options.ingest.log = [this](absl::string_view line) {
      absl::MutexLock l(&log_mu_);
      log_.emplace_back(line);
    };
    auto a = Aggregator::Start(options);
    OHFED_ASSERT_OK(a);
    aggregator_ = std::move(*a);
    auto channel = MakeChannel(aggregator_->address(), {.insecure = true});
    OHFED_ASSERT_OK(channel);
    channel_ = *channel;
    ingest_ = v1::Ingest::NewStub(channel_);
  }

  // Sends each batch on one stream and reads its acks; returns the stream's
  // final status.
  grpc::Status Send(const std::vector<v1::SubmitRequest>& batches,
                    std::vector<v1::SubmitResponse>* responses) {
    return ::ohfed::aggregator::testing::SendBatches(*ingest_, batches,
                                                     responses);
  }

  // The one ack for one summary sent alone.
  v1::Ack SendOne(const v1::UnitSummary& s) {
    v1::SubmitRequest batch;
    *batch.add_summaries() = s;
    std::vector<v1::SubmitResponse> responses;
    grpc::Status status = Send({batch}, &responses);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (responses.size() != 1 || responses[0].acks_size() != 1) {
      ADD_FAILURE() << "expected one ack";
      return v1::Ack();
    }
    return responses[0].acks(0);
  }

  // The reason a summary sent alone is rejected with ("" if not rejected).
  std::string RejectReason(const v1::UnitSummary& s) {
    v1::Ack ack = SendOne(s);
    return ack.outcome() == v1::OUTCOME_REJECTED ? ack.reason() : "";
  }

  // A raw Submit stream: messages are bytes, as a peer without our schema
  // (or with a hostile one) sends them. The sync generic client API is not
  // public in gRPC 1.51; this is what the generated stubs do.
  using RawStream =
      grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>;
  std::unique_ptr<RawStream> OpenRaw(grpc::ClientContext* ctx) {
    static const grpc::internal::RpcMethod kSubmit(
        "/ohfed.v1.Ingest/Submit", grpc::internal::RpcMethod::BIDI_STREAMING);
    return std::unique_ptr<RawStream>(
        grpc::internal::ClientReaderWriterFactory<
            grpc::ByteBuffer, grpc::ByteBuffer>::Create(channel_.get(), kSubmit,
                                                        ctx));
  }

  static grpc::ByteBuffer Bytes(const std::string& bytes) {
    grpc::Slice slice(bytes);
    return grpc::ByteBuffer(&slice, 1);
  }

  // Sends `bytes` as one message on a raw stream, reads what comes back,
  // and returns the final status; acks parsed into *responses if given.
  grpc::Status SendRaw(const std::string& bytes,
                       std::vector<v1::SubmitResponse>* responses = nullptr) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    std::unique_ptr<RawStream> stream = OpenRaw(&ctx);
    stream->Write(Bytes(bytes));
    stream->WritesDone();
    grpc::ByteBuffer reply;
    while (stream->Read(&reply)) {
      std::vector<grpc::Slice> slices;
      EXPECT_TRUE(reply.Dump(&slices).ok());
      std::string data;
      for (const grpc::Slice& s : slices) {
        data.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
      v1::SubmitResponse r;
      EXPECT_TRUE(r.ParseFromString(data));
      if (responses != nullptr) responses->push_back(r);
    }
    return stream->Finish();
  }

  static v1::SubmitRequest Batch(std::vector<v1::UnitSummary> summaries) {
    v1::SubmitRequest req;
    for (auto& s : summaries) *req.add_summaries() = std::move(s);
    return req;
  }

  // Captured log lines containing `text`.
  int LogLinesWith(absl::string_view text) {
    absl::MutexLock l(&log_mu_);
    int n = 0;
    for (const std::string& line : log_) n += absl::StrContains(line, text);
    return n;
  }
  // Waits (at most `limit`, a guard against hanging) until a captured line
  // contains `text`; false if none did.
  bool AwaitLog(absl::string_view text,
                absl::Duration limit = absl::Seconds(10)) {
    absl::MutexLock l(&log_mu_);
    auto logged = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(log_mu_) {
      for (const std::string& line : log_) {
        if (absl::StrContains(line, text)) return true;
      }
      return false;
    };
    return log_mu_.AwaitWithTimeout(absl::Condition(&logged), limit);
  }
  std::vector<std::string> Log() {
    absl::MutexLock l(&log_mu_);
    return log_;
  }

  // The stored value of the unit record of (trust, period) ("u/" key,
  // aggregator/codec.h), read from the data directory once the aggregator
  // is shut down (so everything it wrote is on disk and the files closed).
  absl::StatusOr<std::string> StoredUnitValue(absl::string_view trust,
                                              absl::string_view period) {
    aggregator_->Shutdown();
    OHFED_ASSIGN_OR_RETURN(std::unique_ptr<rocksdb::DB> db,
                           OpenDb(dir_.File("db"), DbFootprint::kSmall));
    absl::StatusOr<std::string> value =
        GetValue(db.get(), absl::StrCat(kUnitPrefix, UnitId(trust, period)));
    db->Close().PermitUncheckedError();
    return value;
  }

  ::ohfed::testing::TempDir dir_;
  FakeClock clock_{WireNow()};
  IngestOptions ingest_options_;
  std::unique_ptr<Aggregator> aggregator_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Ingest::Stub> ingest_;

 private:
  absl::Mutex log_mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(log_mu_);
};

}  // namespace ohfed::aggregator::wire

#endif  // OHFED_TESTS_WIRE_WIRE_FIXTURE_H_
