// Unit records as the store writes them (aggregator/codec.h): the summary
// LZ4-compressed behind a tagged header, and records from before
// compression still read.
#include "aggregator/codec.h"

#include <gtest/gtest.h>

#include <string>

#include "common/catalogue.h"
#include "common/rocksdb_util.h"
#include "common/summary_wire.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::AddDistribution;
using ::ohfed::aggregator::testing::Summary;

// Every monthly measure of the catalogue, distributions with five buckets:
// the summary an agent sends each month.
v1::UnitSummary FullMonth() {
  v1::UnitSummary s = Summary("RJ1", "2026-03", 7, {});
  int i = 0;
  for (const Measure& m : Catalogue::Default()->measures()) {
    if (m.frequency != Frequency::kMonth || m.type == ValueType::kDerived) {
      continue;
    }
    ++i;
    if (m.type == ValueType::kDistribution) {
      AddDistribution(&s, m.code,
                      {{1, 2}, {4 + i % 7, 3}, {15, 1}, {26, 5}, {34, 4}});
    } else {
      v1::Cell* c = s.add_cells();
      c->set_measure(m.code);
      c->set_value(i * 3 % 200);
    }
  }
  return s;
}

std::string LegacyRecord(int64_t first, int64_t last, const std::string& body) {
  std::string out;
  PutBigEndian64(&out, static_cast<uint64_t>(first));
  PutBigEndian64(&out, static_cast<uint64_t>(last));
  return out + body;
}

TEST(UnitRecordTest, RoundTripsCompressedBehindATaggedHeader) {
  const v1::UnitSummary s = FullMonth();
  const std::string record = EncodeUnit({1774000000000, 1774000500000, s});
  ASSERT_GT(record.size(), 25u);
  EXPECT_EQ(record[0], 'L');
  auto bytes = ReadUnitBytes("u/RJ1/2026-03", record);
  OHFED_ASSERT_OK(bytes);
  EXPECT_EQ(bytes->summary, s.SerializeAsString());
  EXPECT_EQ(bytes->first_received_unix_ms, 1774000000000);
  EXPECT_EQ(bytes->last_received_unix_ms, 1774000500000);
  auto decoded = DecodeUnit("u/RJ1/2026-03", record);
  OHFED_ASSERT_OK(decoded);
  EXPECT_EQ(decoded->summary.SerializeAsString(), s.SerializeAsString());
  EXPECT_EQ(decoded->first_received_unix_ms, 1774000000000);
  EXPECT_EQ(decoded->last_received_unix_ms, 1774000500000);
  // Negative times (two's complement) and a retraction's tiny body too.
  v1::UnitSummary retraction = Summary("RJ1", "2026-03", 8, {});
  retraction.set_retracted(true);
  auto tombstone = DecodeUnit("u/RJ1/2026-03", EncodeUnit({-5, 0, retraction}));
  OHFED_ASSERT_OK(tombstone);
  EXPECT_TRUE(tombstone->summary.retracted());
  EXPECT_EQ(tombstone->first_received_unix_ms, -5);
}

// What the commit writes, sync and checksum follows the record's size: a
// month of the whole catalogue goes in well under half its serialization.
TEST(UnitRecordTest, AFullMonthIsStoredInUnderHalfItsSerializedSize) {
  const v1::UnitSummary s = FullMonth();
  const size_t serialized = s.ByteSizeLong();
  ASSERT_GT(serialized, 2000u);
  const size_t stored = EncodeUnit({0, 0, s}).size();
  EXPECT_LT(stored * 2, serialized) << stored << " of " << serialized;
}

