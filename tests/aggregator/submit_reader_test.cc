// The ingest's two ways to take a received batch give the same result:
// SubmitReader (cells read from the bytes) and the protobuf parse it
// replaces where it can. Each case ingests the same bytes into two fresh
// stores, one per path, and compares the acks (outcomes and reasons), the
// held revisions, the cells held, the rollups and the bytes written; and
// checks which path took the batch, so that a case meant for the reader is
// not silently parsed (or the reverse).
#include "aggregator/submit_reader.h"

#include <rocksdb/env.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "aggregator/codec.h"
#include "aggregator/ingest_service.h"
#include "aggregator/rejection_log.h"
#include "aggregator/summary_store.h"
#include "common/catalogue.h"
#include "common/clock.h"
#include "common/identity.h"
#include "common/transport.h"
#include "ohfed/v1/ohfed.pb.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::AddDistribution;
using ::ohfed::aggregator::testing::Summary;

const absl::Time kNow = absl::FromCivil(
    absl::CivilSecond(2026, 11, 26, 9, 0, 0), absl::UTCTimeZone());

// Protobuf's wire encoding, to craft what a generated serializer never
// writes (fields out of order, repeated, unknown, of another wire type).
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}
std::string Tag(int field, int wire_type) {
  return Varint(static_cast<uint64_t>(field) << 3 | wire_type);
}
std::string Len(int field, const std::string& payload) {
  return Tag(field, 2) + Varint(payload.size()) + payload;
}
std::string Num(int field, uint64_t v) { return Tag(field, 0) + Varint(v); }
std::string Dbl(int field, double v) {
  std::string out = Tag(field, 1);
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(v));
  for (int i = 0; i < 8; ++i) out += static_cast<char>(bits >> (8 * i));
  return out;
}

std::string Bytes(const v1::UnitSummary& s) { return s.SerializeAsString(); }
std::string Request(const std::vector<std::string>& summaries) {
  std::string out;
  for (const std::string& s : summaries) out += Len(1, s);
  return out;
}

// A month of every monthly measure, as an agent sends it (distributions
// with buckets), or a year of the annual ones.
v1::UnitSummary FullSummary(const std::string& period, int variant) {
  const std::shared_ptr<const Catalogue> catalogue = Catalogue::Default();
  const bool annual = period.size() == 4;
  v1::UnitSummary s = Summary("RJ1", period, 100 + variant, {});
  s.set_catalogue_version(catalogue->version());
  s.set_produced_unix_ms(1700000000000 + variant);
  for (const Measure& m : catalogue->measures()) {
    if ((m.frequency == Frequency::kYear) != annual ||
        m.type == ValueType::kDerived) {
      continue;
    }
    if (m.type == ValueType::kDistribution) {
      AddDistribution(&s, m.code,
                      {{std::ceil(m.min), 1 + variant},
                       {std::ceil(m.min) + 2, 3},
                       {std::floor(m.max), 2}});
      continue;
    }
    v1::Cell* c = s.add_cells();
    c->set_measure(m.code);
    c->set_value(m.is_yes_no() || m.type == ValueType::kCount
                     ? std::floor(std::min(m.max, 1.0 + variant))
                     : std::min(m.max, m.min + 0.5 * (variant + 1)));
  }
  return s;
}

struct Outcome {
  absl::Status status;
  std::string acks;  // the response, serialized
  ReadPath path = ReadPath::kUnparsable;
  std::vector<HeldRevision> held;
  RollupMap rollups;
  std::vector<std::string> cells;  // each held unit's cells, printed
  SummaryStoreStats stats;
};

std::string Print(const HeldUnit& u) {
  std::string out =
      absl::StrCat(u.trust, "/", u.period, " r", u.revision, " ",
                   u.first_received_unix_ms, " ", u.last_received_unix_ms, ":");
  for (const UnitCell& c : u.cells) {
    absl::StrAppend(&out, " ", c.measure(), "=", c.value());
    for (const UnitCell::Bucket& b : c.buckets()) {
      absl::StrAppend(&out, "[", b.value(), "x", b.count(), "]");
    }
  }
  return out;
}

