// The disclosure audit (SPEC §7, issue 9): for generated data sets with many
// small cells, collect everything a caller of each scope can obtain from the
// real query engine (every month, quarter, year and financial year, every
// breakdown within the scope), then attack every suppressed cell by linear
// programming with GLPK, as sdcTable's attack() does: the smallest and
// largest true value consistent with everything published.
//
// The attacker's model: each trust-month count is a variable >= 0; a
// published count r >= 10 stands for [max(r-2, 8), r+2] (the whole numbers
// that round to it and are not suppressed), 0 for 0, a national figure for
// itself, and a "*" for [1, ∞): the attacker knows the rule (zeros are
// shown) but cannot tell a primary "*" (1..7) from a secondary one (8 or
// more). Treating every "*" as [1, 7] would contradict the secondary cells;
// an attacker who is told which "*" is primary can pin cells no pattern can
// protect while zeros are shown (a "*" total of at most 7 over four "*"
// parts puts each part in [1, 4]). That stronger model is kept as
// Attacker::kKnowsPrimary for exploring: with it seeds 1, 2 and 4 below
// pass too, and seed 3 fails only on such a group. The bounds
// come from the LP relaxation (continuous variables), rounded inwards to
// whole numbers. A suppressed cell left with fewer than 5 possible values
// fails the audit.
#include <glpk.h>

#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/coverage.h"
#include "aggregator/query_engine.h"
#include "tests/aggregator/query_fake_view.h"
#include "tests/testing/sanitizer_run.h"
#include "tests/testing/testing.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::aggregator::testing::FakeView;

constexpr char kImm[] = "activity.count.immunisation";
constexpr char kWait[] = "activity.wait_days.management_referral";
constexpr int kFirstYear = 2025;
constexpr int kYears = 2;
constexpr int kMonths = 12 * kYears;

// Three regions (with only two, a tiny exact national figure less a
// secondary region, known to be at least 8, would pin the other region
// whatever the pattern); ICSs of one to four trusts.
constexpr char kRegistry[] =
    "# version: audit-1\n# effective_from: 2020-01\n"
    "region_code,region_name,ics_code,ics_name,trust_code,trust_name\n"
    "R1,North,A,ICS A,A1,A1\nR1,North,A,ICS A,A2,A2\nR1,North,A,ICS A,A3,A3\n"
    "R1,North,B,ICS B,B1,B1\nR1,North,B,ICS B,B2,B2\n"
    "R1,North,C,ICS C,C1,C1\n"
    "R2,South,D,ICS D,D1,D1\nR2,South,D,ICS D,D2,D2\nR2,South,D,ICS D,D3,D3\n"
    "R2,South,D,ICS D,D4,D4\n"
    "R2,South,E,ICS E,E1,E1\nR2,South,E,ICS E,E2,E2\n"
    "R3,West,F,ICS F,F1,F1\nR3,West,F,ICS F,F2,F2\n"
    "R3,West,G,ICS G,G1,G1\nR3,West,G,ICS G,G2,G2\nR3,West,G,ICS G,G3,G3\n";

std::shared_ptr<const Registry> AuditRegistry() {
  return *Registry::Parse(kRegistry, "audit registry");
}

// Every trust-month: 0 (30%), 1..7 (50%) or 8..40, for both a count and a
// distribution (its event count drawn the same way).
// Only trusts within `held` get their figures (a regional aggregator's
// data); the draws are the same whatever `held` is.
void Populate(FakeView& view, uint32_t seed,
              const Scope& held = Scope::National()) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> kind(0, 1);
  std::uniform_int_distribution<int> small(1, 7), large(8, 40);
  auto draw = [&] {
    double k = kind(rng);
    return k < 0.3 ? 0 : k < 0.8 ? small(rng) : large(rng);
  };
  for (const std::string& trust : view.registry().TrustsIn(Scope::National())) {
    for (int i = 0; i < kMonths; ++i) {
      std::string month = Month::Of(kFirstYear, 1 + i).ToString();
      const double count = draw();
      const int events = draw();
      if (!view.registry().Contains(held, trust)) continue;
      view.Set(trust, month, kImm, count);
      if (events > 0) {
        view.SetBuckets(trust, month, kWait, {{3, uint64_t(events)}});
      }
    }
  }
}

