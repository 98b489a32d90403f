// The Ingest and Query services of an in-process aggregator over real gRPC
// on loopback, with a real RocksDB: per-revision reasons in the acks,
// keep-highest, group commit across concurrent streams.
#include <grpcpp/grpcpp.h>

#include <thread>

#include "absl/strings/str_format.h"
#include "aggregator/aggregator.h"
#include "aggregator/codec.h"
#include "common/catalogue.h"
#include "common/rocksdb_util.h"
#include "common/transport.h"
#include "ohfed/v1/ohfed.grpc.pb.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::Summary;
using ::ohfed::testing::TempDir;
using ::testing::HasSubstr;

const char kImm[] = "activity.count.immunisation";

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AggregatorOptions options =
        ::ohfed::aggregator::testing::LoopbackOptions(dir_.File("db"));
    options.store.group_commit_delay = absl::Milliseconds(5);
    auto a = Aggregator::Start(options);
    OHFED_ASSERT_OK(a);
    aggregator_ = std::move(*a);
    auto channel = MakeChannel(aggregator_->address(), {.insecure = true});
    OHFED_ASSERT_OK(channel);
    ingest_ = v1::Ingest::NewStub(*channel);
    query_ = v1::Query::NewStub(*channel);
  }

  // Sends batches on one stream, returning each batch's response, then the
  // stream's final status.
  grpc::Status Send(const std::vector<v1::SubmitRequest>& batches,
                    std::vector<v1::SubmitResponse>* responses) {
    return ::ohfed::aggregator::testing::SendBatches(*ingest_, batches,
                                                     responses);
  }

  static v1::SubmitRequest Batch(std::vector<v1::UnitSummary> summaries) {
    v1::SubmitRequest req;
    for (auto& s : summaries) *req.add_summaries() = std::move(s);
    return req;
  }

  TempDir dir_;
  std::unique_ptr<Aggregator> aggregator_;
  std::unique_ptr<v1::Ingest::Stub> ingest_;
  std::unique_ptr<v1::Query::Stub> query_;
};

const v1::Ack* FindAck(const v1::SubmitResponse& r, const std::string& trust,
                       const std::string& period, uint64_t revision) {
  for (const v1::Ack& a : r.acks()) {
    if (a.trust() == trust && a.period() == period &&
        a.revision() == revision) {
      return &a;
    }
  }
  return nullptr;
}

TEST_F(IngestTest, EachRevisionGetsItsOutcomeAndReason) {
  std::vector<v1::SubmitResponse> responses;
  ASSERT_TRUE(Send({Batch({Summary("RJ1", "2026-03", 2, {{kImm, 10}}),
                           Summary("RAX", "2026-03", 1, {{"x.y", 1}}),
                           Summary("ZZZ", "2026-03", 1, {{kImm, 1}}),
                           Summary("R1H", "2026-03", 0, {{kImm, 1}}),
                           Summary("R1H", "2026", 1,
                                   {{"profile.seqohs_accredited", 7}})}),
                    Batch({Summary("RJ1", "2026-03", 1, {{kImm, 99}})})},
                   &responses)
                  .ok());
  ASSERT_EQ(responses.size(), 2u);
  const v1::SubmitResponse& r = responses[0];
  ASSERT_EQ(r.acks_size(), 5);
  EXPECT_EQ(FindAck(r, "RJ1", "2026-03", 2)->outcome(), v1::OUTCOME_ACCEPTED);
  const v1::Ack* unknown_measure = FindAck(r, "RAX", "2026-03", 1);
  EXPECT_EQ(unknown_measure->outcome(), v1::OUTCOME_REJECTED);
  EXPECT_EQ(unknown_measure->reason(), "unknown measure 'x.y'");
  EXPECT_EQ(FindAck(r, "ZZZ", "2026-03", 1)->reason(), "unknown trust 'ZZZ'");
  EXPECT_THAT(FindAck(r, "R1H", "2026-03", 0)->reason(), HasSubstr("revision"));
  EXPECT_EQ(
      FindAck(r, "R1H", "2026", 1)->reason(),
      "value 7 out of range [0, 1] for measure 'profile.seqohs_accredited'");
  // An older revision afterwards is stale, not rejected, and changes nothing.
  ASSERT_EQ(responses[1].acks_size(), 1);
  EXPECT_EQ(responses[1].acks(0).outcome(), v1::OUTCOME_STALE);
  SummaryStoreStats stats = aggregator_->store().stats();
  EXPECT_EQ(stats.summaries_accepted, 1u);
  EXPECT_EQ(stats.summaries_rejected, 4u);
  EXPECT_EQ(stats.summaries_stale, 1u);
  EXPECT_EQ(stats.units_held, 1u);
  EXPECT_EQ(stats.batches_received, 2u);
  EXPECT_GT(stats.bytes_received, 0u);
  EXPECT_EQ(stats.commits, 1u);
  EXPECT_GT(stats.bytes_written, 0u);
}