// A new store on an in-memory Env, with its clock and rejection log.
struct MemStore {
  MemStore() {
    SummaryStoreOptions options;
    options.clock = &clock;
    options.env = env.get();
    absl::StatusOr<std::unique_ptr<SummaryStore>> opened =
        SummaryStore::Open("/reader/db", std::move(options));
    EXPECT_TRUE(opened.ok()) << opened.status();
    if (opened.ok()) store = *std::move(opened);
  }
  FakeClock clock{kNow};
  std::unique_ptr<rocksdb::Env> env{
      rocksdb::NewMemEnv(rocksdb::Env::Default())};
  std::unique_ptr<SummaryStore> store;
  RejectionLog rejections{&clock, absl::Seconds(60), 100,
                          [](absl::string_view) {}};
};

Outcome Ingest(const std::vector<std::string>& batches, bool use_reader,
               const std::optional<PeerIdentity>& caller) {
  MemStore m;
  Outcome out;
  for (const std::string& bytes : batches) {
    absl::StatusOr<v1::SubmitResponse> r = IngestReceived(
        *m.store, bytes, kNow, m.rejections, caller, use_reader, &out.path);
    out.status = r.status();
    if (!r.ok()) break;
    out.acks += r->SerializeAsString();
  }
  out.held = m.store->HeldRevisions();
  std::sort(out.held.begin(), out.held.end());
  out.rollups = m.store->Rollups();
  std::shared_ptr<const View> view = m.store->Snapshot();
  for (const HeldRevision& h : out.held) {
    std::string trust, period;
    EXPECT_TRUE(SplitUnitId(h.first, &trust, &period));
    const HeldUnit* u = view->Unit(trust, period);
    out.cells.push_back(u == nullptr ? "retracted" : Print(*u));
  }
  out.stats = m.store->stats();
  return out;
}

// Both paths on `batches`; the reader's path must be `expected`.
Outcome ExpectSame(const std::vector<std::string>& batches, ReadPath expected,
                   const std::optional<PeerIdentity>& caller = std::nullopt) {
  const Outcome parsed = Ingest(batches, /*use_reader=*/false, caller);
  SCOPED_TRACE(parsed.status.ToString());
  const Outcome read = Ingest(batches, /*use_reader=*/true, caller);
  EXPECT_EQ(static_cast<int>(read.path), static_cast<int>(expected));
  EXPECT_NE(parsed.path, ReadPath::kRead);
  EXPECT_EQ(read.status, parsed.status);
  EXPECT_EQ(read.acks, parsed.acks);
  EXPECT_EQ(read.held, parsed.held);
  EXPECT_EQ(read.cells, parsed.cells);
  EXPECT_EQ(read.rollups.size(), parsed.rollups.size());
  for (const auto& [key, cell] : parsed.rollups) {
    auto it = read.rollups.find(key);
    if (it == read.rollups.end()) {
      ADD_FAILURE() << "missing rollup " << key;
      continue;
    }
    EXPECT_EQ(it->second.sum, cell.sum) << key;
    EXPECT_EQ(it->second.n_units, cell.n_units) << key;
    EXPECT_TRUE(it->second.buckets == cell.buckets) << key;
  }
  EXPECT_EQ(read.stats.summaries_accepted, parsed.stats.summaries_accepted);
  EXPECT_EQ(read.stats.summaries_stale, parsed.stats.summaries_stale);
  EXPECT_EQ(read.stats.summaries_rejected, parsed.stats.summaries_rejected);
  EXPECT_EQ(read.stats.bytes_received, parsed.stats.bytes_received);
  EXPECT_EQ(read.stats.bytes_written, parsed.stats.bytes_written);
  return read;
}

// The reasons in a response, for asserting the error texts.
std::vector<std::string> Reasons(const Outcome& o) {
  v1::SubmitResponse r;
  EXPECT_TRUE(r.ParseFromString(o.acks));
  std::vector<std::string> out;
  for (const v1::Ack& a : r.acks()) out.push_back(a.reason());
  return out;
}

TEST(SubmitReaderTest, AgentsBatchesAreReadAndStoredAsParsed) {
  std::vector<std::string> summaries;
  for (int month = 1; month <= 12; ++month) {
    summaries.push_back(
        Bytes(FullSummary(absl::StrFormat("2025-%02d", month), month)));
  }
  summaries.push_back(Bytes(FullSummary("2025", 1)));
  // A second batch replaces some, repeats one (stale) and retracts one.
  v1::UnitSummary retract = Summary("RJ1", "2025-03", 500, {});
  retract.set_retracted(true);
  const Outcome o =
      ExpectSame({Request(summaries), Request({Bytes(FullSummary("2025-01", 7)),
                                               summaries[1], Bytes(retract)})},
                 ReadPath::kRead);
  EXPECT_EQ(o.stats.summaries_accepted, 15);
  EXPECT_EQ(o.stats.summaries_stale, 1);
  EXPECT_EQ(o.held.size(), 13);
}

