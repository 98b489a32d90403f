#include "agent/sample_data.h"

#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ohfed::agent {
namespace {

// Mean WTE per staff group in the survey's Table 1.
constexpr std::pair<const char*, double> kGroups[] = {
    {"consultant_om", 0.83},
    {"other_doctor", 0.60},
    {"trainee", 0.46},
    {"nurse_specialist_oh", 4.02},
    {"nurse_general", 3.08},
    {"nurse_mental_health", 0.38},
    {"technician_hca", 0.89},
    {"physio_ot", 1.06},
    {"psychologist_counsellor", 1.83},
    {"manager", 0.91},
    {"admin", 4.84},
    {"other", 0.88}};

// Mean monthly events per 10,000 staff served.
constexpr std::pair<const char*, double> kActivities[] = {
    {"pre_placement", 60},        {"immunisation", 90},
    {"tb_screening", 12},         {"management_referral", 25},
    {"self_referral", 15},        {"health_surveillance", 20},
    {"counselling_session", 30},  {"physio_session", 25},
    {"workplace_visit", 3},       {"inoculation_injury", 4},
    {"covid_risk_assessment", 5}, {"covid_test", 10},
    {"covid_vaccination", 20},    {"long_covid_clinic", 2},
    {"ppe_fit_test", 8}};

constexpr const char* kHostTypes[] = {
    "acute", "acute", "acute", "community", "mental_health", "ambulance"};
constexpr const char* kTopics[] = {"risk_assessment", "outbreak_management",
                                   "track_trace", "swab_testing"};
constexpr const char* kLevels[] = {"strategic", "coordination", "policy",
                                   "indirect", "none"};

// FNV-1a: the same trust gives the same data in every run (absl::Hash is
// salted per process).
uint64_t StableHash(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

class Generator {
 public:
  Generator(const std::string& trust, uint64_t seed)
      : trust_(trust), rng_(seed ? seed : StableHash(trust)) {
    staff_served_ = 2500 + Uniform(0, 15000);
    scale_ = staff_served_ / 10000.0;
  }

  std::string Staffing(Month first, Month last) {
    std::string out = "period,staff_group,wte,basis,post_id\n";
    for (Month m = first; m <= last; m = m + 1) {
      int post = 0;
      for (auto [group, mean] : kGroups) {
        double target = mean * scale_ * (0.6 + Uniform(0, 80) / 100.0);
        while (target > 0.05) {
          double wte = std::min(1.0, std::max(0.1, Round1(target)));
          const char* basis = Chance(8)    ? "vacant"
                              : Chance(8)  ? "locum"
                              : Chance(10) ? "bank"
                                           : "employed";
          absl::StrAppendFormat(&out, "%s,%s,%.1f,%s,P%s-%03d\n", m.ToString(),
                                group, wte, basis, trust_, ++post);
          target -= wte;
        }
      }
    }
    return out;
  }

  std::string Activity(Month first, Month last) {
    std::string out = "date,activity,client_org,subject_ref,wait_days\n";
    for (Month m = first; m <= last; m = m + 1) {
      int days = DaysIn(m);
      for (auto [activity, per10k] : kActivities) {
        std::poisson_distribution<int> events(per10k * scale_);
        int n = events(rng_);
        bool referral = absl::string_view(activity).find("referral") !=
                        absl::string_view::npos;
        for (int i = 0; i < n; ++i) {
          std::string wait = referral ? absl::StrCat(Uniform(0, 40)) : "";
          absl::StrAppendFormat(&out, "%s-%02d,%s,,S%s%05d,%s\n", m.ToString(),
                                Uniform(1, days), activity, trust_,
                                Uniform(1, 4000), wait);
        }
      }
    }
    return out;
  }

  std::string Profile(Month first, Month last) {
    std::string out = "year,question,answer\n";
    for (int y = first.year(); y <= last.year(); ++y) {
      auto row = [&](absl::string_view q, absl::string_view a) {
        absl::StrAppend(&out, y, ",", q, ",", a, "\n");
      };
      row("host_type", kHostTypes[Uniform(0, 5)]);
      row("reporting_line", Chance(92) ? "hr" : "medical_director");
      row("staff_served", absl::StrCat(staff_served_));
      row("external_contracts", YesNo(87));
      row("seqohs_accredited", YesNo(70));
      row("physio_access", YesNo(80));
      row("counselling_access", YesNo(85));
      row("supports_oh_training", YesNo(76));
      row("hosts_specialty_trainees", YesNo(35));
      row("pandemic_staff_increase", YesNo(77));
      row("covid_committee_member", YesNo(63));
      for (const char* topic : kTopics) {
        for (const char* level : kLevels) {
          row(absl::StrCat("covid.", topic, ".", level, ".host"), YesNo(40));
          row(absl::StrCat("covid.", topic, ".", level, ".other"), YesNo(10));
        }
      }
    }
    return out;
  }

 private:
  int Uniform(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  bool Chance(int percent) { return Uniform(1, 100) <= percent; }
  const char* YesNo(int percent) { return Chance(percent) ? "yes" : "no"; }
  static double Round1(double x) {
    return static_cast<int>(x * 10 + 0.5) / 10.0;
  }
  static int DaysIn(Month m) {
    return static_cast<int>(absl::ToInt64Hours((m + 1).Start() - m.Start()) /
                            24);
  }

  std::string trust_;
  std::mt19937_64 rng_;
  int staff_served_ = 0;
  double scale_ = 1;
};

}  // namespace

SampleFiles MakeSampleData(const std::string& trust, Month first, Month last,
                           uint64_t seed) {
  Generator g(trust, seed);
  SampleFiles f;
  f.staffing = g.Staffing(first, last);
  f.activity = g.Activity(first, last);
  f.profile = g.Profile(first, last);
  return f;
}

absl::Status WriteSampleData(const SampleFiles& files, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return absl::UnavailableError(
        absl::StrCat("cannot create ", dir, ": ", ec.message()));
  for (auto [name, text] : {std::pair{"staffing.csv", &files.staffing},
                            {"activity.csv", &files.activity},
                            {"profile.csv", &files.profile}}) {
    std::string path = absl::StrCat(dir, "/", name);
    std::ofstream out(path, std::ios::binary);
    out << *text;
    if (!out)
      return absl::UnavailableError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

}  // namespace ohfed::agent
