#include "tests/chaos/workload.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/sample_data.h"
#include "common/period.h"

namespace ohfed::chaos {
namespace {

// The months the workload touches: ended on the test clock (kTestNow).
constexpr Month kFirst = Month::Of(2026, 1);
constexpr int kMonths = 10;  // 2026-01 .. 2026-10
constexpr char kYear[] = "2026";

// Hand-entered values: (measure, annual, lowest, highest). The activity
// count stays above any month's sample events, which a wait-time
// distribution of the same activity may hold.
struct Settable {
  const char* measure;
  bool annual;
  int lo, hi;
};
constexpr Settable kSettable[] = {
    {"staffing.wte.manager", false, 0, 40},
    {"activity.count.workplace_visit", false, 500, 900},
    {"profile.staff_served", true, 1000, 30000},
};

}  // namespace

void Workload::Start() {
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Workload::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::map<std::string, int> Workload::counts() const {
  absl::MutexLock l(&mu_);
  return counts_;
}

std::map<std::string, uint64_t> Workload::acknowledged() const {
  absl::MutexLock l(&mu_);
  return acknowledged_;
}

void Workload::Acknowledged(const std::string& trust, const std::string& period,
                            uint64_t revision) {
  absl::MutexLock l(&mu_);
  uint64_t& held = acknowledged_[trust + "/" + period];
  held = std::max(held, revision);
}

int Workload::calls_ok() const {
  int n = 0;
  for (const auto& [key, count] : counts()) {
    if (absl::EndsWith(key, " ok")) n += count;
  }
  return n;
}

void Workload::Loop() {
  while (!stop_) {
    std::string key = RunOne();
    {
      absl::MutexLock l(&mu_);
      ++counts_[key];
    }
    // A down agent refuses at once: do not spin on it.
    if (!absl::EndsWith(key, " ok")) absl::SleepFor(absl::Milliseconds(5));
  }
}

std::string Workload::RunOne() {
  const std::vector<AgentSpec>& specs = f_->specs();
  const std::string trust =
      specs[absl::Uniform<size_t>(rng_, 0, specs.size())].trust;
  agent::AgentClient client = f_->Client(trust);
  const int pick = absl::Uniform(rng_, 0, 100);
  const Month month = kFirst + absl::Uniform(rng_, 0, kMonths);
  std::string what;
  absl::Status result;
  if (pick < 60) {
    // An import of 1..4 months of fresh sample data: it replaces those
    // months (profile: that year's answers).
    const Month last =
        std::min(month + absl::Uniform(rng_, 0, 4), kFirst + (kMonths - 1));
    agent::SampleFiles files =
        agent::MakeSampleData(trust, month, last, rng_() | 1);
    const char* kinds[] = {"staffing", "activity", "profile"};
    const int k = pick < 25 ? 0 : pick < 50 ? 1 : 2;
    const std::string& content = k == 0   ? files.staffing
                                 : k == 1 ? files.activity
                                          : files.profile;
    what = absl::StrCat("import ", kinds[k]);
    result =
        client.Import(kinds[k], "chaos.csv", content, false, true).status();
  } else if (pick < 80) {
    const Settable& s = kSettable[absl::Uniform<size_t>(rng_, 0, 3)];
    const std::string period = s.annual ? kYear : month.ToString();
    what = "set";
    auto r = client.SetValue(period, s.measure,
                             absl::StrCat(absl::Uniform(rng_, s.lo, s.hi + 1)));
    if (r.ok()) Acknowledged(trust, period, r->revision());
    result = r.status();
  } else if (pick < 92) {
    const Settable& s = kSettable[absl::Uniform<size_t>(rng_, 0, 3)];
    what = "unset";
    result = client.UnsetValue(s.annual ? kYear : month.ToString(), s.measure)
                 .status();
  } else {
    const std::string period = pick < 98 ? month.ToString() : kYear;
    what = "retract";
    auto r = client.Retract(period);
    if (r.ok()) Acknowledged(trust, period, r->revision());
    result = r.status();
  }
  // Refusals (a retraction of a period without data, an unset of a value
  // never set) are answers, not failures of the agent.
  if (result.ok()) return what + " ok";
  if (absl::IsNotFound(result) || absl::IsInvalidArgument(result) ||
      absl::IsFailedPrecondition(result)) {
    return what + " refused";
  }
  return what + " failed";
}

}  // namespace ohfed::chaos