TEST(SubmitReaderTest, FieldsInAnyOrderRepeatedFieldsLastWins) {
  const std::string bucket = Num(2, 4) + Dbl(1, 3) + Dbl(1, 5);  // 5 wins
  const std::string cell = Dbl(2, 1) + Len(3, bucket) +
                           Len(1, "activity.wait_days.immunisation") +
                           Dbl(2, 4);
  const std::string scalar = Dbl(2, 99) + Len(1, "x.y") +
                             Len(1, "activity.count.immunisation") + Dbl(2, 12);
  const std::string summary = Len(4, cell) + Num(3, 1) + Len(1, "ZZZ") +
                              Len(2, "2026-03") + Len(4, scalar) +
                              Len(6, "2026.1") + Num(3, 7) + Len(1, "RJ1") +
                              Num(5, 123) + Num(7, 0);
  const Outcome o = ExpectSame({Request({summary})}, ReadPath::kRead);
  EXPECT_EQ(o.stats.summaries_accepted, 1);
  ASSERT_EQ(o.cells.size(), 1);
  EXPECT_EQ(o.cells[0],
            absl::StrCat("RJ1/2026-03 r7 ", absl::ToUnixMillis(kNow), " ",
                         absl::ToUnixMillis(kNow),
                         ": activity.count.immunisation=12 "
                         "activity.wait_days.immunisation=4[5x4]"));
}

