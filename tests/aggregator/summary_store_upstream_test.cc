// The SummaryStore as the forwarder's UpstreamQueue, over a real RocksDB:
// what is pending upstream follows commits and replies, survives a reopen,
// and a data directory written before the store owned these keys opens
// with the same state.
#include <rocksdb/db.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "aggregator/codec.h"
#include "aggregator/summary_store.h"
#include "aggregator/upstream_ledger.h"
#include "common/rocksdb_util.h"
#include "common/summary_wire.h"
#include "tests/aggregator/test_summaries.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::Summary;
using ::ohfed::testing::TempDir;

const char kImm[] = "activity.count.immunisation";

UpstreamReply Holds(const std::string& trust, const std::string& period,
                    uint64_t revision) {
  return UpstreamReply{.trust = trust, .period = period, .revision = revision};
}

UpstreamReply Refuses(const std::string& trust, const std::string& period,
                      uint64_t revision, const std::string& reason) {
  return UpstreamReply{.trust = trust,
                       .period = period,
                       .revision = revision,
                       .refused = true,
                       .reason = reason};
}

class UpstreamQueueTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    SummaryStoreOptions options;
    options.clock = &clock_;
    options.write_mostly = OHFED_STORE_WRITE_MOSTLY;
    auto s = SummaryStore::Open(dir_.path(), options);
    OHFED_ASSERT_OK(s);
    store_ = std::move(*s);
  }

  void Commit(std::vector<v1::UnitSummary> summaries) {
    OHFED_ASSERT_OK(store_->Commit(summaries));
  }

  // "trust/period@revision" of everything pending, in order.
  std::vector<std::string> Pending() {
    std::vector<std::string> out;
    auto pending = store_->PendingUpstream(100, 1 << 20, {});
    EXPECT_THAT(pending, ::ohfed::testing::IsOk());
    if (!pending.ok()) return out;
    for (const v1::UnitSummary& s : *pending) {
      out.push_back(
          absl::StrCat(s.trust(), "/", s.period(), "@", s.revision()));
    }
    return out;
  }

  TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1774000000)};
  std::unique_ptr<SummaryStore> store_;
};

TEST_F(UpstreamQueueTest, PendingFollowsCommitsAndReplies) {
  EXPECT_TRUE(Pending().empty());
  Commit({Summary("RJ1", "2026-03", 2, {{kImm, 1}}),
          Summary("RAX", "2026-03", 1, {{kImm, 1}}),
          Summary("RJ1", "2026-02", 1, {{kImm, 1}})});
  EXPECT_THAT(Pending(),
              ::testing::ElementsAre("RAX/2026-03@1", "RJ1/2026-02@1",
                                     "RJ1/2026-03@2"));
  EXPECT_EQ(store_->PendingUpstreamCount(), 3u);

  // An ack of an older revision leaves the held one pending.
  OHFED_ASSERT_OK(store_->RecordUpstream(
      {Holds("RJ1", "2026-03", 1), Holds("RJ1", "2026-02", 1),
       Refuses("RAX", "2026-03", 1, "unknown trust 'RAX'")}));
  EXPECT_THAT(Pending(), ::testing::ElementsAre("RJ1/2026-03@2"));
  EXPECT_EQ(store_->UpstreamRefusalOf("RAX", "2026-03"), "unknown trust 'RAX'");
  EXPECT_EQ(store_->RefusedUpstreamCount(), 1u);
  ASSERT_EQ(store_->RefusedUpstream("RAX").size(), 1u);
  EXPECT_EQ(store_->RefusedUpstream("RAX")[0].revision, 1u);
  // Completeness sees the refusal through the store's own views.
  EXPECT_EQ(store_->Read([](const View& v) {
    return v.UpstreamReason("RAX", "2026-03");
  }),
            "unknown trust 'RAX'");

  // A new revision is pending again and the old refusal no longer counts.
  Commit({Summary("RAX", "2026-03", 2, {{kImm, 2}})});
  EXPECT_THAT(Pending(),
              ::testing::ElementsAre("RAX/2026-03@2", "RJ1/2026-03@2"));
  EXPECT_EQ(store_->UpstreamRefusalOf("RAX", "2026-03"), "");
  EXPECT_EQ(store_->RefusedUpstreamCount(), 0u);
  EXPECT_EQ(store_->UpstreamRecordOf("RAX", "2026-03").rejected_revision, 1u);
}

