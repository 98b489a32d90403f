// Crafted Submit streams: unknown protobuf fields, unparsable bytes, floods
// of rejections, idle streams, too many streams from one peer, and a peer
// that writes batches but never takes its acks.
#include <google/protobuf/unknown_field_set.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "aggregator/codec.h"
#include "tests/wire/wire_fixture.h"

namespace ohfed::aggregator::wire {
namespace {

using ::ohfed::aggregator::testing::Summary;
using ::testing::HasSubstr;

const char kImm[] = "activity.count.immunisation";

// Every file under `dir` whose bytes contain `needle`.
std::vector<std::string> FilesContaining(const std::string& dir,
                                         const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) {
      found.push_back(entry.path().string());
    }
  }
  return found;
}

// Point: unknown fields are discarded on receipt, never stored.
TEST_F(WireTest, UnknownFieldsAreNotStored) {
  Start();
  const std::string nhs_number = "943 476 5919";  // a fake NHS number
  std::string free_text;
  while (free_text.size() < (1 << 20)) {
    free_text += absl::StrCat("patient NHS number ", nhs_number, "; ");
  }
  v1::UnitSummary s = Summary("RJ1", "2026-03", 1, {{kImm, 4}});
  // Fields this schema does not have, as a newer or hostile peer sends them.
  s.GetReflection()->MutableUnknownFields(&s)->AddLengthDelimited(1000,
                                                                  free_text);
  v1::Cell* cell = s.mutable_cells(0);
  cell->GetReflection()->MutableUnknownFields(cell)->AddLengthDelimited(
      77, nhs_number);
  ASSERT_GT(s.ByteSizeLong(), 1u << 20);
  ASSERT_EQ(SendOne(s).outcome(), v1::OUTCOME_ACCEPTED);

  aggregator_->Shutdown();  // everything on disk, files closed
  EXPECT_THAT(FilesContaining(dir_.File("db"), nhs_number),
              ::testing::IsEmpty());
  absl::StatusOr<std::string> value = StoredUnitValue("RJ1", "2026-03");
  OHFED_ASSERT_OK(value);
  EXPECT_LT(value->size(), 200u);
}

// Point: unparsable bytes end the stream with an error, echoing nothing.
TEST_F(WireTest, UnparsableBytesGetAnError) {
  Start();
  grpc::Status garbage = SendRaw("\xff\xff\xff\xff not a protobuf message");
  EXPECT_EQ(garbage.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(garbage.error_message(),
            "message 1 of this stream (27 bytes) is not a valid "
            "ohfed.v1.SubmitRequest");
  // Well-formed framing, but a string field that is not UTF-8 (proto3
  // refuses it): summaries { trust: "\xff\xfe" }.
  grpc::Status not_utf8 = SendRaw(std::string("\x0a\x04\x0a\x02\xff\xfe", 6));
  EXPECT_EQ(not_utf8.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(aggregator_->store().stats().units_held, 0u);
  // A good message on a raw stream still works.
  std::vector<v1::SubmitResponse> responses;
  OHFED_EXPECT_OK(absl::OkStatus());
  grpc::Status good = SendRaw(
      Batch({Summary("RJ1", "2026-03", 1, {{kImm, 4}})}).SerializeAsString(),
      &responses);
  EXPECT_TRUE(good.ok()) << good.error_message();
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].acks(0).outcome(), v1::OUTCOME_ACCEPTED);
}

// Point: rejection logs are rate-limited and summarised per (trust, reason).
TEST_F(WireTest, RejectionLogsAreSummarisedPerTrustAndReason) {
  ingest_options_.rejection_log_interval = absl::Seconds(60);
  Start();
  std::vector<v1::UnitSummary> flood;
  for (int i = 1; i <= 200; ++i)
    flood.push_back(Summary("ZZZ", "2026-03", i, {}));
  for (int i = 0; i < 50; ++i)
    flood.push_back(Summary("RJ1", "2026-03", 0, {}));
  std::vector<v1::SubmitResponse> responses;
  ASSERT_TRUE(Send({Batch(flood)}, &responses).ok());
  ASSERT_EQ(responses.size(), 1u);
  ASSERT_EQ(responses[0].acks_size(), 250);
  EXPECT_EQ(LogLinesWith("rejected"), 2);
  EXPECT_EQ(
      LogLinesWith("rejected ZZZ 2026-03 revision 1: unknown trust 'ZZZ'"), 1);

  clock_.Advance(absl::Seconds(61));
  responses.clear();
  ASSERT_TRUE(
      Send({Batch({Summary("ZZZ", "2026-03", 7, {})})}, &responses).ok());
  EXPECT_EQ(LogLinesWith("rejected 199 more from ZZZ since "
                         "2026-11-26T12:00:00Z: unknown trust 'ZZZ'"),
            1);
  EXPECT_EQ(LogLinesWith("rejected 49 more from RJ1 since "
                         "2026-11-26T12:00:00Z: revision must be > 0"),
            1);
  EXPECT_EQ(LogLinesWith("rejected ZZZ 2026-03 revision 7"), 1);
  EXPECT_EQ(LogLinesWith("rejected"), 5);
}