// Cells and buckets are first taken in the order and form protobuf
// writes them (a bucket of a value and a count below 128 in one step);
// every other form of the same fields is read by the general loop, from
// where that stopped: each is read as the parse reads it, alone and after
// a canonical bucket, and what protobuf refuses is refused.
TEST(SubmitReaderTest, CellsAndBucketsInEveryFormAreReadAsParsed) {
  const std::string code = "activity.wait_days.immunisation";
  const std::string canonical = Dbl(1, 3) + Num(2, 4);  // 3 days x 4
  ASSERT_EQ(Len(3, canonical).size(), 13);
  // A bucket's bytes after its tag, and the events it holds.
  struct Form {
    std::string bytes;
    uint64_t events;
  };
  const std::vector<Form> forms = {
      {Varint(11) + canonical, 4},
      {Varint(11) + Dbl(1, 3) + Num(2, 127), 127},
      {Varint(12) + Dbl(1, 3) + Num(2, 128), 128},          // 2-byte count
      {Varint(12) + Dbl(1, 3) + Num(2, 300), 300},          //
      {Varint(2) + Num(2, 4), 4},                           // value 0
      {Varint(9) + Dbl(1, 5), 0},                           // count 0
      {Varint(0), 0},                                       // both 0
      {Varint(11) + Num(2, 4) + Dbl(1, 7), 4},              // reversed
      {Varint(13) + Dbl(1, 3) + Num(2, 4) + Num(2, 6), 6},  // repeated
      {Varint(20) + Dbl(1, 9) + Dbl(1, 3) + Num(2, 4), 4},  //
      {std::string("\x8b\x00", 2) + canonical, 4},          // padded length
      {Varint(12) + Dbl(1, 3) + Tag(2, 0) + std::string("\x84\x00", 2),
       4},  // padded count
  };
  std::vector<std::string> summaries;
  auto add = [&](const std::string& cell) {  // each its own month
    const int n = static_cast<int>(summaries.size());
    const std::string period =
        absl::StrFormat("%d-%02d", 2015 + n / 12, n % 12 + 1);
    summaries.push_back(Len(1, "RJ1") + Len(2, period) + Num(3, 1) +
                        Len(6, "2026.1") + Len(4, cell));
  };
  for (const Form& f : forms) {
    SCOPED_TRACE(absl::CHexEscape(f.bytes));
    const std::string bucket = Tag(3, 2) + f.bytes;
    // Alone, after a canonical bucket (of another value) and before one.
    const std::string before = Len(3, Dbl(1, 1) + Num(2, 2));
    const std::string after = Len(3, Dbl(1, 30) + Num(2, 5));
    add(Len(1, code) + Dbl(2, f.events) + bucket);
    add(Len(1, code) + Dbl(2, f.events + 2) + before + bucket);
    add(Len(1, code) + Dbl(2, f.events + 7) + before + bucket + after);
    // The cell's own fields in other orders.
    add(Dbl(2, f.events) + Len(1, code) + bucket);
    add(Len(1, code) + bucket + Dbl(2, f.events));
    add(bucket + Len(1, "x") + Dbl(2, 1) + Len(1, code) + Dbl(2, f.events));
    add(Len(1, code) + Dbl(2, 99) + bucket + Dbl(2, f.events));
  }
  ASSERT_LE(summaries.size(), static_cast<size_t>(kMaxSummariesPerBatch));
  const Outcome o = ExpectSame({Request(summaries)}, ReadPath::kRead);
  EXPECT_EQ(o.stats.summaries_accepted, summaries.size());
  EXPECT_EQ(o.stats.summaries_rejected, 0);
  // Cells that follow one another, or not: a summary's other fields
  // between them, and before the first.
  const std::string scalar = Len(1, "activity.count.immunisation") + Dbl(2, 3);
  const std::string dist = Len(1, code) + Dbl(2, 4) + Len(3, canonical);
  const std::string other = Len(1, "activity.count.tb_screening") + Dbl(2, 5);
  const Outcome mixed = ExpectSame(
      {Request({Len(4, scalar) + Len(1, "RJ1") + Len(4, dist) +
                    Len(2, "2026-03") + Num(3, 1) + Len(6, "2026.1"),
                Len(1, "RJ1") + Len(2, "2026-04") + Len(4, scalar) + Num(3, 1) +
                    Len(4, dist) + Len(6, "2026.1") + Len(4, other)})},
      ReadPath::kRead);
  EXPECT_EQ(mixed.stats.summaries_accepted, 2);
  EXPECT_EQ(mixed.stats.summaries_rejected, 0);
  // A canonical bucket cut anywhere, or whose count does not end within
  // it, is refused as the parse refuses it.
  const std::string whole = Len(3, canonical);
  for (size_t cut = 1; cut < whole.size(); ++cut) {
    SCOPED_TRACE(cut);
    ExpectSame(
        {Request({Len(1, "RJ1") + Len(2, "2026-03") + Num(3, 1) +
                  Len(4, Len(1, code) + Dbl(2, 4) + whole.substr(0, cut))})},
        ReadPath::kUnparsable);
  }
  std::string unended = whole;
  unended.back() = '\x84';
  ExpectSame({Request({Len(1, "RJ1") + Len(2, "2026-03") + Num(3, 1) +
                       Len(4, Len(1, code) + Dbl(2, 4) + unended)})},
             ReadPath::kUnparsable);
}

TEST(SubmitReaderTest, UnknownFieldsAreParsedAndDiscardedAsBefore) {
  const std::string cell = Len(1, "activity.count.immunisation") + Dbl(2, 3);
  const std::string good =
      Len(1, "RJ1") + Len(2, "2026-03") + Num(3, 1) + Len(6, "2026.1");
  for (const std::string& bytes : {
           Request({good + Len(4, cell)}) + Num(9, 1),       // request
           Request({good + Len(4, cell) + Len(20, "new")}),  // summary
           Request({good + Len(4, cell + Num(15, 2))}),      // cell
           Request({good + Len(4, Len(1, "activity.wait_days.immunisation") +
                                      Dbl(2, 1) +
                                      Len(3, Dbl(1, 2) + Num(2, 1) +
                                                 Dbl(7, 1)))}),   // bucket
           Request({good + Len(4, cell) + Tag(30, 5) + "abcd"}),  // fixed32
       }) {
    SCOPED_TRACE(absl::CHexEscape(bytes));
    const Outcome o = ExpectSame({bytes}, ReadPath::kParsed);
    EXPECT_EQ(o.stats.summaries_accepted, 1);
  }
}

