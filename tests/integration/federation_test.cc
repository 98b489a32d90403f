// End to end on loopback with the real binaries: agents -> regional
// aggregator -> national aggregator. Every figure is checked against an
// independent computation from the CSV files the agents imported.
//
// Every test has its own federation (daemons, data directories, ports),
// started in SetUp and stopped in TearDown, so the tests run alone and in any
// order. The daemons run on the test clock (OHFED_TEST_NOW, kTestNow): the
// fixed 2025-26 sample data are past whatever the machine's date is.
#include <rocksdb/db.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "agent/sample_data.h"
#include "common/catalogue.h"
#include "common/csv.h"
#include "common/transport.h"
#include "ohfed/v1/ohfed.grpc.pb.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::CommandResult;
using ::ohfed::testing::RunCommand;
using ::ohfed::testing::Subprocess;
using ::testing::HasSubstr;

const Month kFirst = Month::Of(2025, 11);
const Month kLast = Month::Of(2026, 10);
const std::string kRange = "2025-11:2026-10";
// Three London trusts in three ICSs, and one the regional registry lacks.
const std::vector<std::string> kTrusts = {"RJ1", "R1H", "RAL"};
const std::map<std::string, std::string> kIcsOf = {
    {"RJ1", "QKK"}, {"R1H", "QMF"}, {"RAL", "QMJ"}};
const std::string kUnknownTrust = "RAX";

// ---- independent computation from the input files ----

// How a count of a disclosive measure reads below national level with the
// default thresholds (SPEC §7): 0, "*" for 1..7, else to the nearest 5.
std::string Disclosed(int count) {
  if (count == 0) return "0";
  if (count <= 7) return "*";
  return absl::StrCat((count + 2) / 5 * 5);
}

std::vector<std::vector<std::string>> Rows(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  for (absl::string_view line : absl::StrSplit(csv, '\n', absl::SkipEmpty())) {
    rows.push_back(absl::StrSplit(line, ','));
  }
  rows.erase(rows.begin());  // header
  return rows;
}

// Σ WTE in post (not vacant) for a staff group in a month.
double ExpectedWte(const std::string& staffing, const std::string& month,
                   const std::string& group) {
  double sum = 0;
  for (const auto& r : Rows(staffing)) {
    if (r[0] == month && r[1] == group && r[3] != "vacant") {
      sum += std::stod(r[2]);
    }
  }
  return sum;
}

// Number of events of an activity whose date falls in [first, last].
int ExpectedEvents(const std::string& activity, const std::string& name,
                   Month first, Month last) {
  int n = 0;
  for (const auto& r : Rows(activity)) {
    Month m = *Month::Parse(r[0].substr(0, 7));
    if (r[1] == name && first <= m && m <= last) ++n;
  }
  return n;
}

std::string ExpectedAnswer(const std::string& profile, int year,
                           const std::string& question) {
  for (const auto& r : Rows(profile)) {
    if (r[0] == absl::StrCat(year) && r[1] == question) return r[2];
  }
  return "";
}

bool ExpectedYes(const std::string& profile, int year,
                 const std::string& question) {
  return ExpectedAnswer(profile, year, question) == "yes";
}

// ---- the federation ----

struct Agent {
  std::string trust, dir, socket;
  agent::SampleFiles files;
  std::unique_ptr<Subprocess> process;
};

class FederationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::UseTestNowForBinaries();
    root_ = std::make_unique<testing::TempDir>();
    national_port_ = testing::PickUnusedPort();
    regional_port_ = testing::PickUnusedPort();
    national_ = StartAggregator("national", national_port_, {});
    regional_ = StartRegional();
    for (const std::string& t : kTrusts) agents_[t] = StartAgent(t);
    agents_[kUnknownTrust] = StartAgent(kUnknownTrust);
  }

  // Agents first, then the aggregators, then their directories.
  void TearDown() override {
    agents_.clear();
    regional_.reset();
    national_.reset();
    root_.reset();
  }

  // Every agent imports its three files; the known trusts sync and the
  // national view reaches the total of their inputs.
  void ImportAndSyncAll() {
    for (auto& [trust, agent] : agents_) {
      for (const char* kind : {"staffing", "activity", "profile"}) {
        CommandResult r =
            Cli(trust, {"import", kind, agent.dir + "/" + kind + ".csv",
                        "--accept-outliers"});
        ASSERT_EQ(r.exit_code, 0) << trust << " " << kind << ": " << r.err;
      }
    }
    for (const std::string& t : kTrusts) {
      CommandResult r = Cli(t, {"sync", "--timeout", "60"});
      ASSERT_EQ(r.exit_code, 0) << t << ": " << r.err << r.out;
    }
    // National receives what the regional forwards.
    int expected = TotalEvents("immunisation", kFirst, kLast);
    ASSERT_TRUE(Eventually([&] {
      auto rows = Query(national_port_, "national", kRange,
                        "activity.count.immunisation");
      auto it = rows.find("national|activity.count.immunisation|sum");
      return it != rows.end() && it->second == absl::StrCat(expected);
    })) << "national never reached "
        << expected;
  }

  // RJ1 re-imports its activity with ten more March immunisations (subject
  // references XFIX0..9, dated 2026-03-10..19) and syncs; returns national's
  // March sum before the correction.
  double ImportCorrectedMarch() {
    const std::string measure = "activity.count.immunisation";
    const std::string key = "national|" + measure + "|sum";
    double before =
        Value(Query(national_port_, "national", "2026-03", measure), key);
    Agent& rj1 = agents_["RJ1"];
    std::string corrected = rj1.files.activity;
    for (int i = 0; i < 10; ++i) {
      absl::StrAppend(&corrected, "2026-03-1", i, ",immunisation,,XFIX", i,
                      ",\n");
    }
    std::string path = rj1.dir + "/activity_corrected.csv";
    std::ofstream(path) << corrected;
    EXPECT_EQ(
        Cli("RJ1", {"import", "activity", path, "--accept-outliers"}).exit_code,
        0);
    // Re-importing the same corrected file changes nothing further.
    EXPECT_EQ(
        Cli("RJ1", {"import", "activity", path, "--accept-outliers"}).exit_code,
        0);
    CommandResult sync = Cli("RJ1", {"sync", "--timeout", "60"});
    EXPECT_EQ(sync.exit_code, 0) << sync.err;
    EXPECT_TRUE(Eventually([&] {
      auto rows = Query(national_port_, "national", "2026-03", measure);
      return rows.count(key) && Value(rows, key) == before + 10;
    })) << "national never counted the correction";
    return before;
  }

  static std::string Addr(int port) { return absl::StrCat("127.0.0.1:", port); }

  // England without kUnknownTrust.
  std::string RegionalRegistry() {
    std::string text =
        *ReadFile(testing::SourceDir() + "/common/data/england_orgs.csv");
    std::string out;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (absl::StrContains(line, absl::StrCat(",", kUnknownTrust, ",")))
        continue;
      absl::StrAppend(&out, line, "\n");
    }
    return root_->Write("regional_orgs.csv", out);
  }

  // London's aggregator, forwarding to the national one.
  std::unique_ptr<Subprocess> StartRegional() {
    return StartAggregator("regional", regional_port_,
                           {"--upstream", Addr(national_port_), "--registry",
                            RegionalRegistry(), "--covers", "region:Y56"});
  }

  std::unique_ptr<Subprocess> StartAggregator(const std::string& name, int port,
                                              std::vector<std::string> extra) {
    std::vector<std::string> argv = {OHFED_AGGREGATOR_BIN, "--listen",
                                     Addr(port),           "--data",
                                     root_->File(name),    "--insecure"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = Subprocess::Start(argv, root_->File(name + ".log"));
    EXPECT_TRUE(p.ok());
    EXPECT_THAT(testing::WaitForPort(port, absl::Seconds(30)), testing::IsOk());
    return std::move(*p);
  }

  Agent StartAgent(const std::string& trust) {
    Agent a;
    a.trust = trust;
    a.dir = root_->File("agent_" + trust);
    a.socket = a.dir + "/agent.sock";
    std::filesystem::create_directories(a.dir);
    a.files = agent::MakeSampleData(trust, kFirst, kLast);
    EXPECT_THAT(agent::WriteSampleData(a.files, a.dir), testing::IsOk());
    auto p =
        Subprocess::Start({OHFED_AGENT_BIN, "--trust", trust, "--data", a.dir,
                           "--aggregator", Addr(regional_port_), "--insecure"},
                          a.dir + ".log");
    EXPECT_TRUE(p.ok());
    a.process = std::move(*p);
    for (int i = 0; i < 1500 && !std::filesystem::exists(a.socket); ++i) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    EXPECT_TRUE(std::filesystem::exists(a.socket)) << trust;
    return a;
  }

  CommandResult Cli(const std::string& trust, std::vector<std::string> args) {
    std::vector<std::string> argv = {OHFED_CLI_BIN, "--agent",
                                     agents_[trust].socket};
    argv.insert(argv.end(), args.begin(), args.end());
    return *RunCommand(argv, absl::Seconds(90));
  }

  // `ohfed query ... --format csv` -> value by "unit|measure|stat".
  std::map<std::string, std::string> Query(int port, const std::string& scope,
                                           const std::string& period,
                                           const std::string& measures,
                                           const std::string& by = "self") {
    CommandResult r =
        *RunCommand({OHFED_CLI_BIN, "query", "--aggregator", Addr(port),
                     "--insecure", "--scope", scope, "--period", period, "--by",
                     by, "--measures", measures, "--format", "csv"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto table = ParseCsv(r.out, "query output");
    EXPECT_TRUE(table.ok()) << r.out;
    std::map<std::string, std::string> out;
    if (!table.ok()) return out;
    EXPECT_EQ(absl::StrJoin(table->header, ","),
              "scope,unit,unit_name,period,measure,stat,value,n_units");
    for (const CsvRecord& rec : table->records) {
      out[absl::StrCat(rec.fields[1], "|", rec.fields[4], "|", rec.fields[5])] =
          rec.fields[6];
    }
    return out;
  }

  double Value(const std::map<std::string, std::string>& rows,
               const std::string& key) {
    auto it = rows.find(key);
    if (it == rows.end()) {
      ADD_FAILURE() << "no row " << key;
      return -1;
    }
    double v = -1;
    EXPECT_TRUE(absl::SimpleAtod(it->second, &v)) << key << "=" << it->second;
    return v;
  }

  // Polls the national view until `pred` holds (bounded).
  template <typename Pred>
  static bool Eventually(Pred pred) {
    for (int i = 0; i < 600; ++i) {
      if (pred()) return true;
      absl::SleepFor(absl::Milliseconds(100));
    }
    return pred();
  }

  int TotalEvents(const std::string& name, Month first, Month last) {
    int n = 0;
    for (const std::string& t : kTrusts) {
      n += ExpectedEvents(agents_[t].files.activity, name, first, last);
    }
    return n;
  }

  std::unique_ptr<testing::TempDir> root_;
  int national_port_ = 0, regional_port_ = 0;
  std::unique_ptr<Subprocess> national_, regional_;
  std::map<std::string, Agent> agents_;
};

TEST_F(FederationTest, AgentsImportAndSync) { ImportAndSyncAll(); }

TEST_F(FederationTest, UnknownTrustIsRejectedWithReasonAtTheAgent) {
  ASSERT_NO_FATAL_FAILURE(ImportAndSyncAll());
  CommandResult sync = Cli(kUnknownTrust, {"sync", "--timeout", "20"});
  EXPECT_NE(sync.exit_code, 0);
  EXPECT_THAT(sync.err, HasSubstr("reject"));
  CommandResult status = Cli(kUnknownTrust, {"status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("rejected"));
  EXPECT_THAT(status.out, HasSubstr("unknown trust"));
  EXPECT_THAT(status.out, HasSubstr(kUnknownTrust));
  auto rows = Query(national_port_, "trust:" + kUnknownTrust, "2026",
                    "activity.count.immunisation");
  for (const auto& [key, value] : rows) {
    EXPECT_THAT(key, ::testing::Not(HasSubstr("|sum"))) << value;
  }
}

TEST_F(FederationTest, StaffingStocksMatchInputsAtEveryLevel) {
  ASSERT_NO_FATAL_FAILURE(ImportAndSyncAll());
  const std::string month = kLast.ToString();
  // Every trust is in London (Y56): the region's total at the regional
  // aggregator equals England's at the national one.
  for (auto [port, scope] :
       {std::pair<int, std::string>(national_port_, "national"),
        std::pair<int, std::string>(regional_port_, "region:Y56")}) {
    auto rows = Query(port, scope, month, "staffing.wte");
    const std::string unit = port == national_port_ ? "national" : "Y56";
    for (const char* group :
         {"consultant_om", "nurse_specialist_oh", "admin"}) {
      double expected = 0;
      for (const std::string& t : kTrusts) {
        expected += ExpectedWte(agents_[t].files.staffing, month, group);
      }
      std::string m = absl::StrCat("staffing.wte.", group);
      EXPECT_NEAR(Value(rows, unit + "|" + m + "|sum"), expected, 1e-3)
          << group << " on port " << port;
    }
  }
  // A stock over a range takes each unit's latest month, not a sum.
  auto ranged = Query(national_port_, "national", kRange, "staffing.wte.admin");
  double latest = 0;
  for (const std::string& t : kTrusts) {
    latest += ExpectedWte(agents_[t].files.staffing, month, "admin");
  }
  EXPECT_NEAR(Value(ranged, "national|staffing.wte.admin|sum"), latest, 1e-3);
}

TEST_F(FederationTest, ActivityFlowsAndIcsBreakdownMatchInputs) {
  ASSERT_NO_FATAL_FAILURE(ImportAndSyncAll());
  // Below national, activity is answered for standard periods only, and
  // rounded: the calendar year 2026 (January to October here).
  const Month jan = Month::Of(2026, 1);
  auto rows = Query(national_port_, "region:Y56", "2026",
                    "activity.count.pre_placement", "ics");
  int region = 0;
  for (const std::string& t : kTrusts) {
    int expected =
        ExpectedEvents(agents_[t].files.activity, "pre_placement", jan, kLast);
    region += expected;
    EXPECT_EQ(rows[kIcsOf.at(t) + "|activity.count.pre_placement|sum"],
              Disclosed(expected))
        << t << " " << expected;
  }
  auto self = Query(national_port_, "region:Y56", "2026",
                    "activity.count.pre_placement");
  EXPECT_EQ(self["Y56|activity.count.pre_placement|sum"], Disclosed(region));
  // A range is refused below national, naming the rule.
  CommandResult ranged =
      *RunCommand({OHFED_CLI_BIN, "query", "--aggregator", Addr(national_port_),
                   "--insecure", "--scope", "region:Y56", "--period", kRange,
                   "--measures", "activity.count.pre_placement"});
  EXPECT_NE(ranged.exit_code, 0);
  EXPECT_THAT(ranged.err, HasSubstr("not a month, quarter, year or financial "
                                    "year"));
  auto quarter = Query(national_port_, "national", "2026-Q1",
                       "activity.count.tb_screening");
  EXPECT_EQ(
      Value(quarter, "national|activity.count.tb_screening|sum"),
      TotalEvents("tb_screening", Month::Of(2026, 1), Month::Of(2026, 3)));
}

TEST_F(FederationTest, ProfileYesCountsMatchInputs) {
  ASSERT_NO_FATAL_FAILURE(ImportAndSyncAll());
  auto rows =
      Query(national_port_, "national", "2026", "profile.seqohs_accredited");
  int yes = 0;
  for (const std::string& t : kTrusts) {
    yes += ExpectedYes(agents_[t].files.profile, 2026, "seqohs_accredited");
  }
  EXPECT_EQ(Value(rows, "national|profile.seqohs_accredited|yes"), yes);
  EXPECT_EQ(Value(rows, "national|profile.seqohs_accredited|answered"), 3);
}

// Wait times are pooled over trusts and months: event count and the median
// (linear interpolation between closest ranks) of every event's wait.
TEST_F(FederationTest, WaitTimeDistributionMatchesInputs) {
  ASSERT_NO_FATAL_FAILURE(ImportAndSyncAll());
  const std::string activity = "management_referral";
  std::vector<double> waits;
  for (const std::string& t : kTrusts) {
    for (const auto& r : Rows(agents_[t].files.activity)) {
      if (r[1] == activity && r.size() > 4 && !r[4].empty()) {
        waits.push_back(std::stod(r[4]));
      }
    }
  }
  ASSERT_GT(waits.size(), 8u);
  std::sort(waits.begin(), waits.end());
  double rank = 0.5 * (waits.size() - 1);
  size_t lo = static_cast<size_t>(rank);
  double median =
      waits[lo] +
      (rank - lo) * (waits[std::min(lo + 1, waits.size() - 1)] - waits[lo]);
  auto rows = Query(national_port_, "national", kRange,
                    "activity.wait_days." + activity);
  std::string m = "national|activity.wait_days." + activity;
  EXPECT_EQ(Value(rows, m + "|events"), waits.size());
  EXPECT_NEAR(Value(rows, m + "|median"), median, 1e-3);
}

TEST_F(FederationTest, DerivedIndicatorsMatchInputs) {
  ASSERT_NO_FATAL_FAILURE(ImportAndSyncAll());
  const std::string month = kLast.ToString();
  double served = 0, consultants = 0, specialist = 0, nurses = 0;
  int critical_mass = 0;
  for (const std::string& t : kTrusts) {
    const agent::SampleFiles& f = agents_[t].files;
    served +=
        std::stod(ExpectedAnswer(f.profile, kLast.year(), "staff_served"));
    double c = ExpectedWte(f.staffing, month, "consultant_om");
    consultants += c;
    critical_mass += c >= 3 ? 1 : 0;
    specialist += ExpectedWte(f.staffing, month, "nurse_specialist_oh");
    for (const char* g :
         {"nurse_specialist_oh", "nurse_general", "nurse_mental_health"}) {
      nurses += ExpectedWte(f.staffing, month, g);
    }
  }
  ASSERT_GT(consultants, 0);
  auto rows = Query(national_port_, "national", month, "derived");
  EXPECT_NEAR(Value(rows, "national|derived.staff_per_consultant|value"),
              served / consultants, 1e-3 * served / consultants);
  EXPECT_NEAR(Value(rows, "national|derived.consultant_gap_wte|value"),
              served / 17500 - consultants, 1e-3);
  EXPECT_NEAR(Value(rows, "national|derived.specialist_nurse_share|value"),
              specialist / nurses, 1e-3);
  EXPECT_EQ(Value(rows, "national|derived.critical_mass|value"), critical_mass);
}

TEST_F(FederationTest, ResubmittedMonthChangesEveryRollupExactlyOnce) {
  ASSERT_NO_FATAL_FAILURE(ImportAndSyncAll());
  const Month march = Month::Of(2026, 3);
  const std::string measure = "activity.count.immunisation";
  // Below national: a standard period holding March, rounded to 5s (so the
  // correction of 10 moves each total by exactly 10).
  auto before_ics = Query(national_port_, "ics:QKK", "2026-Q1", measure);
  auto before_region = Query(national_port_, "region:Y56", "2026-Q1", measure);
  const std::string key = "national|" + measure + "|sum";
  const double month_before = ImportCorrectedMarch();
  ASSERT_FALSE(HasFailure());
  auto after_month = Query(national_port_, "national", "2026-03", measure);
  EXPECT_EQ(Value(after_month, key), month_before + 10);
  Agent& rj1 = agents_["RJ1"];
  auto after_ics = Query(national_port_, "ics:QKK", "2026-Q1", measure);
  auto after_region = Query(national_port_, "region:Y56", "2026-Q1", measure);
  const int rj1_q1 = ExpectedEvents(rj1.files.activity, "immunisation",
                                    Month::Of(2026, 1), march) +
                     10;
  EXPECT_EQ(after_ics["QKK|" + measure + "|sum"], Disclosed(rj1_q1));
  EXPECT_EQ(Value(after_ics, "QKK|" + measure + "|sum"),
            Value(before_ics, "QKK|" + measure + "|sum") + 10);
  EXPECT_EQ(Value(after_region, "Y56|" + measure + "|sum"),
            Value(before_region, "Y56|" + measure + "|sum") + 10);
  auto february = Query(national_port_, "national", "2026-02", measure);
  EXPECT_EQ(Value(february, key),
            TotalEvents("immunisation", march - 1, march - 1));
}

// The regional aggregator covers London only: it never answers for England
// or another region, and says where to ask.
TEST_F(FederationTest, RegionalRefusesScopesOutsideItsCoverage) {
  for (const char* scope : {"national", "region:Y63"}) {
    CommandResult r = *RunCommand(
        {OHFED_CLI_BIN, "query", "--aggregator", Addr(regional_port_),
         "--insecure", "--scope", scope, "--period", kLast.ToString(),
         "--measures", "completeness"});
    EXPECT_NE(r.exit_code, 0) << scope << ": " << r.out;
    EXPECT_THAT(r.err, HasSubstr("covers region:Y56 only")) << scope;
  }
}

// `ohfed retract` travels like any revision: the regional and the national
// aggregators forget the trust's month and its share of every rollup, and a
// later import brings it back.
TEST_F(FederationTest, RetractedMonthIsForgottenAtEveryLevelAndComesBack) {
  ASSERT_NO_FATAL_FAILURE(ImportAndSyncAll());
  const std::string measure = "activity.count.immunisation";
  const std::string month = "2026-06";
  const Month june = Month::Of(2026, 6);
  const int all = TotalEvents("immunisation", june, june);
  const int rj1 =
      ExpectedEvents(agents_["RJ1"].files.activity, "immunisation", june, june);
  ASSERT_GT(rj1, 0);
  // The month's sum at `scope` as shown ("*" or rounded below national),
  // "absent" when there is no such row.
  auto shown = [&](int port, const std::string& scope,
                   const std::string& unit) {
    auto rows = Query(port, scope, month, measure);
    auto it = rows.find(unit + "|" + measure + "|sum");
    return it == rows.end() ? std::string("absent") : it->second;
  };
  auto sum = [&](int port, const std::string& scope, const std::string& unit) {
    std::string v = shown(port, scope, unit);
    return v == "absent" ? -1.0 : std::stod(v);
  };
  ASSERT_EQ(sum(national_port_, "national", "national"), all);

  CommandResult retract = Cli("RJ1", {"retract", month});
  ASSERT_EQ(retract.exit_code, 0) << retract.err;
  CommandResult sync = Cli("RJ1", {"sync", "--timeout", "60"});
  ASSERT_EQ(sync.exit_code, 0) << sync.err;
  EXPECT_THAT(Cli("RJ1", {"status"}).out, HasSubstr("retracted"));
  EXPECT_TRUE(Eventually([&] {
    return sum(national_port_, "national", "national") == all - rj1;
  })) << "national still counts the retracted month";
  EXPECT_EQ(shown(regional_port_, "region:Y56", "Y56"), Disclosed(all - rj1));
  EXPECT_EQ(shown(national_port_, "region:Y56", "Y56"), Disclosed(all - rj1));
  EXPECT_EQ(shown(national_port_, "ics:QKK", "QKK"), "absent")
      << "RJ1 is the only QKK trust here: its ICS has nothing for June";

  std::string june_rows = "date,activity,client_org,subject_ref,wait_days\n";
  for (const auto& r : Rows(agents_["RJ1"].files.activity)) {
    if (absl::StartsWith(r[0], month)) {
      absl::StrAppend(&june_rows, absl::StrJoin(r, ","), "\n");
    }
  }
  std::string path = agents_["RJ1"].dir + "/activity_june.csv";
  std::ofstream(path) << june_rows;
  CommandResult reimport =
      Cli("RJ1", {"import", "activity", path, "--accept-outliers"});
  ASSERT_EQ(reimport.exit_code, 0) << reimport.err;
  ASSERT_EQ(Cli("RJ1", {"sync", "--timeout", "60"}).exit_code, 0);
  EXPECT_TRUE(Eventually([&] {
    return sum(national_port_, "national", "national") == all;
  })) << "the re-imported month never came back nationally";
  EXPECT_EQ(shown(national_port_, "ics:QKK", "QKK"), Disclosed(rj1));
}

// The agent keeps its outbox through a regional outage and delivers once
// the aggregator is back; the national view gets the change exactly once.
TEST_F(FederationTest, OutboxSurvivesARegionalOutage) {
  ASSERT_NO_FATAL_FAILURE(ImportAndSyncAll());
  const std::string measure = "activity.count.immunisation";
  const std::string key = "national|" + measure + "|sum";
  double before =
      Value(Query(national_port_, "national", "2026-04", measure), key);
  regional_->Signal(SIGTERM);
  ASSERT_THAT(regional_->Wait(absl::Seconds(20)), testing::IsOk());

  Agent& rj1 = agents_["RJ1"];
  std::string more = rj1.dir + "/activity_april.csv";
  std::string april = "date,activity,client_org,subject_ref,wait_days\n";
  for (const auto& r : Rows(rj1.files.activity)) {
    if (absl::StartsWith(r[0], "2026-04"))
      absl::StrAppend(&april, absl::StrJoin(r, ","), "\n");
  }
  for (int i = 0; i < 5; ++i)
    absl::StrAppend(&april, "2026-04-2", i, ",immunisation,,,\n");
  std::ofstream(more) << april;
  ASSERT_EQ(
      Cli("RJ1", {"import", "activity", more, "--accept-outliers"}).exit_code,
      0);
  CommandResult down = Cli("RJ1", {"sync", "--timeout", "2"});
  EXPECT_NE(down.exit_code, 0);
  EXPECT_THAT(down.err, HasSubstr("pending"));
  EXPECT_THAT(Cli("RJ1", {"status"}).out, HasSubstr("pending"));

  regional_ = StartRegional();
  CommandResult up = Cli("RJ1", {"sync", "--timeout", "60"});
  EXPECT_EQ(up.exit_code, 0) << up.err;
  EXPECT_TRUE(Eventually([&] {
    auto rows = Query(national_port_, "national", "2026-04", measure);
    return rows.count(key) && Value(rows, key) == before + 5;
  })) << "national never reached "
      << before + 5;
}

TEST_F(FederationTest, StaleRevisionIsIgnored) {
  ASSERT_NO_FATAL_FAILURE(ImportAndSyncAll());
  auto channel = *MakeChannel(Addr(national_port_), {.insecure = true});
  auto stub = v1::Ingest::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto stream = stub->Submit(&ctx);
  v1::SubmitRequest req;
  v1::UnitSummary* s = req.add_summaries();
  s->set_trust("RJ1");
  s->set_period("2026-03");
  s->set_revision(1);
  s->set_catalogue_version(::ohfed::Catalogue::Default()->version());
  v1::Cell* c = s->add_cells();
  c->set_measure("activity.count.immunisation");
  c->set_value(99999);
  ASSERT_TRUE(stream->Write(req));
  v1::SubmitResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  ASSERT_EQ(resp.acks_size(), 1);
  EXPECT_EQ(resp.acks(0).outcome(), v1::OUTCOME_STALE);
  auto rows = Query(national_port_, "trust:RJ1", "2026-03",
                    "activity.count.immunisation");
  EXPECT_LT(Value(rows, "RJ1|activity.count.immunisation|sum"), 99999);
}

// Scans every key and value of a stopped aggregator's database.
std::string DumpDb(const std::string& dir) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Options options;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(options, dir, &raw);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return "";
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string all;
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    absl::StrAppend(&all, it->key().ToString(), "\n", it->value().ToString(),
                    "\n");
  }
  return all;
}

TEST_F(FederationTest, CleanShutdownAndNoIdentifiersInAggregatorStores) {
  ASSERT_NO_FATAL_FAILURE(ImportAndSyncAll());
  ImportCorrectedMarch();  // subject references XFIX*, dates 2026-03-1*
  ASSERT_FALSE(HasFailure());
  for (auto* p : {&regional_, &national_}) {
    (*p)->Signal(SIGTERM);
    auto code = (*p)->Wait(absl::Seconds(20));
    ASSERT_TRUE(code.ok()) << "aggregator did not stop on SIGTERM";
    EXPECT_EQ(*code, 0);
  }
  for (auto& [trust, agent] : agents_) {
    agent.process->Signal(SIGTERM);
    auto code = agent.process->Wait(absl::Seconds(20));
    ASSERT_TRUE(code.ok()) << trust << " did not stop on SIGTERM";
    EXPECT_EQ(*code, 0) << trust;
  }
  for (const char* name : {"national", "regional"}) {
    std::string dump = DumpDb(root_->File(name));
    EXPECT_THAT(dump, HasSubstr("RJ1"));  // the scan sees data at all
    for (const std::string& t : kTrusts) {
      EXPECT_THAT(dump, ::testing::Not(HasSubstr("P" + t + "-0"))) << name;
      EXPECT_THAT(dump, ::testing::Not(HasSubstr("S" + t + "0"))) << name;
    }
    EXPECT_THAT(dump, ::testing::Not(HasSubstr("XFIX"))) << name;
    EXPECT_THAT(dump, ::testing::Not(HasSubstr("2026-03-1"))) << name;
  }
}

}  // namespace
}  // namespace ohfed