TEST_F(WireTest, RejectionLogsCapDistinctReasonsPerInterval) {
  ingest_options_.rejection_log_keys = 10;
  Start();
  std::vector<v1::UnitSummary> varied;
  for (int i = 0; i < 100; ++i) {
    varied.push_back(Summary(absl::StrFormat("Z%03d", i), "2026-03", 1, {}));
  }
  std::vector<v1::SubmitResponse> responses;
  ASSERT_TRUE(Send({Batch(varied)}, &responses).ok());
  EXPECT_EQ(LogLinesWith("rejected"), 10);
  clock_.Advance(absl::Minutes(2));
  ASSERT_TRUE(
      Send({Batch({Summary("Z000", "2026-03", 2, {})})}, &responses).ok());
  EXPECT_EQ(LogLinesWith("rejected 90 more summaries for other reasons since "
                         "2026-11-26T12:00:00Z"),
            1);
  EXPECT_EQ(LogLinesWith("rejected"), 12);
}

// Point: an idle stream is ended, freeing its server thread.
TEST_F(WireTest, IdleStreamsAreEnded) {
  ingest_options_.idle_timeout = absl::Milliseconds(200);
  Start();
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  auto stream = ingest_->Submit(&ctx);
  ASSERT_TRUE(
      stream->Write(Batch({Summary("RJ1", "2026-03", 1, {{kImm, 1}})})));
  v1::SubmitResponse response;
  ASSERT_TRUE(stream->Read(&response));  // then nothing more is sent
  EXPECT_FALSE(stream->Read(&response));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED)
      << status.error_message();
  EXPECT_TRUE(AwaitLog("Submit stream idle for 200ms: ended"));
}

// Point: at most max_streams_per_peer streams at once from one address.
TEST_F(WireTest, StreamsPerPeerAreLimited) {
  ingest_options_.max_streams_per_peer = 2;
  Start();
  struct Open {
    grpc::ClientContext ctx;
    std::unique_ptr<
        grpc::ClientReaderWriter<v1::SubmitRequest, v1::SubmitResponse>>
        stream;
  };
  auto open = [&](Open& o, uint64_t revision) {
    o.ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    o.stream = ingest_->Submit(&o.ctx);
    o.stream->Write(Batch({Summary("RJ1", "2026-03", revision, {{kImm, 1}})}));
    v1::SubmitResponse r;
    return o.stream->Read(&r);
  };
  Open a, b, c, d;
  ASSERT_TRUE(open(a, 1));
  ASSERT_TRUE(open(b, 2));
  EXPECT_FALSE(open(c, 3));
  grpc::Status refused = c.stream->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(refused.error_message(),
            "too many Submit streams from ipv4:127.0.0.1: at most 2 at once; "
            "finish one before opening another");
  // Finishing one frees its place.
  a.stream->WritesDone();
  EXPECT_TRUE(a.stream->Finish().ok());
  EXPECT_TRUE(open(d, 4));
  for (Open* o : {&b, &d}) {
    o->stream->WritesDone();
    EXPECT_TRUE(o->stream->Finish().ok());
  }
}

TEST(PeerAddressTest, StreamLimitsApplyToTheAddressWithoutItsPort) {
  EXPECT_EQ(PeerAddress("ipv4:10.1.2.3:50412"), "ipv4:10.1.2.3");
  EXPECT_EQ(PeerAddress("ipv6:[::1]:50412"), "ipv6:[::1]");
  EXPECT_EQ(PeerAddress("ipv6:%5B::1%5D:50412"), "ipv6:%5B::1%5D");
  EXPECT_EQ(PeerAddress("unix:/run/ohfed.sock"), "unix:/run/ohfed.sock");
}

// Point: a peer that writes batches but never reads its acks. Measured with
// gRPC 1.51: the sync Write completes once the ack message is within the
// peer's HTTP/2 flow-control window (grown by BDP probing to 4 MiB), i.e. is
// handed to the peer, which holds it unread. When the window is full the
// handler blocks in Write and reads nothing more, so the server holds at
// most the one ack it is writing; the peer's own writes then block once the
// server's receive window is full. Without a limit that stream would hold
// its thread forever: the idle timeout ends it. The peer here wrote about
// 1,000 batches; the server took about 400 (4 MiB of acks, all delivered
// into the peer's window).
TEST_F(WireTest, APeerThatNeverTakesItsAcksCannotMakeTheServerBufferThem) {
  ingest_options_.idle_timeout = absl::Milliseconds(300);
  Start();
  v1::SubmitRequest batch;
  v1::SubmitResponse acks;  // what the server answers to `batch`
  for (int i = 1; i <= 256; ++i) {
    *batch.add_summaries() = Summary("ZZZ", "2026-03", i, {});
    v1::Ack* ack = acks.add_acks();
    ack->set_trust("ZZZ");
    ack->set_period("2026-03");
    ack->set_revision(i);
    ack->set_outcome(v1::OUTCOME_REJECTED);
    ack->set_reason("unknown trust 'ZZZ'");
  }
  constexpr int kBatches = 4000;  // 26 MiB of batches, 11 MiB of acks
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  auto stream = ingest_->Submit(&ctx);
  int written = 0;
  std::thread writer([&] {
    while (written < kBatches && stream->Write(batch)) ++written;
  });
  // The server gives up on the stream while the peer is still writing.
  EXPECT_TRUE(AwaitLog("Submit stream idle for 300ms: ended"));
  ctx.TryCancel();  // the peer's blocked Write would wait for its deadline
  writer.join();
  stream->Finish();
  const uint64_t taken = aggregator_->store().stats().batches_received;
  std::cerr << "peer wrote " << written << " batches of "
            << batch.ByteSizeLong() << " bytes; the server took " << taken
            << " and held their acks (" << taken * acks.ByteSizeLong() / 1024
            << " KiB)\n";
  EXPECT_LT(written, kBatches);
  EXPECT_LT(taken * acks.ByteSizeLong(), uint64_t{8} << 20);
}

}  // namespace
}  // namespace ohfed::aggregator::wire
