// Imports through the real agent: its AgentControl service over a unix
// socket, driven with AgentClient, with an injected clock. Covers what only
// shows at that level: the agent's notion of today, files that would not
// fit a reply, Windows-1252 bytes, outlier warnings' lines, codes typed in
// another case, and cells that must be absent rather than zero.
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "agent/agent.h"
#include "cli/agent_client.h"
#include "common/transport.h"
#include "tests/testing/fake_ingest.h"
#include "tests/testing/testing.h"

namespace ohfed::agent {
namespace {

using ::testing::HasSubstr;

// Mid-June 2026: "tomorrow" is 2026-06-16, still in the current month.
const absl::Time kNow = absl::FromCivil(
    absl::CivilSecond(2026, 6, 15, 12, 0, 0), absl::UTCTimeZone());

class ImportServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AgentOptions o;
    o.trust = "RJ1";
    o.data_dir = dir_.path();
    o.aggregator = sink_.address();
    o.insecure = true;
    o.clock = &clock_;
    o.trim_memory = [this] {
      absl::MutexLock l(&trim_mu_);
      ++trims_;
    };
    o.trim_before_months_bytes = trim_before_months_bytes_;
    auto a = Agent::Start(o);
    ASSERT_TRUE(a.ok()) << a.status();
    agent_ = std::move(*a);
    auto c = AgentClient::Connect(agent_->socket());
    ASSERT_TRUE(c.ok());
    client_ = std::make_unique<AgentClient>(std::move(*c));
  }

  std::map<std::string, v1::Cell> Cells(const std::string& period) {
    std::map<std::string, v1::Cell> out;
    auto s = client_->Summary(period);
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) {
      for (const auto& c : s->cells()) out[c.measure()] = c;
    }
    return out;
  }

  // Trims counted so far, once `n` have been (up to a minute).
  int AwaitTrims(int n) {
    absl::MutexLock l(&trim_mu_);
    auto reached = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(trim_mu_) {
      return trims_ >= n;
    };
    trim_mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(60));
    return trims_;
  }

  uint64_t trim_before_months_bytes_ = ServiceInfo::kTrimBeforeMonthsBytes;
  absl::Mutex trim_mu_;
  int trims_ ABSL_GUARDED_BY(trim_mu_) = 0;
  testing::TempDir dir_;
  FakeClock clock_{kNow};
  testing::IngestServer sink_;
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<AgentClient> client_;
};

TEST_F(ImportServiceTest, TomorrowIsRefusedAsAFutureDate) {
  auto r = client_->Import("activity", "a.csv",
                           "date,activity\n2026-06-15,immunisation\n"
                           "2026-06-16,immunisation\n",
                           false);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->errors_size(), 1);
  EXPECT_EQ(r->errors(0).line(), 3u);
  EXPECT_EQ(r->errors(0).reason(),
            "2026-06-16 is in the future (today is 2026-06-15)");
  EXPECT_EQ(r->rows_imported(), 0u);
  // Next month's staffing and next year's profile, by the same clock.
  r = client_->Import(
      "staffing", "s.csv",
      "period,staff_group,wte\n2026-06,admin,1\n2026-07,admin,1\n", false);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->errors_size(), 1);
  EXPECT_EQ(r->errors(0).reason(),
            "2026-07 is in the future (the current month is 2026-06)");
  r = client_->Import("profile", "p.csv",
                      "year,question,answer\n2027,physio_access,yes\n", false);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->errors_size(), 1);
  EXPECT_EQ(r->errors(0).reason(),
            "2027 is in the future (the current year is 2026)");
}