// Every standard period over the data: months, quarters, years, FYs.
std::vector<Period> StandardPeriods() {
  std::vector<std::string> texts;
  for (int y = kFirstYear; y < kFirstYear + kYears; ++y) {
    for (int m = 1; m <= 12; ++m) texts.push_back(Month::Of(y, m).ToString());
    for (int q = 1; q <= 4; ++q) texts.push_back(absl::StrCat(y, "-Q", q));
    texts.push_back(absl::StrCat(y));
  }
  for (int y = kFirstYear - 1; y < kFirstYear + kYears; ++y) {
    texts.push_back(absl::StrCat("FY", y));
  }
  std::vector<Period> out;
  for (const std::string& t : texts) out.push_back(*Period::Parse(t));
  return out;
}

// One published count cell as a caller sees it.
struct Seen {
  Scope unit;
  Period period = Period::OfMonth(Month());
  bool suppressed = false;
  double value = 0;
};
using Key = std::pair<std::string, std::string>;  // unit scope, period

// The rows of `scope` broken down to `by`, for every standard period, as
// cells keyed by (unit, period).
void AddRows(const View& view, const Scope& scope, Scope::Level by,
             const std::string& measure, const std::string& stat,
             const QueryOptions& options, std::map<Key, Seen>& seen) {
  for (const Period& p : StandardPeriods()) {
    v1::QueryRequest req;
    req.set_scope(scope.ToString());
    req.set_period(p.ToString());
    req.set_measure_prefix(measure);
    req.add_stats(stat);
    req.set_by(std::string(LevelName(by)));
    auto resp = RunQuery(view, req, options);
    ASSERT_TRUE(resp.ok()) << resp.status();
    for (const v1::Row& row : resp->rows()) {
      Scope unit = by == Scope::Level::kNational ? Scope::National()
                                                 : Scope{by, row.unit()};
      seen[{unit.ToString(), p.ToString()}] =
          Seen{unit, p, row.suppressed(), row.value()};
    }
  }
}

// Everything `caller` can obtain: its scope broken down to every level at
// or below it (a query of a smaller scope within it answers the same cells:
// SameCellsInEveryView).
std::map<Key, Seen> Collect(const View& view, const Scope& caller,
                            const std::string& measure, const std::string& stat,
                            const QueryOptions& options) {
  std::map<Key, Seen> seen;
  for (auto by : {Scope::Level::kNational, Scope::Level::kRegion,
                  Scope::Level::kIcs, Scope::Level::kTrust}) {
    if (by < caller.level) continue;
    AddRows(view, caller, by == caller.level ? caller.level : by, measure, stat,
            options, seen);
  }
  return seen;
}

// An LP over trust-month counts (GLPK), one row per published cell.
class Attack {
 public:
  explicit Attack(const Registry& reg) : reg_(reg) {
    trusts_ = reg.TrustsIn(Scope::National());
    lp_ = glp_create_prob();
    glp_add_cols(lp_, static_cast<int>(trusts_.size()) * kMonths);
    for (int c = 1; c <= glp_get_num_cols(lp_); ++c) {
      glp_set_col_bnds(lp_, c, GLP_LO, 0, 0);
    }
  }
  ~Attack() { glp_delete_prob(lp_); }

  // lo <= cell <= hi; hi infinite for "no upper bound".
  void Constrain(const Seen& s, double lo, double hi) {
    std::vector<int> cols = Columns(s);
    std::vector<double> ones(cols.size(), 1.0);
    int row = glp_add_rows(lp_, 1);
    int type = std::isinf(hi) ? GLP_LO : lo == hi ? GLP_FX : GLP_DB;
    glp_set_row_bnds(lp_, row, type, lo, std::isinf(hi) ? 0 : hi);
    glp_set_mat_row(lp_, row, static_cast<int>(cols.size()) - 1, cols.data(),
                    ones.data());
  }

  // The whole numbers the cell may take: [ceil(min), floor(max)].
  std::pair<double, double> Range(const Seen& s) {
    for (int c = 1; c <= glp_get_num_cols(lp_); ++c) {
      glp_set_obj_coef(lp_, c, 0);
    }
    std::vector<int> cols = Columns(s);
    for (size_t i = 1; i < cols.size(); ++i) glp_set_obj_coef(lp_, cols[i], 1);
    return {std::ceil(Solve(GLP_MIN) - 1e-6),
            std::floor(Solve(GLP_MAX) + 1e-6)};
  }