TEST_F(UpstreamQueueTest, PendingIsBoundedByCountAndBytes) {
  Commit({Summary("RJ1", "2026-01", 1, {{kImm, 1}}),
          Summary("RJ1", "2026-02", 1, {{kImm, 1}}),
          Summary("RJ1", "2026-03", 1, {{kImm, 1}})});
  auto two = store_->PendingUpstream(2, 1 << 20, {});
  OHFED_ASSERT_OK(two);
  EXPECT_EQ(two->size(), 2u);
  // The first is returned whatever its size; no more than fit after it.
  auto one = store_->PendingUpstream(10, 1, {});
  OHFED_ASSERT_OK(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].period(), "2026-01");
  const size_t size = (*one)[0].ByteSizeLong();
  auto fits = store_->PendingUpstream(10, 2 * size, {});
  OHFED_ASSERT_OK(fits);
  EXPECT_EQ(fits->size(), 2u);
}

// What is forwarded is the summary as it arrived here, stamped with its
// first receipt: the stored bytes, not parsed and serialized again (here
// with the trust after the cells, which a serialization would put first).
TEST_F(UpstreamQueueTest, PendingSerializedIsTheSummaryAsReceived) {
  v1::UnitSummary s = Summary("RJ1", "2026-01", 3, {{kImm, 4}});
  v1::UnitSummary without_trust = s;
  without_trust.clear_trust();
  v1::UnitSummary trust_only;
  trust_only.set_trust("RJ1");
  const std::string received =
      without_trust.SerializeAsString() + trust_only.SerializeAsString();
  ASSERT_NE(received, s.SerializeAsString());
  SummaryStore::Incoming in{&s, /*forwarded=*/false, received};
  OHFED_ASSERT_OK(store_->CommitReceived({&in, 1}));
  clock_.Advance(absl::Hours(1));  // the first receipt is the commit's time

  auto sent = store_->PendingUpstreamSerialized(10, 1 << 20, {});
  OHFED_ASSERT_OK(sent);
  ASSERT_EQ(sent->size(), 1u);
  std::string expected = received;
  AppendFirstReceived(absl::ToUnixMillis(absl::FromUnixSeconds(1774000000)),
                      &expected);
  EXPECT_EQ((*sent)[0].bytes, expected);
  // Named as the key reads, so the uploader need not read the bytes again.
  EXPECT_EQ((*sent)[0].key.trust, "RJ1");
  EXPECT_EQ((*sent)[0].key.period, "2026-01");
  EXPECT_EQ((*sent)[0].key.revision, 3u);
  // It says the same as the parsed summary the queue hands out.
  auto parsed = store_->PendingUpstream(10, 1 << 20, {});
  OHFED_ASSERT_OK(parsed);
  ASSERT_EQ(parsed->size(), 1u);
  v1::UnitSummary from_bytes;
  ASSERT_TRUE(from_bytes.ParseFromString((*sent)[0].bytes));
  EXPECT_EQ(from_bytes.SerializeAsString(), (*parsed)[0].SerializeAsString());
  // Bounded and skipping as PendingUpstream.
  Commit({Summary("RJ1", "2026-02", 1, {{kImm, 1}})});
  auto one = store_->PendingUpstreamSerialized(10, 1, {});
  OHFED_ASSERT_OK(one);
  EXPECT_EQ(one->size(), 1u);
  auto rest = store_->PendingUpstreamSerialized(10, 1 << 20, {"RJ1/2026-01"});
  OHFED_ASSERT_OK(rest);
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].key.period, "2026-02");
  EXPECT_EQ(ReadSummaryKey((*rest)[0].bytes)->period, "2026-02");
}

// The pending units are read in one walk over the unit keys: neighbours
// (a census) and units far apart among held ones upstream already has (a
// new month after years held), around the ones in flight; each read is
// the unit named, with its bytes.
TEST_F(UpstreamQueueTest, PendingSerializedReadsNeighboursAndFarApart) {
  std::vector<v1::UnitSummary> held;
  for (int m = 0; m < 60; ++m) {
    held.push_back(
        Summary("RJ1", absl::StrFormat("%04d-%02d", 2021 + m / 12, 1 + m % 12),
                1, {{kImm, m}}));
  }
  Commit(held);
  // Upstream holds all but a run of neighbours and two far apart.
  const std::set<int> kept = {3, 4, 5, 6, 30, 59};
  std::vector<UpstreamReply> acks;
  for (int m = 0; m < 60; ++m) {
    if (!kept.contains(m)) acks.push_back(Holds("RJ1", held[m].period(), 1));
  }
  OHFED_ASSERT_OK(store_->RecordUpstream(acks));
  auto sent = store_->PendingUpstreamSerialized(
      10, 1 << 20, {absl::StrCat("RJ1/", held[5].period())});
  OHFED_ASSERT_OK(sent);
  std::vector<std::string> periods;
  for (const SerializedSummary& s : *sent) {
    periods.push_back(s.key.period);
    v1::UnitSummary parsed;
    ASSERT_TRUE(parsed.ParseFromString(s.bytes));
    EXPECT_EQ(parsed.period(), s.key.period);
    ASSERT_EQ(parsed.cells_size(), 1);
  }
  EXPECT_THAT(periods, ::testing::ElementsAre("2021-04", "2021-05", "2021-07",
                                              "2023-07", "2025-12"));
}