TEST_F(ImportServiceTest, Windows1252FileIsReportedByLineAndColumn) {
  auto r = client_->Import("staffing", "excel.csv",
                           "period,staff_group,wte,basis,post_id\n"
                           "2026-01,admin,1.0,,P\xA3"
                           "1\n"
                           "2026-01,m\xE9"
                           "decin,1.0,,P2\n",
                           false);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->errors_size(), 2);
  EXPECT_EQ(r->errors(0).line(), 2u);
  EXPECT_EQ(r->errors(0).column(), "post_id");
  EXPECT_EQ(
      r->errors(0).reason(),
      "not UTF-8 (is the file saved as Windows-1252? save it as CSV UTF-8)");
  EXPECT_EQ(r->errors(1).column(), "staff_group");
  // With --skip-invalid nothing malformed reaches the store either.
  r = client_->Import("staffing", "excel.csv",
                      "period,staff_group,wte,basis,post_id\n"
                      "2026-01,admin,1.0,,P\xA3"
                      "1\n2026-01,admin,1.0,,P2\n",
                      true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows_imported(), 1u);
  EXPECT_EQ(r->rows_skipped(), 1u);
}

// A file as large as one import may be, every row wrong twice over.
TEST_F(ImportServiceTest, FileFullOfErrorsGetsItsReport) {
  const std::string header = "period,staff_group,wte,basis,post_id\n";
  const std::string bad = "2026-01,wizard,x,,\n";
  std::string csv = header;
  const size_t rows = (kMaxImportBytes - header.size()) / bad.size();
  csv.reserve(header.size() + rows * bad.size());
  for (size_t i = 0; i < rows; ++i) csv += bad;
  ASSERT_GT(csv.size(), size_t{14} << 20);
  auto r = client_->Import("staffing", "errors.csv", csv, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows_read(), rows);
  EXPECT_EQ(r->errors_size(), 1000);
  EXPECT_EQ(r->errors_total(), 2 * rows);
  EXPECT_EQ(r->rows_imported(), 0u);
}

// The Import RPC, one message, keeps its limit for older clients.
TEST_F(ImportServiceTest, OversizeFileIsToldHowToSplitIt) {
  std::string csv(kMaxImportBytes + 1, '\n');
  EXPECT_THAT(client_->ImportOneMessage("staffing", "big.csv", csv, false),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                "big.csv is 15.0 MiB, more than the 15 MiB one "
                                "import can take: split it by month"));
}

// An activity file of `rows` events over three months (i % 3), with long
// subject references so that it is large for few rows.
std::string BigActivityFile(size_t rows) {
  std::string csv = "date,activity,client_org,subject_ref,wait_days\n";
  const std::string ref(56, 'r');
  for (size_t i = 0; i < rows; ++i) {
    absl::StrAppend(&csv, "2026-0", 1 + i % 3, "-1", i % 10,
                    ",immunisation,RJ1,", ref, i, ",", i % 30, "\n");
  }
  return csv;
}

// Streamed in pieces, a file is not limited by one message: one larger
// than the old limit imports, and its months count every row.
TEST_F(ImportServiceTest, FileLargerThanOneMessageImportsInPieces) {
  const size_t rows = 190002;
  const std::string csv = BigActivityFile(rows);
  ASSERT_GT(csv.size(), static_cast<size_t>(kMaxMessageBytes));
  auto r = client_->Import("activity", "big.csv", csv, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->errors_total(), 0u);
  EXPECT_EQ(r->rows_read(), rows);
  EXPECT_EQ(r->rows_imported(), rows);
  EXPECT_THAT(r->periods_changed(),
              ::testing::ElementsAre("2026-01", "2026-02", "2026-03"));
  EXPECT_EQ(Cells("2026-02")["activity.count.immunisation"].value(), rows / 3);
  EXPECT_EQ(Cells("2026-02")["activity.staff_seen"].value(), rows / 3);
  // The same file again changes nothing.
  r = client_->Import("activity", "big.csv", csv, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows_unchanged(), rows);
  EXPECT_EQ(r->periods_changed_size(), 0);
}

// An import gives memory back once the agent has been quiet a second
// (agent/quiet_trim.h), so that what the answer and a following `ohfed
// show` touch is not kept either: RSS goes back to idle.
TEST_F(ImportServiceTest, ImportTrimsMemoryOnceQuiet) {
  auto r = client_->Import("activity", "a.csv",
                           "date,activity\n2026-06-01,immunisation\n", false);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows_imported(), 1u);
  OHFED_ASSERT_OK(client_->Summary("2026-06"));
  absl::MutexLock l(&trim_mu_);
  EXPECT_TRUE(
      trim_mu_.AwaitWithTimeout(absl::Condition(
                                    +[](int* n) { return *n >= 1; }, &trims_),
                                absl::Seconds(60)));
  EXPECT_EQ(trims_, 1);
}