// What the commit holds until it writes a body is the compressed bytes, not
// a buffer of LZ4's bound around them: for this full month that bound is
// three times the body (3,577 bytes for 1,197; docs/performance.md, "Census
// pair, twenty-first round"). A body past the thread's kept buffer compresses
// as well.
TEST(UnitRecordTest, ACompressedBodyHoldsNoMoreThanItsBytes) {
  const std::string serialized = FullMonth().SerializeAsString();
  const StoredUnitBody body = CompressUnitBody(serialized);
  ASSERT_GT(body.bytes.size(), 0u);
  EXPECT_EQ(body.size, serialized.size());
  EXPECT_LT(body.bytes.capacity(), body.bytes.size() + 64)
      << body.bytes.size() << " bytes in " << body.bytes.capacity();
  std::string large;
  while (large.size() < (1u << 20)) large += serialized;
  const StoredUnitBody big = CompressUnitBody(large);
  EXPECT_EQ(big.size, large.size());
  EXPECT_LT(big.bytes.capacity(), big.bytes.size() + 64);
  // Both still read back whole, behind a header.
  for (const auto* b : {&body, &big}) {
    const std::string record = EncodeUnitHeader(5, 6, *b) + b->bytes;
    auto bytes = ReadUnitBytes("u/RJ1/2026-03", record);
    OHFED_ASSERT_OK(bytes);
    EXPECT_EQ(bytes->summary, b == &body ? serialized : large);
  }
}

// A regional forwards a stored unit with its first-received time appended
// (common/summary_wire.h): the bytes read back have room for it, so the
// append does not move the whole summary.
TEST(UnitRecordTest, AUnitReadBackHasRoomForItsFirstReceivedTime) {
  const v1::UnitSummary s = FullMonth();
  auto bytes =
      ReadUnitBytes("u/RJ1/2026-03", EncodeUnit({1774000000000, 0, s}));
  OHFED_ASSERT_OK(bytes);
  const char* before = bytes->summary.data();
  AppendFirstReceived(bytes->first_received_unix_ms, &bytes->summary);
  EXPECT_EQ(bytes->summary.data(), before);
  v1::UnitSummary read;
  ASSERT_TRUE(read.ParseFromString(bytes->summary));
  EXPECT_EQ(read.first_received_unix_ms(), 1774000000000);
}

// A data directory from before: 16 bytes of times, then the summary.
TEST(UnitRecordTest, ReadsRecordsFromBeforeCompression) {
  const v1::UnitSummary s = FullMonth();
  const std::string legacy =
      LegacyRecord(1774000000000, 1774000600000, s.SerializeAsString());
  auto bytes = ReadUnitBytes("u/RJ1/2026-03", legacy);
  OHFED_ASSERT_OK(bytes);
  EXPECT_EQ(bytes->summary, s.SerializeAsString());
  EXPECT_EQ(bytes->first_received_unix_ms, 1774000000000);
  auto decoded = DecodeUnit("u/RJ1/2026-03", legacy);
  OHFED_ASSERT_OK(decoded);
  EXPECT_EQ(decoded->summary.SerializeAsString(), s.SerializeAsString());
  EXPECT_EQ(decoded->last_received_unix_ms, 1774000600000);
  // Even one whose first receipt (forwarded by a regional, unchecked)
  // starts with the tag's byte: it names its unit.
  const int64_t odd = static_cast<int64_t>(0x4C00000000000001ull);
  const std::string tagged_legacy =
      LegacyRecord(odd, 1774000600000, s.SerializeAsString());
  ASSERT_EQ(tagged_legacy[0], 'L');
  auto odd_decoded = DecodeUnit("u/RJ1/2026-03", tagged_legacy);
  OHFED_ASSERT_OK(odd_decoded);
  EXPECT_EQ(odd_decoded->first_received_unix_ms, odd);
  EXPECT_EQ(odd_decoded->summary.revision(), 7u);
}

TEST(UnitRecordTest, DamagedRecordsAreDataLossNamingTheKey) {
  const std::string good = EncodeUnit({1, 2, FullMonth()});
  auto expect_corrupt = [](const std::string& value) {
    auto r = DecodeUnit("u/RJ1/2026-03", value);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(r.status().message(), "corrupt unit record 'u/RJ1/2026-03'");
    EXPECT_FALSE(ReadUnitBytes("u/RJ1/2026-03", value).ok());
  };
  expect_corrupt("");
  expect_corrupt(good.substr(0, 10));
  expect_corrupt(good.substr(0, 25));               // no block
  expect_corrupt(good.substr(0, good.size() - 9));  // block cut short
  std::string longer = good;                        // claims a byte more
  longer[24] = static_cast<char>(longer[24] + 1);
  expect_corrupt(longer);
  std::string huge = good;  // claims 2^64: refused before any allocation
  for (int i = 17; i < 25; ++i) huge[i] = '\xff';
  expect_corrupt(huge);
}

}  // namespace
}  // namespace ohfed::aggregator