TEST_F(IngestTest, OversizedBatchEndsTheStream) {
  std::vector<v1::UnitSummary> many;
  for (int i = 0; i < 257; ++i)
    many.push_back(Summary("RJ1", "2026-03", i + 1, {}));
  std::vector<v1::SubmitResponse> responses;
  grpc::Status s = Send({Batch(many)}, &responses);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("limit of 256"));
  EXPECT_EQ(aggregator_->store().stats().units_held, 0u);
}

TEST_F(IngestTest, ConcurrentStreamsShareCommitsAndEverythingIsStoredOnce) {
  const std::vector<std::string> trusts = {"RJ1", "R1H", "RAL", "RAX",
                                           "RRK", "RTH", "RX1", "RBS"};
  std::vector<std::thread> senders;
  for (const std::string& t : trusts) {
    senders.emplace_back([&, t] {
      std::vector<v1::SubmitRequest> batches;
      for (int m = 1; m <= 12; ++m) {
        batches.push_back(Batch(
            {Summary(t, absl::StrFormat("2025-%02d", m), 3, {{kImm, 2}})}));
      }
      // Every batch is sent twice: the resend must be stale, not re-added.
      std::vector<v1::SubmitRequest> twice = batches;
      twice.insert(twice.end(), batches.begin(), batches.end());
      std::vector<v1::SubmitResponse> responses;
      EXPECT_TRUE(Send(twice, &responses).ok());
      ASSERT_EQ(responses.size(), 24u);
      for (size_t i = 0; i < 24; ++i) {
        ASSERT_EQ(responses[i].acks_size(), 1);
        EXPECT_EQ(responses[i].acks(0).outcome(),
                  i < 12 ? v1::OUTCOME_ACCEPTED : v1::OUTCOME_STALE);
      }
    });
  }
  for (auto& t : senders) t.join();
  SummaryStoreStats stats = aggregator_->store().stats();
  EXPECT_EQ(stats.summaries_accepted, 96u);
  EXPECT_EQ(stats.summaries_stale, 96u);
  EXPECT_EQ(stats.units_held, 96u);
  EXPECT_LT(stats.commits, 96u) << "no group commit across streams";
  aggregator_->store().Read([](const View& v) {
    for (int m = 1; m <= 12; ++m) {
      const RollupCell* c =
          v.Rollup("national", absl::StrFormat("2025-%02d", m), kImm);
      EXPECT_NE(c, nullptr);
      if (c != nullptr) {
        EXPECT_EQ(c->sum, 16);
        EXPECT_EQ(c->n_units, 8u);
      }
    }
    return 0;
  });
}

// A length-delimited field (wire type 2) as protobuf encodes it.
std::string Field(int number, const std::string& bytes) {
  std::string out;
  auto varint = [&out](uint64_t v) {
    do {
      out.push_back(static_cast<char>((v & 0x7F) | (v > 0x7F ? 0x80 : 0)));
      v >>= 7;
    } while (v != 0);
  };
  varint(static_cast<uint64_t>(number) << 3 | 2);
  varint(bytes.size());
  return out + bytes;
}