// A large activity import trims once its file is read, before its months
// are stored (their sort and store then peak without the parse's pages),
// and again once quiet; a small one only once quiet.
class LargeImportTrimTest : public ImportServiceTest {
 protected:
  void SetUp() override {
    trim_before_months_bytes_ = 1 << 20;
    ImportServiceTest::SetUp();
  }
};

TEST_F(LargeImportTrimTest, TrimsBeforeTheMonthsAndOnceQuiet) {
  auto r = client_->Import("activity", "a.csv",
                           "date,activity\n2026-06-01,immunisation\n", false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(AwaitTrims(1), 1);  // under 1 MiB staged: once quiet only
  const size_t rows = 60000;    // about 2 MiB staged
  r = client_->Import("activity", "big.csv", BigActivityFile(rows), false);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows_imported(), rows);
  EXPECT_EQ(AwaitTrims(3), 3);
}

// Every kind streams through the same path as activity (the CLI sends every
// file with ImportFile): a staffing file larger than one message imports,
// as posts of 200 months.
TEST_F(ImportServiceTest, StaffingFileLargerThanOneMessageImportsInPieces) {
  std::string csv = "period,staff_group,wte,basis,post_id\n";
  const std::string id(56, 'p');
  size_t rows = 0;
  for (int m = 0; m < 200; ++m) {
    const std::string month = absl::StrCat(
        2009 + m / 12, "-", absl::Dec(1 + m % 12, absl::kZeroPad2));
    for (int post = 0; post < 1000; ++post, ++rows) {
      absl::StrAppend(&csv, month, ",nurse_general,0.5,employed,", id, post,
                      "\n");
    }
  }
  ASSERT_GT(csv.size(), static_cast<size_t>(kMaxMessageBytes));
  testing::TempDir files;
  auto r = client_->ImportFile("staffing", files.Write("s.csv", csv), "s.csv",
                               false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->errors_total(), 0u);
  EXPECT_EQ(r->rows_read(), rows);
  EXPECT_EQ(r->rows_imported(), rows);
  EXPECT_EQ(r->periods_changed_size(), 200);
  EXPECT_EQ(Cells("2009-01")["staffing.wte.nurse_general"].value(), 500);
  EXPECT_EQ(Cells("2025-08")["staffing.wte.nurse_general"].value(), 500);
}

// The same for a profile file: few answers, made large by a long note in a
// column the import ignores.
TEST_F(ImportServiceTest, ProfileFileLargerThanOneMessageImportsInPieces) {
  std::string csv = "year,question,answer,note\n";
  const std::string note(150 << 10, 'n');
  size_t rows = 0;
  for (int year = 1900; year <= 2026; ++year, ++rows) {
    absl::StrAppend(&csv, year, ",host_type,acute,", note, "\n");
  }
  ASSERT_GT(csv.size(), static_cast<size_t>(kMaxMessageBytes));
  testing::TempDir files;
  auto r =
      client_->ImportFile("profile", files.Write("p.csv", csv), "p.csv", false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->errors_total(), 0u);
  EXPECT_EQ(r->rows_read(), rows);
  EXPECT_EQ(r->rows_imported(), rows);
  EXPECT_EQ(r->periods_changed_size(), static_cast<int>(rows));
  EXPECT_EQ(Cells("1900")["profile.host_type.acute"].value(), 1);
  EXPECT_EQ(Cells("2026")["profile.host_type.acute"].value(), 1);
}