 private:
  // GLPK's 1-based column list (element 0 unused) of the cell's
  // trust-months.
  std::vector<int> Columns(const Seen& s) {
    std::vector<int> cols = {0};
    for (size_t t = 0; t < trusts_.size(); ++t) {
      if (!reg_.Contains(s.unit, trusts_[t])) continue;
      for (Month m : s.period.Months()) {
        int i = m - Month::Of(kFirstYear, 1);
        if (i >= 0 && i < kMonths) {
          cols.push_back(static_cast<int>(t) * kMonths + i + 1);
        }
      }
    }
    return cols;
  }

  double Solve(int direction) {
    glp_set_obj_dir(lp_, direction);
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    EXPECT_EQ(glp_simplex(lp_, &parm), 0);
    int status = glp_get_status(lp_);
    if (status == GLP_UNBND) return direction == GLP_MAX ? HUGE_VAL : -HUGE_VAL;
    EXPECT_EQ(status, GLP_OPT) << "the published figures are inconsistent";
    return glp_get_obj_val(lp_);
  }

  const Registry& reg_;
  std::vector<std::string> trusts_;
  glp_prob* lp_;
};

// The true value of a cell, from the data.
double TrueValue(const View& view, const Seen& s, const std::string& measure) {
  double total = 0;
  for (const std::string& trust : view.registry().TrustsIn(s.unit)) {
    for (Month m : s.period.Months()) {
      const HeldUnit* u = view.Unit(trust, m.ToString());
      if (u == nullptr) continue;
      if (const UnitCell* c = u->cells.Find(measure)) total += c->value();
    }
  }
  return total;
}

enum class Attacker { kRuleOnly, kKnowsPrimary };

struct AuditResult {
  int suppressed = 0;
  std::vector<std::string> exposed;  // one line per cell pinned too narrowly
};

AuditResult Audit(const View& view, const Scope& caller,
                  const std::string& measure, const std::string& stat,
                  const QueryOptions& options,
                  Attacker model = Attacker::kRuleOnly) {
  std::map<Key, Seen> seen = Collect(view, caller, measure, stat, options);
  Attack attack(view.registry());
  for (const auto& [key, s] : seen) {
    double truth = TrueValue(view, s, measure);
    if (s.unit.level == Scope::Level::kNational) {
      attack.Constrain(s, s.value, s.value);
    } else if (s.suppressed) {
      if (model == Attacker::kRuleOnly) {
        attack.Constrain(s, 1, HUGE_VAL);
      } else {
        bool primary = truth >= 1 && truth <= 7;
        attack.Constrain(s, primary ? 1 : 8, primary ? 7 : HUGE_VAL);
      }
    } else if (s.value == 0) {
      attack.Constrain(s, 0, 0);
    } else {
      attack.Constrain(s, std::max(s.value - 2, 8.0), s.value + 2);
    }
  }
  AuditResult result;
  for (const auto& [key, s] : seen) {
    if (!s.suppressed) continue;
    ++result.suppressed;
    auto [lo, hi] = attack.Range(s);
    if (hi - lo + 1 < 5) {
      result.exposed.push_back(absl::StrCat(
          key.first, " ", key.second, " true ", TrueValue(view, s, measure),
          " pinned to [", lo, ", ", hi, "]"));
    }
  }
  return result;
}

std::vector<Scope> Callers(const Registry& reg) {
  return {Scope::National(),          *Scope::Parse("region:R1"),
          *Scope::Parse("region:R2"), *Scope::Parse("ics:A"),
          *Scope::Parse("ics:D"),     *Scope::Parse("trust:A1")};
}

class DisclosureAuditTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  DisclosureAuditTest() : view_(AuditRegistry()) {}
  // Each seed takes minutes under a sanitizer: one seed covers the code.
  void SetUp() override {
    const std::string run = ::ohfed::testing::SanitizerRun();
    if (!run.empty() && GetParam() != kSanitizerSeed) {
      GTEST_SKIP() << "OHFED_SANITIZE=" << run << ": only seed "
                   << kSanitizerSeed << " runs under a sanitizer";
    }
    Populate(view_, GetParam());
  }
  static constexpr uint32_t kSanitizerSeed = 1;
  FakeView view_;
};

TEST_P(DisclosureAuditTest, NoSuppressedCountIsPinnedForAnyCaller) {
  for (const Scope& caller : Callers(view_.registry())) {
    for (auto [measure, stat] :
         {std::pair{kImm, "sum"}, std::pair{kWait, "events"}}) {
      SCOPED_TRACE(caller.ToString() + " " + measure);
      AuditResult r = Audit(view_, caller, measure, stat, QueryOptions());
      EXPECT_GT(r.suppressed, 0) << "the data should have small cells";
      EXPECT_THAT(r.exposed, ::testing::IsEmpty());
    }
  }
}

