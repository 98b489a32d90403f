// The agent's local store through its facade (agent/local_store.h), for the
// test files of its rooms: a store on a fresh directory with a fake clock,
// imports through the real importer, and readers of what it holds.
#ifndef OHFED_TESTS_AGENT_LOCAL_STORE_FIXTURE_H_
#define OHFED_TESTS_AGENT_LOCAL_STORE_FIXTURE_H_

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/importer.h"
#include "agent/local_store.h"
#include "tests/testing/testing.h"

namespace ohfed::agent {

inline const absl::Time kNow = absl::FromCivil(
    absl::CivilSecond(2026, 6, 15, 12, 0, 0), absl::UTCTimeZone());

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    auto s = LocalStore::Open(
        {.dir = dir_.path(), .trust = "RJ1", .clock = &clock_, .env = env_});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }

  ImportOutcome Import(v1::ImportKind kind, const std::string& csv,
                       bool accept_outliers = false) {
    ImportContext ctx{Catalogue::Default().get(), "RJ1", Month::Of(2026, 6)};
    absl::StatusOr<ParsedImport> p = ParseImport(kind, csv, ctx);
    EXPECT_TRUE(p.ok() && p->errors.empty());
    absl::StatusOr<ImportOutcome> o =
        store_->ApplyImport(RecordsOf(*p), accept_outliers);
    EXPECT_TRUE(o.ok()) << o.status();
    return o.ok() ? *o : ImportOutcome();
  }

  std::map<std::string, v1::Cell> Cells(const std::string& period) {
    std::map<std::string, v1::Cell> out;
    auto s = store_->Summary(period);
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) {
      for (const auto& c : s->cells()) out[c.measure()] = c;
    }
    return out;
  }

  uint64_t Revision(const std::string& period) {
    auto s = store_->Summary(period);
    return s.ok() ? s->revision() : 0;
  }

  // The period's state; a default PeriodState if it is not listed.
  v1::PeriodState State(const std::string& period) {
    for (v1::PeriodState& s : store_->States()) {
      if (s.period() == period) return s;
    }
    return v1::PeriodState();
  }

  std::vector<std::string> PendingPeriods() {
    std::vector<std::string> out;
    auto pending = store_->Pending(100);
    EXPECT_TRUE(pending.ok());
    if (pending.ok()) {
      for (const auto& s : *pending) out.push_back(s.period());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  testing::TempDir dir_;
  FakeClock clock_{kNow};
  rocksdb::Env* env_ = nullptr;  // the default; a fault seam for some tests
  std::unique_ptr<LocalStore> store_;
};

inline const char kStaffing[] =
    "period,staff_group,wte,basis,post_id\n"
    "2026-01,nurse_general,1.0,employed,N1\n"
    "2026-01,nurse_general,0.6,bank,N2\n"
    "2026-01,nurse_general,0.4,vacant,N3\n"
    "2026-01,admin,3.5,,\n"
    "2026-02,nurse_general,1.0,employed,N1\n";

inline v1::Ack MakeAck(const std::string& period, uint64_t rev,
                       v1::Outcome outcome, const std::string& reason = "") {
  v1::Ack a;
  a.set_trust("RJ1");
  a.set_period(period);
  a.set_revision(rev);
  a.set_outcome(outcome);
  a.set_reason(reason);
  return a;
}

}  // namespace ohfed::agent

#endif  // OHFED_TESTS_AGENT_LOCAL_STORE_FIXTURE_H_