TEST(SubmitReaderTest, AKnownFieldOfAnotherWireTypeIsParsed) {
  const std::string good = Len(1, "RJ1") + Len(2, "2026-03") + Len(6, "2026.1");
  // revision length-delimited ("packed"): protobuf keeps it as unknown, so
  // the summary has no revision.
  const Outcome packed =
      ExpectSame({Request({good + Len(3, Varint(5))})}, ReadPath::kParsed);
  EXPECT_EQ(Reasons(packed), std::vector<std::string>{"revision must be > 0"});
  // value as a varint, buckets as a fixed64, trust as a varint.
  ExpectSame(
      {Request({good + Num(3, 1) +
                Len(4, Len(1, "activity.count.immunisation") + Num(2, 3))})},
      ReadPath::kParsed);
  ExpectSame({Request({good + Num(3, 1) +
                       Len(4, Len(1, "activity.wait_days.immunisation") +
                                  Dbl(3, 1))})},
             ReadPath::kParsed);
  ExpectSame({Request({Num(1, 5) + good + Num(3, 1)})}, ReadPath::kParsed);
}

TEST(SubmitReaderTest, EmptyStringsMessagesAndBatches) {
  const Outcome none = ExpectSame({""}, ReadPath::kRead);
  EXPECT_TRUE(none.status.ok());
  EXPECT_TRUE(none.acks.empty());
  EXPECT_EQ(Reasons(ExpectSame({Request({""})}, ReadPath::kRead)),
            std::vector<std::string>{"missing trust code"});
  const std::string head = Len(1, "RJ1") + Len(2, "2026-03") + Num(3, 1);
  EXPECT_EQ(
      Reasons(ExpectSame({Request({head + Len(6, "")})}, ReadPath::kRead))[0]
          .substr(0, 26),
      "missing catalogue version:");
  EXPECT_EQ(
      Reasons(ExpectSame({Request({head + Len(6, "2026.1") + Len(4, "")})},
                         ReadPath::kRead)),
      std::vector<std::string>{"unknown measure ''"});
  EXPECT_EQ(Reasons(ExpectSame({Request({Len(1, "") + Len(2, "2026-03")})},
                               ReadPath::kRead)),
            std::vector<std::string>{"missing trust code"});
  // A retraction with no cells is read; one with cells is parsed (the store
  // drops its cells).
  v1::UnitSummary gone = Summary("RJ1", "2026-03", 9, {});
  gone.set_retracted(true);
  ExpectSame(
      {Request({Bytes(FullSummary("2026-03", 1))}), Request({Bytes(gone)})},
      ReadPath::kRead);
  *gone.add_cells() = FullSummary("2026-03", 1).cells(0);
  ExpectSame(
      {Request({Bytes(FullSummary("2026-03", 1))}), Request({Bytes(gone)})},
      ReadPath::kParsed);
}

TEST(SubmitReaderTest, ValidationErrorsAreTheSame) {
  std::vector<std::string> summaries;
  auto add = [&](v1::UnitSummary s) { summaries.push_back(Bytes(s)); };
  add(Summary("RJ1", "2026-03", 1, {{"activity.count.immunisation", 2.5}}));
  add(Summary("RJ1", "2026-03", 1,
              {{"activity.count.immunisation", 2},
               {"activity.count.immunisation", 3}}));
  add(Summary("RJ1", "2026-03", 1, {{"no.such.measure", 2}}));
  add(Summary("RJ1", "2026-03", 1, {{"profile.seqohs_accredited", 1}}));
  add(Summary("RJ1", "2026-04", 1,
              {{"activity.count.immunisation", std::nan("")}}));
  v1::UnitSummary d = Summary("RJ1", "2026-05", 1, {});
  AddDistribution(&d, "activity.wait_days.immunisation",
                  {{3, 1}, {2, 1}, {3, 4}});  // out of order, repeated
  add(d);
  d = Summary("RJ1", "2026-06", 1, {});
  AddDistribution(&d, "activity.wait_days.immunisation", {{2.5, 1}});
  add(d);
  d = Summary("RJ1", "2026-07", 1, {});
  AddDistribution(&d, "activity.wait_days.immunisation",
                  {{1, uint64_t{1} << 63}, {2, uint64_t{1} << 63}});
  add(d);
  d = Summary("RJ1", "2026-08", 1, {});
  AddDistribution(&d, "activity.wait_days.immunisation", {{1, 2}, {4, 1}});
  d.mutable_cells(0)->set_value(5);
  add(d);
  add(Summary("RJ1", "2026-12", 1, {}));
  add(Summary("RJ1", "2026-03", uint64_t{1} << 60, {}));
  const Outcome o = ExpectSame({Request(summaries)}, ReadPath::kRead);
  const std::vector<std::string> reasons = Reasons(o);
  ASSERT_EQ(reasons.size(), summaries.size());
  EXPECT_EQ(reasons[0],
            "value 2.5 is not a whole number for measure "
            "'activity.count.immunisation'");
  EXPECT_EQ(reasons[1], "duplicate measure 'activity.count.immunisation'");
  EXPECT_EQ(reasons[2], "unknown measure 'no.such.measure'");
  EXPECT_EQ(reasons[5],
            "bucket value 3 of measure 'activity.wait_days.immunisation' "
            "appears more than once");
}