// The service stores each summary in the bytes it arrived in (no second
// serialization), and re-serializes only one of which something was
// dropped: here an unknown field, which is never stored.
TEST_F(IngestTest, SummariesAreStoredInTheBytesTheyCameInUnlessPartIsDropped) {
  v1::UnitSummary as_sent = Summary("RJ1", "2026-03", 2, {{kImm, 10}});
  // Cells first, then the rest: it parses to `as_sent`, but is not its
  // serialization.
  v1::UnitSummary cells = as_sent, rest = as_sent;
  cells.clear_trust();
  cells.clear_period();
  cells.clear_revision();
  cells.clear_catalogue_version();
  rest.clear_cells();
  const std::string reordered =
      cells.SerializeAsString() + rest.SerializeAsString();
  ASSERT_NE(reordered, as_sent.SerializeAsString());
  v1::UnitSummary extended = Summary("R1H", "2026-03", 3, {{kImm, 4}});
  const std::string with_unknown =
      extended.SerializeAsString() + Field(999, "not ohfed's");
  // A field of the request unknown to this version, between the summaries.
  const std::string request =
      Field(1, reordered) + Field(77, "x") + Field(1, with_unknown);

  static const grpc::internal::RpcMethod kSubmit(
      "/ohfed.v1.Ingest/Submit", grpc::internal::RpcMethod::BIDI_STREAMING);
  auto channel = MakeChannel(aggregator_->address(), {.insecure = true});
  OHFED_ASSERT_OK(channel);
  grpc::ClientContext ctx;
  auto raw = std::unique_ptr<
      grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>>(
      grpc::internal::ClientReaderWriterFactory<
          grpc::ByteBuffer, grpc::ByteBuffer>::Create(channel->get(), kSubmit,
                                                      &ctx));
  grpc::Slice slice(request);
  ASSERT_TRUE(raw->Write(grpc::ByteBuffer(&slice, 1)));
  grpc::ByteBuffer reply;
  ASSERT_TRUE(raw->Read(&reply));
  raw->WritesDone();
  ASSERT_TRUE(raw->Finish().ok());
  v1::SubmitResponse response;
  ASSERT_TRUE(grpc::SerializationTraits<v1::SubmitResponse>::Deserialize(
                  &reply, &response)
                  .ok());
  ASSERT_EQ(response.acks_size(), 2);
  EXPECT_EQ(response.acks(0).outcome(), v1::OUTCOME_ACCEPTED);
  EXPECT_EQ(response.acks(0).held_revision(), 2u);
  EXPECT_EQ(response.acks(1).outcome(), v1::OUTCOME_ACCEPTED);

  aggregator_.reset();
  auto db = OpenDb(dir_.File("db"), DbFootprint::kServer);
  OHFED_ASSERT_OK(db);
  auto stored = GetValue(db->get(), "u/RJ1/2026-03");
  OHFED_ASSERT_OK(stored);
  auto body = ReadUnitBytes("u/RJ1/2026-03", *stored);
  OHFED_ASSERT_OK(body);
  EXPECT_EQ(body->summary, reordered);
  stored = GetValue(db->get(), "u/R1H/2026-03");
  OHFED_ASSERT_OK(stored);
  body = ReadUnitBytes("u/R1H/2026-03", *stored);
  OHFED_ASSERT_OK(body);
  EXPECT_EQ(body->summary, extended.SerializeAsString());
  auto decoded = DecodeUnit("u/R1H/2026-03", *stored);
  OHFED_ASSERT_OK(decoded);
  EXPECT_EQ(decoded->summary.SerializeAsString(), extended.SerializeAsString());
}

