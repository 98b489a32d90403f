// The agent store's on-disk format (agent/store_format.h): a data directory
// written by format 0 (tests/agent/fixtures/agent_store_v0, made by that
// release's code) opens with nothing lost, every record, summary, revision
// and mark as that code reported them; the migration is not repeated; a
// newer format is refused; a bad value leaves the directory as it was.
#include "agent/store_format.h"

#include <rocksdb/write_batch.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "agent/importer.h"
#include "agent/local_store.h"
#include "agent/v0_json.h"
#include "common/rocksdb_util.h"
#include "tests/testing/testing.h"

namespace ohfed::agent {
namespace {

std::string FixturePath(const std::string& name) {
  return testing::SourceDir() + "/tests/agent/fixtures/" + name;
}

// The expected facts, without comments.
std::vector<std::string> ExpectedLines() {
  std::ifstream in(FixturePath("agent_store_v0.expected"));
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  return out;
}

int64_t ExpectedClockMs(const std::vector<std::string>& lines) {
  int64_t ms = 0;
  for (const std::string& l : lines) {
    if (absl::StartsWith(l, "clock_unix_ms ")) {
      EXPECT_TRUE(absl::SimpleAtoi(l.substr(14), &ms));
    }
  }
  return ms;
}

// The same facts, in the same form, as the fixture's maker wrote them.
std::vector<std::string> Facts(LocalStore& store, absl::Time now) {
  std::ostringstream out;
  out << "clock_unix_ms " << absl::ToUnixMillis(now) << "\n";
  out << "last_ack_unix_ms " << absl::ToUnixMillis(store.last_ack()) << "\n";
  std::vector<std::string> periods;
  for (const v1::PeriodState& s : store.States()) {
    periods.push_back(s.period());
    out << "state " << s.period() << " " << s.ShortDebugString() << "\n";
    auto summary = store.Summary(s.period());
    out << "summary " << s.period() << " "
        << (summary.ok() ? summary->ShortDebugString()
                         : summary.status().ToString())
        << "\n";
  }
  auto pending = store.Pending(100);
  EXPECT_TRUE(pending.ok());
  for (const v1::UnitSummary& s : *pending) {
    out << "pending " << s.period() << " " << s.revision() << "\n";
  }
  for (const std::string& p : periods) {
    absl::StatusOr<PeriodRecords> r = store.Records(p);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) continue;
    for (const StaffingRow& row : r->staffing) {
      out << absl::StrFormat("staffing %s %s %.17g %s %s\n", p, row.group,
                             row.wte, row.basis, row.post_id);
    }
    for (const ActivityRow& row : r->activity) {
      out << absl::StrFormat("activity %s %s %s %s %s %d\n", p, row.date,
                             row.activity, row.client_org, row.subject_ref,
                             row.wait_days);
    }
    for (const auto& [code, value] : r->profile) {
      out << "profile " << p << " " << code << " " << value << "\n";
    }
    for (const auto& [code, value] : r->manual) {
      out << "manual " << p << " " << code << " " << value << "\n";
    }
  }
  return absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
}

// Every key and value of the database in `dir`.
std::map<std::string, std::string> Contents(const std::string& dir) {
  std::map<std::string, std::string> out;
  auto db = OpenDb(dir, DbFootprint::kSmall);
  EXPECT_TRUE(db.ok()) << db.status();
  if (!db.ok()) return out;
  EXPECT_TRUE(
      ScanPrefix(db->get(), "", [&](absl::string_view k, absl::string_view v) {
        out[std::string(k)] = std::string(v);
        return absl::OkStatus();
      }).ok());
  return out;
}

class StoreFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::copy(FixturePath("agent_store_v0"), db_dir_);
    expected_ = ExpectedLines();
    clock_.Set(absl::FromUnixMillis(ExpectedClockMs(expected_)));
  }
  absl::StatusOr<std::unique_ptr<LocalStore>> Open() {
    return LocalStore::Open({.dir = db_dir_, .trust = "RJ1", .clock = &clock_});
  }

  testing::TempDir dir_;
  const std::string db_dir_ = dir_.path() + "/db";
  std::vector<std::string> expected_;
  FakeClock clock_{absl::UnixEpoch()};
};

TEST_F(StoreFormatTest, FormatZeroDirectoryMigratesWithNothingLost) {
  ASSERT_GT(expected_.size(), 50u);  // the fixture is there
  EXPECT_EQ(Contents(db_dir_).count(std::string(kFormatKey)), 0u);
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Facts(**store, clock_.Now()), expected_);
  store->reset();
  std::map<std::string, std::string> migrated = Contents(db_dir_);
  EXPECT_EQ(migrated[std::string(kFormatKey)], absl::StrCat(kStoreFormat));
  EXPECT_EQ(migrated.count("meta/last_ack_ms"), 0u);
  for (const auto& [key, value] : migrated) {
    EXPECT_FALSE(absl::StrContains(value, "{\"")) << key << " is still JSON";
  }
}

