// Serialized unit summaries handled as bytes (common/summary_wire.h): what
// a regional aggregator forwards without parsing.
#include "common/summary_wire.h"

#include "tests/testing/testing.h"

namespace ohfed {
namespace {

v1::UnitSummary Sample() {
  v1::UnitSummary s;
  s.set_trust("RJ1");
  s.set_period("2026-03");
  s.set_revision(7);
  v1::Cell* c = s.add_cells();
  c->set_measure("activity.count.immunisation");
  c->set_value(12);
  s.set_catalogue_version("2026.1");
  return s;
}

TEST(SummaryWireTest, ReadsTheKeyWithoutTheCells) {
  auto key = ReadSummaryKey(Sample().SerializeAsString());
  OHFED_ASSERT_OK(key);
  EXPECT_EQ(key->trust, "RJ1");
  EXPECT_EQ(key->period, "2026-03");
  EXPECT_EQ(key->revision, 7u);
  // Whatever the order of the fields: the cells first, the trust last.
  v1::UnitSummary cells_only;
  *cells_only.mutable_cells() = Sample().cells();
  v1::UnitSummary trust_only;
  trust_only.set_trust("RAX");
  auto reordered = ReadSummaryKey(cells_only.SerializeAsString() +
                                  trust_only.SerializeAsString());
  OHFED_ASSERT_OK(reordered);
  EXPECT_EQ(reordered->trust, "RAX");
  EXPECT_EQ(reordered->revision, 0u);
}

TEST(SummaryWireTest, RefusesMalformedBytes) {
  std::string bytes = Sample().SerializeAsString();
  auto cut = ReadSummaryKey(bytes.substr(0, bytes.size() - 3));
  EXPECT_EQ(cut.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(cut.status().message(),
              ::testing::HasSubstr("serialized unit summary"));
  EXPECT_THAT(cut.status().message(), ::testing::HasSubstr("is malformed"));
}

// Serialized for an uploader, each named from its fields.
TEST(SummaryWireTest, SerializeSummariesNamesEach) {
  auto out = SerializeSummaries({Sample()});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes, Sample().SerializeAsString());
  EXPECT_EQ(out[0].key.trust, "RJ1");
  EXPECT_EQ(out[0].key.period, "2026-03");
  EXPECT_EQ(out[0].key.revision, 7u);
}

TEST(SummaryWireTest, FirstReceivedAppendedIsTheFieldsValue) {
  v1::UnitSummary s = Sample();
  s.set_first_received_unix_ms(5);  // an earlier value is replaced
  std::string bytes = s.SerializeAsString();
  AppendFirstReceived(1774000000123, &bytes);
  v1::UnitSummary parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  s.set_first_received_unix_ms(1774000000123);
  EXPECT_EQ(parsed.SerializeAsString(), s.SerializeAsString());
}

// A request of serialized summaries is, on the wire, the request built
// with add_summaries, and says what its size is.
TEST(SummaryWireTest, SerializedSummariesAreTheRequestsSummaries) {
  v1::SubmitRequest built;
  v1::SubmitRequest raw;
  for (int rev = 1; rev <= 3; ++rev) {
    v1::UnitSummary s = Sample();
    s.set_revision(rev);
    *built.add_summaries() = s;
    AddSerializedSummary(s.SerializeAsString(), &raw);
  }
  EXPECT_EQ(SerializedSummaryCount(raw), 3);
  EXPECT_EQ(raw.summaries_size(), 0);
  EXPECT_EQ(raw.SerializeAsString(), built.SerializeAsString());
  EXPECT_EQ(raw.ByteSizeLong(), built.ByteSizeLong());
  size_t framed = 0;
  for (const v1::UnitSummary& s : built.summaries()) {
    framed += FramedSummarySize(s.ByteSizeLong());
  }
  EXPECT_EQ(framed, built.ByteSizeLong());
  v1::SubmitRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(raw.SerializeAsString()));
  ASSERT_EQ(parsed.summaries_size(), 3);
  EXPECT_EQ(parsed.summaries(2).revision(), 3u);
}

}  // namespace
}  // namespace ohfed