// SummaryBytes finds each summary's bytes, skipping other fields of every
// wire type, and gives up (the caller re-serializes) on malformed input.
TEST(SummaryBytesTest, SplitsARequestIntoItsSummaries) {
  const std::string a = "\x12\x03RJ1", b = "\x12\x03R1H";
  const std::string request = Field(1, a) + std::string("\x10\x96\x01", 3) +
                              std::string("\x19", 1) + std::string(8, 'x') +
                              std::string("\x25", 1) + std::string(4, 'y') +
                              Field(1, "") + Field(3, "zz") + Field(1, b);
  EXPECT_EQ(SummaryBytes(request), (std::vector<absl::string_view>{a, "", b}));
  EXPECT_TRUE(SummaryBytes("").empty());
  EXPECT_TRUE(SummaryBytes(Field(1, a).substr(0, 4)).empty());  // truncated
  EXPECT_TRUE(SummaryBytes("\x0b").empty());                    // a group
  EXPECT_TRUE(SummaryBytes("\x0a\xff\xff").empty());  // unterminated length
}

TEST_F(IngestTest, QueryServiceAnswersFromTheStore) {
  std::vector<v1::SubmitResponse> responses;
  ASSERT_TRUE(Send({Batch({Summary("RJ1", "2026-03", 1, {{kImm, 10}}),
                           Summary("R1H", "2026-03", 1, {{kImm, 5}})})},
                   &responses)
                  .ok());
  grpc::ClientContext ctx;
  v1::QueryRequest req;
  req.set_scope("national");
  req.set_period("2026-03");
  req.set_measure_prefix(kImm);
  req.add_stats("sum");
  v1::QueryResponse resp;
  grpc::Status s = query_->Query(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  bool found = false;
  for (const v1::Row& row : resp.rows()) {
    if (row.unit() == "national" && row.measure() == kImm &&
        row.stat() == "sum") {
      found = true;
      EXPECT_EQ(row.value(), 15);
      EXPECT_EQ(row.n_units(), 2u);
    }
  }
  EXPECT_TRUE(found);
  // Engine errors map to their gRPC codes.
  grpc::ClientContext bad_ctx;
  req.set_scope("galaxy:far");
  EXPECT_EQ(query_->Query(&bad_ctx, req, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// A batch as agents send it (12 trust-months of every monthly measure, the
// distributions with 5 buckets) is parsed into the first block of its arena:
// with a first block of twice its bytes, every batch took a second block of
// twice that (~2.2x the memory used, per batch in flight).
TEST(BatchArenaTest, ATypicalBatchParsesIntoTheFirstBlock) {
  const std::shared_ptr<const Catalogue> catalogue = Catalogue::Default();
  v1::SubmitRequest request;
  for (int month = 1; month <= 12; ++month) {
    v1::UnitSummary* s = request.add_summaries();
    s->set_trust("RJ1");
    s->set_period(absl::StrFormat("2025-%02d", month));
    s->set_revision(1);
    s->set_catalogue_version(catalogue->version());
    for (const Measure& m : catalogue->measures()) {
      if (m.frequency != Frequency::kMonth || m.type == ValueType::kDerived) {
        continue;
      }
      v1::Cell* c = s->add_cells();
      c->set_measure(m.code);
      c->set_value(month * 3.5);
      if (m.type != ValueType::kDistribution) continue;
      for (int b = 0; b < 5; ++b) {
        v1::Bucket* bucket = c->add_buckets();
        bucket->set_value(1 + b * 7);
        bucket->set_count(1 + b);
      }
    }
  }
  const std::string bytes = request.SerializeAsString();
  const google::protobuf::ArenaOptions options =
      BatchArenaOptions(bytes.size());
  google::protobuf::Arena arena(options);
  auto* parsed =
      google::protobuf::Arena::CreateMessage<v1::SubmitRequest>(&arena);
  ASSERT_TRUE(parsed->ParseFromString(bytes));
  google::protobuf::Arena::CreateMessage<v1::SubmitResponse>(&arena);
  EXPECT_EQ(parsed->summaries_size(), 12);
  EXPECT_EQ(arena.SpaceAllocated(), options.start_block_size)
      << "used " << arena.SpaceUsed() << " of a batch of " << bytes.size()
      << " bytes";
}

}  // namespace
}  // namespace ohfed::aggregator