TEST_F(StoreFormatTest, MigrationIsNotRepeatedAndImportsStillMatch) {
  { ASSERT_TRUE(Open().ok()); }
  std::map<std::string, std::string> once = Contents(db_dir_);
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Facts(**store, clock_.Now()), expected_);
  // The raw records kept their canonical bytes: an identical re-import of
  // a held month changes nothing.
  ImportContext ctx{Catalogue::Default().get(), "RJ1", Month::Of(2026, 5)};
  auto p = ParseImport(v1::IMPORT_KIND_STAFFING,
                       "period,staff_group,wte\n2026-04,admin,20\n", ctx);
  ASSERT_TRUE(p.ok() && p->errors.empty());
  auto o = (*store)->ApplyImport(RecordsOf(*p));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->periods_changed.empty());
  EXPECT_EQ(o->rows_unchanged, 1u);
  store->reset();
  EXPECT_EQ(Contents(db_dir_), once);
}

TEST_F(StoreFormatTest, NewerFormatIsRefusedAndLeftAlone) {
  {
    auto db = OpenDb(db_dir_, DbFootprint::kSmall);
    ASSERT_TRUE(db.ok());
    rocksdb::WriteBatch batch;
    batch.Put(std::string(kFormatKey), "3");
    OHFED_ASSERT_OK(WriteSynced(db->get(), &batch));
  }
  std::map<std::string, std::string> before = Contents(db_dir_);
  EXPECT_THAT(Open(),
              testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                "has on-disk format 3, newer than this agent's "
                                "format 2"));
  EXPECT_EQ(Contents(db_dir_), before);
}

// Format 1 differs from 2 only in how activity may be kept (one value a
// month, still read): opening it rewrites nothing but meta/format, and it
// reads as it did.
TEST_F(StoreFormatTest, FormatOneIsMarkedTwoAndReadsTheSame) {
  { ASSERT_TRUE(Open().ok()); }
  {
    auto db = OpenDb(db_dir_, DbFootprint::kSmall);
    ASSERT_TRUE(db.ok());
    rocksdb::WriteBatch batch;
    batch.Put(std::string(kFormatKey), "1");
    OHFED_ASSERT_OK(WriteSynced(db->get(), &batch));
  }
  std::map<std::string, std::string> before = Contents(db_dir_);
  ASSERT_GT(before.count("raw/2026-01/activity"), 0u);  // format 1's value
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Facts(**store, clock_.Now()), expected_);
  store->reset();
  std::map<std::string, std::string> after = Contents(db_dir_);
  EXPECT_EQ(after[std::string(kFormatKey)], "2");
  after[std::string(kFormatKey)] = "1";
  EXPECT_EQ(after, before);
}

TEST_F(StoreFormatTest, ABadFormatZeroValueMigratesNothing) {
  {
    auto db = OpenDb(db_dir_, DbFootprint::kSmall);
    ASSERT_TRUE(db.ok());
    rocksdb::WriteBatch batch;
    batch.Put("raw/2026-04/activity", "[[\"2026-04-01\",\"immunisation\"]]");
    OHFED_ASSERT_OK(WriteSynced(db->get(), &batch));
  }
  std::map<std::string, std::string> before = Contents(db_dir_);
  EXPECT_THAT(Open(), testing::StatusIs(absl::StatusCode::kDataLoss,
                                        "cannot migrate raw/2026-04/activity"));
  // One batch: not a single value was rewritten.
  EXPECT_EQ(Contents(db_dir_), before);
}

// The format 0 reader: what nlohmann::json::dump wrote, escapes included,
// and nothing looser.
TEST(V0JsonTest, ReadsWhatFormatZeroWrote) {
  auto j = v0::ParseJson(
      R"([["2026-01","a\"b\\c\n\u00e9\ud83d\ude00",0.59999999999999998,-1,1795671989367]])");
  ASSERT_TRUE(j.ok()) << j.status();
  const v0::Json& row = j->items.at(0);
  EXPECT_EQ(*v0::AsString(row.items[1]), "a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(*v0::AsDouble(row.items[2]), 0.6);
  EXPECT_EQ(*v0::AsInt(row.items[3]), -1);
  EXPECT_EQ(*v0::AsUint(row.items[4]), 1795671989367u);
  auto marks = v0::ParseJson(R"({"acked":5,"reason":"","rejected":0})");
  ASSERT_TRUE(marks.ok());
  EXPECT_EQ(*v0::AsUint(marks->members.at("acked")), 5u);
  for (const char* bad : {"", "[1,]", "{\"a\":1", "[1] x", "\"\\ud83d\"",
                          "\"a\nb\"", "[\"x\"", "nul"}) {
    EXPECT_THAT(
        v0::ParseJson(bad),
        testing::StatusIs(absl::StatusCode::kDataLoss, "malformed JSON"))
        << bad;
  }
  EXPECT_THAT(v0::AsString(row.items[2]),
              testing::StatusIs(absl::StatusCode::kDataLoss, "a string"));
  EXPECT_THAT(v0::AsInt(row.items[0]),
              testing::StatusIs(absl::StatusCode::kDataLoss, "an integer"));
}

TEST(StoreFormatNewTest, ANewDirectoryStartsAtTheCurrentFormat) {
  testing::TempDir dir;
  { ASSERT_TRUE(LocalStore::Open({.dir = dir.path(), .trust = "RJ1"}).ok()); }
  auto db = OpenDb(dir.path(), DbFootprint::kSmall);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(*StoredFormat(db->get()), kStoreFormat);
}

}  // namespace
}  // namespace ohfed::agent