TEST(SubmitReaderTest, LimitsAndOversizedFields) {
  const std::string code256(256, 'A'), code257(257, 'A');
  const Outcome long_codes = ExpectSame(
      {Request({Bytes(Summary(code256, "2026-03", 1, {})),
                Bytes(Summary(code257, "2026-03", 1, {})),
                Bytes(Summary("RJ1", "2026-03", 1, {{code257, 1}}))})},
      ReadPath::kRead);
  EXPECT_EQ(Reasons(long_codes)[1], "trust code longer than 256 bytes");
  EXPECT_EQ(Reasons(long_codes)[2], "measure code longer than 256 bytes");
  // The most summaries a batch may hold are read; one more is parsed and
  // refused as before.
  std::vector<std::string> many(kMaxSummariesPerBatch,
                                Bytes(FullSummary("2026-03", 1)));
  ExpectSame({Request(many)}, ReadPath::kRead);
  many.push_back(many.back());
  const Outcome over = ExpectSame({Request(many)}, ReadPath::kParsed);
  EXPECT_EQ(over.status.message(),
            "batch of 257 summaries exceeds the limit of 256");
  // Cells beyond the limit, buckets beyond the measure's range.
  v1::UnitSummary cells = Summary("RJ1", "2026-03", 1, {});
  for (int i = 0; i <= kMaxCellsPerSummary; ++i) {
    v1::Cell* c = cells.add_cells();
    c->set_measure("activity.count.immunisation");
  }
  v1::UnitSummary buckets = Summary("RJ1", "2026-04", 1, {});
  std::vector<std::pair<double, uint64_t>> wide;
  for (int i = 0; i < 5000; ++i) wide.push_back({i, 1});
  AddDistribution(&buckets, "activity.wait_days.immunisation", wide);
  const Outcome big =
      ExpectSame({Request({Bytes(cells), Bytes(buckets)})}, ReadPath::kRead);
  EXPECT_EQ(Reasons(big)[0], "4097 cells exceed the limit of 4096 per summary");
  EXPECT_THAT(Reasons(big)[1], ::testing::HasSubstr("5000 buckets exceed"));
}

TEST(SubmitReaderTest, MalformedBytesAreRefusedAsBefore) {
  const std::string good = Bytes(FullSummary("2026-03", 1));
  for (const std::string& bytes : {
           Request({good}).substr(0, 100),                // truncated
           Request({good}) + "\x0a\xff\xff\xff\xff\x0f",  // length too long
           Request({Len(1, "R\xffJ")}),                   // not UTF-8
           Request({Len(4, Len(1, "activity.\xc3"))}),    // cut UTF-8
           std::string("\x00\x01", 2),                    // field 0
           Request({good}) + "\x0b",                      // group start
       }) {
    SCOPED_TRACE(absl::CHexEscape(bytes));
    const Outcome o = ExpectSame({bytes}, ReadPath::kUnparsable);
    EXPECT_EQ(o.status.message(), "not a valid ohfed.v1.SubmitRequest");
  }
  // Varints protobuf reads in its own way are left to it: a 10-byte
  // revision with bits beyond 64 (protobuf drops them), a 6-byte tag
  // (refused). Padded ones within the limits are read.
  const std::string head = Len(1, "RJ1") + Len(2, "2026-03") + Len(6, "2026.1");
  ExpectSame(
      {Request({head + Tag(3, 0) +
                std::string("\x81\x80\x80\x80\x80\x80\x80\x80\x80\x7f", 10)})},
      ReadPath::kParsed);
  ExpectSame(
      {Request({head + Num(3, 1) + std::string("\x8a\x80\x80\x80\x80\x00", 6) +
                "\x03RJ1"})},
      ReadPath::kUnparsable);
  const Outcome padded = ExpectSame(
      {Request({head + std::string("\x98\x80\x80\x80\x00", 5) +
                std::string("\x81\x80\x80\x80\x80\x80\x80\x80\x80\x00", 10) +
                std::string("\x8a\x80\x80\x80\x00", 5) +
                std::string("\x83\x80\x80\x80\x00", 5) + "RJ1"})},
      ReadPath::kRead);
  EXPECT_EQ(padded.stats.summaries_accepted, 1);
}