// What is in flight upstream is left out, and the next ones come instead:
// the forwarder's next batch while earlier ones await their acks.
TEST_F(UpstreamQueueTest, PendingSkipsTheUnitsInFlight) {
  Commit({Summary("RJ1", "2026-01", 1, {{kImm, 1}}),
          Summary("RJ1", "2026-02", 1, {{kImm, 1}}),
          Summary("RJ1", "2026-03", 1, {{kImm, 1}})});
  auto rest =
      store_->PendingUpstream(2, 1 << 20, {"RJ1/2026-01", "RAX/2026-01"});
  OHFED_ASSERT_OK(rest);
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ((*rest)[0].period(), "2026-02");
  EXPECT_EQ((*rest)[1].period(), "2026-03");
  // Still pending: only an ack clears a unit.
  EXPECT_EQ(store_->PendingUpstreamCount(), 3u);
}

TEST_F(UpstreamQueueTest, RepliesSurviveReopen) {
  Commit({Summary("RJ1", "2026-03", 3, {{kImm, 1}}),
          Summary("RAX", "2026-03", 1, {{kImm, 1}}),
          Summary("RRK", "2026-03", 1, {{kImm, 1}})});
  OHFED_ASSERT_OK(store_->RecordUpstream(
      {Holds("RJ1", "2026-03", 3),
       Refuses("RAX", "2026-03", 1, "unknown trust 'RAX'")}));
  Reopen();
  EXPECT_THAT(Pending(), ::testing::ElementsAre("RRK/2026-03@1"));
  EXPECT_EQ(store_->UpstreamRefusalOf("RAX", "2026-03"), "unknown trust 'RAX'");
  EXPECT_EQ(store_->UpstreamRecordOf("RJ1", "2026-03").acked_revision, 3u);
}

// The "f/" records as the forwarder wrote them before the store owned them
// (acked revision, refused revision, both 8 bytes big-endian, then the
// reason): a data directory from that release opens with the same pending
// and refused units.
TEST_F(UpstreamQueueTest, OpensForwardRecordsWrittenByTheForwarder) {
  store_.reset();
  {
    auto db = OpenDb(dir_.path(), DbFootprint::kServer);
    OHFED_ASSERT_OK(db);
    auto put_unit = [&](const std::string& trust, const std::string& period,
                        uint64_t revision) {
      UnitRecord r;
      r.first_received_unix_ms = 1774000000000;
      r.last_received_unix_ms = 1774000000000;
      r.summary = Summary(trust, period, revision, {{kImm, 1}});
      ASSERT_TRUE((*db)
                      ->Put(rocksdb::WriteOptions(),
                            absl::StrCat("u/", trust, "/", period),
                            EncodeUnit(r))
                      .ok());
    };
    put_unit("RJ1", "2026-03", 3);  // acked at 3: done
    put_unit("RJ1", "2026-04", 2);  // acked at 1: pending
    put_unit("RAX", "2026-03", 4);  // refused at 4: not pending
    put_unit("RRK", "2026-03", 1);  // no record: pending
    auto put_forward = [&](const std::string& id, const std::string& value) {
      ASSERT_TRUE((*db)->Put(rocksdb::WriteOptions(), "f/" + id, value).ok());
    };
    const std::string zero(7, '\0');
    put_forward("RJ1/2026-03", zero + "\x03" + zero + '\0');
    put_forward("RJ1/2026-04", zero + "\x01" + zero + '\0');
    put_forward("RAX/2026-03", zero + '\0' + zero + "\x04" + "no such trust");
    ASSERT_TRUE((*db)->Close().ok());
  }
  Reopen();
  EXPECT_THAT(Pending(),
              ::testing::ElementsAre("RJ1/2026-04@2", "RRK/2026-03@1"));
  EXPECT_EQ(store_->UpstreamRefusalOf("RAX", "2026-03"), "no such trust");
  EXPECT_EQ(store_->RefusedUpstreamCount(), 1u);
  EXPECT_EQ(store_->UpstreamRecordOf("RJ1", "2026-03").acked_revision, 3u);
  // And what the store writes now reads back the same way.
  OHFED_ASSERT_OK(store_->RecordUpstream({Holds("RJ1", "2026-04", 2)}));
  EXPECT_THAT(Pending(), ::testing::ElementsAre("RRK/2026-03@1"));
}