// The same audit catches a weak pattern: primary suppression alone leaves
// cells that parents and siblings give away.
TEST_P(DisclosureAuditTest, CatchesPrimarySuppressionAlone) {
  QueryOptions weak;
  weak.disclosure.secondary = false;
  for (const Scope& caller : Callers(view_.registry())) {
    // ICS and trust callers see too few cells for every data set to give
    // one away.
    if (caller.level > Scope::Level::kRegion) continue;
    SCOPED_TRACE(caller.ToString());
    AuditResult r = Audit(view_, caller, kImm, "sum", weak);
    EXPECT_THAT(r.exposed, ::testing::Not(::testing::IsEmpty()));
  }
}

// A cell reads the same whichever scope and breakdown it is asked through,
// so re-scoped queries reveal nothing new.
TEST_P(DisclosureAuditTest, SameCellsInEveryView) {
  const Registry& reg = view_.registry();
  for (auto [measure, stat] :
       {std::pair{kImm, "sum"}, std::pair{kWait, "events"}}) {
    std::map<Key, Seen> national;
    for (auto by :
         {Scope::Level::kRegion, Scope::Level::kIcs, Scope::Level::kTrust}) {
      AddRows(view_, Scope::National(), by, measure, stat, {}, national);
    }
    for (auto level :
         {Scope::Level::kRegion, Scope::Level::kIcs, Scope::Level::kTrust}) {
      for (const Scope& scope : reg.Children(Scope::National(), level)) {
        for (auto by : {Scope::Level::kRegion, Scope::Level::kIcs,
                        Scope::Level::kTrust}) {
          if (by < scope.level) continue;
          std::map<Key, Seen> local;
          AddRows(view_, scope, by, measure, stat, {}, local);
          for (const auto& [key, s] : local) {
            SCOPED_TRACE(scope.ToString() + " " + key.first + " " + key.second);
            ASSERT_TRUE(national.contains(key));
            EXPECT_EQ(national[key].suppressed, s.suppressed);
            EXPECT_EQ(national[key].value, s.value);
          }
        }
      }
    }
  }
}

// A regional or ICS aggregator holds only its coverage's data and protects
// that subtree alone. It hides every cell the national aggregator hides
// there, apart from complements the national one adds against the exact
// national figure, and shows the same figure wherever both publish; its own
// callers (no wider scope reaches it: Authz) pin nothing.
TEST_P(DisclosureAuditTest, LowerAggregatorsAgreeWithTheNationalOne) {
  const Registry& reg = view_.registry();
  for (const char* coverage_text :
       {"region:R1", "region:R2", "region:R3", "ics:A", "ics:D"}) {
    const Scope coverage = *Scope::Parse(coverage_text);
    FakeView lower(AuditRegistry());
    Populate(lower, GetParam(), coverage);
    QueryOptions options;
    options.coverage = *Coverage::Parse(coverage_text, reg);
    for (auto [measure, stat] :
         {std::pair{kImm, "sum"}, std::pair{kWait, "events"}}) {
      SCOPED_TRACE(std::string(coverage_text) + " " + measure);
      std::map<Key, Seen> national, local;
      for (auto by :
           {Scope::Level::kRegion, Scope::Level::kIcs, Scope::Level::kTrust}) {
        if (by < coverage.level) continue;
        AddRows(view_, coverage, by, measure, stat, {}, national);
        AddRows(lower, coverage, by, measure, stat, options, local);
      }
      for (const auto& [key, s] : local) {
        SCOPED_TRACE(key.first + " " + key.second);
        ASSERT_TRUE(national.contains(key));
        const Seen& n = national[key];
        if (s.suppressed) EXPECT_TRUE(n.suppressed);
        if (!s.suppressed && !n.suppressed) EXPECT_EQ(n.value, s.value);
      }
      for (const Scope& caller :
           {coverage, reg.Children(coverage, Scope::Level::kIcs).front()}) {
        SCOPED_TRACE("caller " + caller.ToString());
        AuditResult r = Audit(lower, caller, measure, stat, options);
        EXPECT_THAT(r.exposed, ::testing::IsEmpty());
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, DisclosureAuditTest,
                         ::testing::Values(1u, 2u, 3u, 4u));

}  // namespace
}  // namespace ohfed::aggregator