// The reader checks ASCII 8 bytes at a time and leaves anything else to
// protobuf's UTF-8 check: a byte that is not UTF-8 anywhere in a string (in
// an 8-byte block or in the tail) refuses the batch as the parse does, and
// valid UTF-8 beyond ASCII, NUL and DEL are read.
TEST(SubmitReaderTest, StringsAreUtf8CheckedAsProtobufDoes) {
  const std::string code = "activity.count.immunisation";  // 27 bytes
  for (size_t at = 0; at < code.size(); ++at) {
    for (const char* bad : {"\xff", "\xc3", "\x80"}) {
      std::string text = code;
      text[at] = bad[0];
      SCOPED_TRACE(absl::CHexEscape(text));
      const std::string cell = Len(1, text) + Dbl(2, 3);
      ExpectSame({Request({Len(1, "RJ1") + Len(2, "2026-03") + Num(3, 1) +
                           Len(6, "2026.1") + Len(4, cell)})},
                 ReadPath::kUnparsable);
    }
  }
  for (const std::string& text :
       {std::string("activity.caf\xc3\xa9.count"), std::string("a\0b\x7f", 4),
        std::string("\xe2\x82\xac"),
        std::string("activity.count.\xf0\x9f\x98\x80")}) {
    SCOPED_TRACE(absl::CHexEscape(text));
    const std::string cell = Len(1, text) + Dbl(2, 3);
    const Outcome o =
        ExpectSame({Request({Len(1, "RJ1") + Len(2, "2026-03") + Num(3, 1) +
                             Len(6, "2026.1") + Len(4, cell)})},
                   ReadPath::kRead);
    EXPECT_EQ(o.stats.summaries_rejected, 1);
  }
}

// A batch read from its bytes keeps only its acks on its arena: one small
// block, where a parsed one needs ~2.9x its bytes (BatchArenaTest).
TEST(SubmitReaderTest, ABatchReadKeepsOnlyItsAcksOnItsArena) {
  std::vector<std::string> summaries;
  for (int month = 1; month <= 12; ++month) {
    summaries.push_back(
        Bytes(FullSummary(absl::StrFormat("2025-%02d", month), month)));
  }
  const std::string bytes = Request(summaries);
  MemStore m;
  ASSERT_NE(m.store, nullptr);
  SubmitReader reader;
  ASSERT_TRUE(reader.Read(bytes));
  const google::protobuf::ArenaOptions arena_options =
      BatchArenaOptions(bytes.size(), /*parsed=*/false);
  google::protobuf::Arena arena(arena_options);
  auto* response =
      google::protobuf::Arena::CreateMessage<v1::SubmitResponse>(&arena);
  std::vector<SummaryStore::Incoming> valid;
  absl::StatusOr<ReadPath> how =
      PrepareReceived(*m.store, bytes, &arena, &reader, kNow, m.rejections,
                      std::nullopt, response, &valid);
  OHFED_ASSERT_OK(how);
  EXPECT_EQ(*how, ReadPath::kRead);
  ASSERT_EQ(valid.size(), 12);
  absl::StatusOr<SummaryStore::Committed> committed =
      m.store->CommitAndWait(valid);
  OHFED_ASSERT_OK(committed);
  FinishBatch(valid, *committed, response);
  EXPECT_EQ(response->acks_size(), 12);
  EXPECT_EQ(arena.SpaceAllocated(), arena_options.start_block_size)
      << "used " << arena.SpaceUsed() << " for a batch of " << bytes.size()
      << " bytes";
}

// What a reader read, printed: each summary's header, bytes and cells.
std::string Printed(const SubmitReader& reader) {
  std::string out;
  for (const SubmitReader::Summary& s : reader.summaries()) {
    absl::StrAppend(&out, absl::CHexEscape(s.header->SerializeAsString()), " ",
                    s.received.size(), "@",
                    absl::CHexEscape(s.received.substr(0, 8)), ":");
    for (const CellView& c : s.cells) {
      absl::StrAppend(&out, " ", c.measure(), "=", c.value());
      for (const UnitCell::Bucket& b : c.buckets()) {
        absl::StrAppend(&out, "[", b.value(), "x", b.count(), "]");
      }
    }
    out += "\n";
  }
  return out;
}