// A bad row far into the file (in a later piece) is named by its line, and
// the import stays all or nothing: what was stored before is untouched.
TEST_F(ImportServiceTest, BadRowInALaterPieceNamesItsLineAndStoresNothing) {
  auto first = client_->Import(
      "activity", "first.csv",
      "date,activity\n2026-02-03,immunisation\n2026-02-04,immunisation\n",
      false);
  ASSERT_TRUE(first.ok()) << first.status();
  std::string csv = BigActivityFile(30000);  // about 3 MiB: 3 pieces
  const size_t line = 30000 + 2;             // after the header and rows
  csv += "2026-01-05,immunisation,RJ1,x,400\n";
  csv += BigActivityFile(1000).substr(csv.find('\n') + 1);
  ASSERT_GT(csv.size(), 2 * AgentClient::kPieceBytes);
  auto r = client_->Import("activity", "late.csv", csv, false);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->errors_size(), 1);
  EXPECT_EQ(r->errors(0).line(), line);
  EXPECT_EQ(r->errors(0).column(), "wait_days");
  EXPECT_THAT(r->errors(0).reason(), HasSubstr("got 400"));
  EXPECT_EQ(r->rows_imported(), 0u);
  EXPECT_EQ(Cells("2026-02")["activity.count.immunisation"].value(), 2);
  EXPECT_TRUE(absl::IsNotFound(client_->Summary("2026-01").status()));
  // With --skip-invalid the rest goes in.
  r = client_->Import("activity", "late.csv", csv, true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows_skipped(), 1u);
  EXPECT_EQ(r->rows_imported(), 31000u);
  EXPECT_EQ(Cells("2026-02")["activity.count.immunisation"].value(),
            10000 + 333);
}

TEST_F(ImportServiceTest, OutlierWarningNamesTheLineAndPeriod) {
  auto r = client_->Import("staffing", "s.csv",
                           "period,staff_group,wte\n2026-01,admin,4\n"
                           "2026-02,admin,5\n2026-03,admin,6\n"
                           "2026-04,manager,1\n2026-04,admin,13\n",
                           false);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->warnings_size(), 2);
  EXPECT_EQ(r->warnings(0).column(), "staffing.wte.admin");
  EXPECT_EQ(r->warnings(0).line(), 6u);
  EXPECT_EQ(r->warnings(0).period(), "2026-04");
  EXPECT_THAT(r->warnings(0).reason(),
              HasSubstr("more than twice the highest"));
  EXPECT_EQ(r->warnings(1).column(), "staffing.wte_basis.employed");
  EXPECT_EQ(r->warnings(1).line(), 5u);  // the first row of that basis
}

TEST_F(ImportServiceTest, StaffSeenIsOmittedWithoutSubjectReferences) {
  ASSERT_TRUE(client_
                  ->Import("activity", "a.csv",
                           "date,activity,subject_ref\n"
                           "2026-03-02,immunisation,\n"
                           "2026-04-02,immunisation,S1\n",
                           false)
                  .ok());
  auto mar = Cells("2026-03");
  EXPECT_EQ(mar["activity.count.immunisation"].value(), 1);
  EXPECT_EQ(mar.count("activity.staff_seen"), 0u);
  EXPECT_EQ(Cells("2026-04")["activity.staff_seen"].value(), 1);
}

TEST_F(ImportServiceTest, CodesIgnoreCaseInImportAndSet) {
  auto r = client_->Import("staffing", "s.csv",
                           "period,staff_group,wte\n2026-01,Nurse_General,2\n",
                           false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->errors_size(), 0);
  EXPECT_EQ(Cells("2026-01")["staffing.wte.nurse_general"].value(), 2);
  OHFED_ASSERT_OK(
      client_->SetValue("2026-02", "Staffing.WTE.Nurse_General", "2.5"));
  EXPECT_EQ(Cells("2026-02")["staffing.wte.nurse_general"].value(), 2.5);
  OHFED_ASSERT_OK(client_->SetValue("2026", "Profile.Host_Type", "Acute"));
  EXPECT_EQ(Cells("2026")["profile.host_type.acute"].value(), 1);
  EXPECT_THAT(
      client_->SetValue("2026-02", "staffing.wte.nurse_general", "0x10"),
      testing::StatusIs(absl::StatusCode::kInvalidArgument,
                        "expected a plain decimal number"));
}

}  // namespace
}  // namespace ohfed::agent