// Unit records from before they were compressed (16 bytes of receipt
// times, then the summary as it arrived) open, answer commits as held, and
// go upstream as the bytes they hold, beside records written now.
TEST_F(UpstreamQueueTest, OpensAndForwardsUnitRecordsFromBeforeCompression) {
  const int64_t first = 1773000000000;
  const v1::UnitSummary old_unit = Summary("RJ1", "2026-03", 3, {{kImm, 4}});
  store_.reset();
  {
    auto db = OpenDb(dir_.path(), DbFootprint::kServer);
    OHFED_ASSERT_OK(db);
    std::string legacy;
    PutBigEndian64(&legacy, static_cast<uint64_t>(first));
    PutBigEndian64(&legacy, static_cast<uint64_t>(first + 5));
    legacy += old_unit.SerializeAsString();
    ASSERT_TRUE(
        (*db)->Put(rocksdb::WriteOptions(), "u/RJ1/2026-03", legacy).ok());
    ASSERT_TRUE((*db)->Close().ok());
  }
  Reopen();
  EXPECT_EQ(store_->HeldRevisionOf("RJ1", "2026-03"), 3u);
  auto stale = store_->Commit({Summary("RJ1", "2026-03", 2, {{kImm, 9}})});
  OHFED_ASSERT_OK(stale);
  EXPECT_EQ(*stale, std::vector<v1::Outcome>{v1::OUTCOME_STALE});
  Commit({Summary("RJ1", "2026-04", 1, {{kImm, 5}})});
  auto sent = store_->PendingUpstreamSerialized(10, 1 << 20, {});
  OHFED_ASSERT_OK(sent);
  ASSERT_EQ(sent->size(), 2u);
  std::string expected = old_unit.SerializeAsString();
  AppendFirstReceived(first, &expected);
  EXPECT_EQ((*sent)[0].bytes, expected);
  EXPECT_EQ((*sent)[0].key.period, "2026-03");
  v1::UnitSummary now_written;
  ASSERT_TRUE(now_written.ParseFromString((*sent)[1].bytes));
  EXPECT_EQ(now_written.period(), "2026-04");
  EXPECT_EQ(now_written.cells(0).value(), 5);
}

// The ledger tracks which trusts have a refused held revision as replies,
// commits and loads change it, so RefusalReason (asked for every row of a
// completeness answer) skips its lock and lookups for the others, and
// refused_count is that tally.
TEST(UpstreamLedgerTest, TracksTheTrustsWithRefusedUnits) {
  UpstreamLedger ledger;
  UpstreamRecords records;
  records[UnitId("T1", "2026-01")] = {.rejected_revision = 5, .reason = "bad"};
  records[UnitId("T3", "2026-01")] = {.rejected_revision = 9, .reason = "old"};
  ledger.Load({{UnitId("T1", "2026-01"), 5},
               {UnitId("T2", "2026-01"), 3},
               {UnitId("T3", "2026-01"), 4}},
              records);
  EXPECT_TRUE(ledger.AnyRefused("T1"));
  EXPECT_FALSE(ledger.AnyRefused("T2"));
  EXPECT_FALSE(ledger.AnyRefused("T3"));  // refused a revision not held
  EXPECT_EQ(ledger.RefusalReason("T1", "2026-01"), "bad");
  EXPECT_EQ(ledger.RefusalReason("T1", "2026-02"), "");
  EXPECT_EQ(ledger.refused_count(), 1u);

  // A newer revision of the refused unit is not refused (yet).
  ledger.OnCommit({{UnitId("T1", "2026-01"), 6}});
  EXPECT_FALSE(ledger.AnyRefused("T1"));
  EXPECT_EQ(ledger.RefusalReason("T1", "2026-01"), "");
  EXPECT_EQ(ledger.refused_count(), 0u);

  UpstreamRecords refusal;
  refusal[UnitId("T2", "2026-01")] = {.rejected_revision = 3, .reason = "no"};
  refusal[UnitId("T1", "2026-01")] = {.rejected_revision = 6, .reason = "x"};
  ledger.Install(refusal);
  EXPECT_TRUE(ledger.AnyRefused("T1"));
  EXPECT_TRUE(ledger.AnyRefused("T2"));
  EXPECT_EQ(ledger.RefusalReason("T2", "2026-01"), "no");
  EXPECT_EQ(ledger.refused_count(), 2u);

  UpstreamRecords accepted;
  accepted[UnitId("T2", "2026-01")] = {.acked_revision = 3};
  ledger.Install(accepted);
  EXPECT_FALSE(ledger.AnyRefused("T2"));
  EXPECT_EQ(ledger.RefusalReason("T2", "2026-01"), "");
  EXPECT_EQ(ledger.refused_count(), 1u);

  ledger.Load({}, {});
  EXPECT_FALSE(ledger.AnyRefused("T1"));
  EXPECT_EQ(ledger.RefusalReason("T1", "2026-01"), "");
  EXPECT_EQ(ledger.refused_count(), 0u);
}

}  // namespace
}  // namespace ohfed::aggregator