// A reader lent by the pool again reads each batch as a new reader would,
// whatever it read before (a larger batch, a refused one, a smaller one).
TEST(SubmitReaderTest, AReaderLentAgainReadsEachBatchAsANewOne) {
  std::vector<std::string> twelve, two;
  for (int month = 1; month <= 12; ++month) {
    twelve.push_back(
        Bytes(FullSummary(absl::StrFormat("2025-%02d", month), month)));
  }
  two.push_back(Bytes(FullSummary("2026-01", 3)));
  v1::UnitSummary retract = Summary("RJ1", "2025-03", 500, {});
  retract.set_retracted(true);
  two.push_back(Bytes(retract));
  const std::string cell = Len(1, "activity.count.immunisation") + Dbl(2, 3);
  const std::vector<std::string> batches = {
      Request(twelve),
      Request(two),
      Request({Len(1, "RJ1") + Len(4, cell)}),
      Request(twelve) + Num(9, 1),  // not for the reader
      Request({}),
      Request(two),
      Request(twelve)};
  SubmitReaderPool pool(1);
  const SubmitReader* first = nullptr;
  for (const std::string& bytes : batches) {
    SubmitReaderPool::Lease lent = pool.Take();
    if (first == nullptr) first = lent.get();
    EXPECT_EQ(lent.get(), first) << "the pool lends the reader it kept";
    SubmitReader fresh;
    const bool read = fresh.Read(bytes);
    EXPECT_EQ(lent->Read(bytes), read);
    EXPECT_EQ(Printed(*lent), Printed(fresh));
    EXPECT_EQ(lent->summaries().size(), fresh.summaries().size());
  }
  EXPECT_EQ(pool.kept(), 1u);
  SubmitReaderPool::Lease a = pool.Take(), b = pool.Take();
  EXPECT_NE(a.get(), b.get());
  a.reset();
  b.reset();
  EXPECT_EQ(pool.kept(), 1u) << "keeps at most what it was made for";
}

// A reader that grew for an unusually large batch is not kept.
TEST(SubmitReaderTest, AReaderGrownBeyondTheLimitIsNotKept) {
  std::string summary = Len(1, "RJ1") + Len(2, "2026-03") + Num(3, 1);
  const std::string cell = Len(1, "activity.count.immunisation") + Dbl(2, 3);
  for (int i = 0; i < 4000; ++i) summary += Len(4, cell);
  const std::string bytes = Request(std::vector<std::string>(12, summary));
  SubmitReaderPool pool(4);
  {
    SubmitReaderPool::Lease lent = pool.Take();
    ASSERT_TRUE(lent->Read(Request({summary})));
  }
  EXPECT_EQ(pool.kept(), 1u);
  {
    SubmitReaderPool::Lease lent = pool.Take();
    ASSERT_TRUE(lent->Read(bytes));
    EXPECT_GT(lent->kept_bytes(), SubmitReaderPool::kMaxKeptBytes);
  }
  EXPECT_EQ(pool.kept(), 0u);
}

TEST(SubmitReaderTest, FirstReceiptTimesFromTheirSenders) {
  v1::UnitSummary s = FullSummary("2026-03", 1);
  s.set_first_received_unix_ms(1000);
  const std::string bytes = Request({Bytes(s)});
  // Plaintext and a region: honoured, stored as received.
  ExpectSame({bytes}, ReadPath::kRead);
  ExpectSame({bytes}, ReadPath::kRead,
             PeerIdentity{PeerIdentity::Kind::kRegion, "Y56"});
  // A trust's own: cleared, so the record is re-serialized from a parse.
  ExpectSame({bytes}, ReadPath::kParsed,
             PeerIdentity{PeerIdentity::Kind::kTrust, "RJ1"});
  s.clear_first_received_unix_ms();
  ExpectSame({Request({Bytes(s)})}, ReadPath::kRead,
             PeerIdentity{PeerIdentity::Kind::kTrust, "RJ1"});
  // Someone else's trust: refused with the same reason either way.
  ExpectSame({Request({Bytes(s)})}, ReadPath::kRead,
             PeerIdentity{PeerIdentity::Kind::kTrust, "RV5"});
}

}  // namespace
}  // namespace ohfed::aggregator
