// The aggregator store the query fuzz targets ask (header-only): the five
// trusts of the query tests' registry (tests/aggregator/query_fake_view.h),
// each with staffing, activity counts, waiting-time distributions and
// profile answers for a run of months, made durable through the real
// SummaryStore in an in-memory RocksDB environment. Built once per process
// and only read, so every input sees the same data.
#ifndef OHFED_TESTS_FUZZ_QUERY_STORE_H_
#define OHFED_TESTS_FUZZ_QUERY_STORE_H_

#include <rocksdb/env.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "aggregator/summary_store.h"
#include "common/clock.h"
#include "tests/aggregator/query_fake_view.h"
#include "tests/fuzz/fuzz_check.h"

namespace ohfed::fuzz {

inline const absl::Time kQueryNow = absl::FromCivil(
    absl::CivilSecond(2026, 11, 26, 9, 0, 0), absl::UTCTimeZone());

inline v1::Cell ScalarCell(const std::string& measure, double value) {
  v1::Cell c;
  c.set_measure(measure);
  c.set_value(value);
  return c;
}

// Trust i (0..4) reports month m (0-based from 2025-07) unless i + m is a
// multiple of 7, so that some units are missing.
inline std::vector<v1::UnitSummary> QuerySummaries() {
  std::vector<v1::UnitSummary> out;
  for (int i = 0; i < 5; ++i) {
    const std::string trust = absl::StrFormat("T%d", i + 1);
    for (int m = 0; m < 16; ++m) {
      if ((i + m) % 7 == 0) continue;
      const Month month = Month::Of(2025, 7) + m;
      v1::UnitSummary s;
      s.set_trust(trust);
      s.set_period(month.ToString());
      s.set_revision(1 + m);
      s.set_catalogue_version("2026.1");
      *s.add_cells() = ScalarCell("staffing.wte.consultant_om", 0.5 * (i + 1));
      *s.add_cells() =
          ScalarCell("staffing.wte.nurse_specialist_oh", 2 + m % 3);
      *s.add_cells() = ScalarCell("activity.count.immunisation", 3 * i + m);
      *s.add_cells() = ScalarCell("activity.count.pre_placement", i * m);
      v1::Cell* waits = s.add_cells();
      waits->set_measure("activity.wait_days.immunisation");
      uint64_t events = 0;
      for (int b = 0; b <= i; ++b) {
        v1::Bucket* bucket = waits->add_buckets();
        bucket->set_value(b * 4 + m % 5);
        bucket->set_count(1 + b + i);
        events += bucket->count();
      }
      waits->set_value(static_cast<double>(events));
      s.set_first_received_unix_ms(absl::ToUnixMillis(
          (month + 1).Start() + absl::Hours(24 * (3 + 5 * i))));
      out.push_back(std::move(s));
    }
    for (int year : {2025, 2026}) {
      v1::UnitSummary s;
      s.set_trust(trust);
      s.set_period(absl::StrCat(year));
      s.set_revision(100 + year);
      s.set_catalogue_version("2026.1");
      *s.add_cells() = ScalarCell(
          "profile.covid.risk_assessment.coordination.host", (i + year) % 2);
      out.push_back(std::move(s));
    }
  }
  return out;
}

// The loaded store; aborts if it cannot be built.
inline const aggregator::SummaryStore& QueryStore() {
  static const aggregator::SummaryStore* store = [] {
    static rocksdb::Env* env = rocksdb::NewMemEnv(rocksdb::Env::Default());
    static FakeClock* clock = new FakeClock(kQueryNow);
    aggregator::SummaryStoreOptions options;
    options.registry =
        std::make_shared<RegistryHistory>(aggregator::testing::TestRegistry());
    options.clock = clock;
    options.env = env;
    auto opened = aggregator::SummaryStore::Open("/fuzz/query", options);
    FUZZ_CHECK(opened.ok(), opened.status().message());
    auto outcomes = (*opened)->Commit(QuerySummaries());
    FUZZ_CHECK(outcomes.ok(), outcomes.status().message());
    return opened->release();
  }();
  return *store;
}

// Whether `s` is one of the errors a query may end with (the query engine's
// contract): anything else is a finding.
inline bool IsQueryError(const absl::Status& s) {
  return absl::IsInvalidArgument(s) || absl::IsNotFound(s) ||
         absl::IsFailedPrecondition(s) || absl::IsResourceExhausted(s);
}

}  // namespace ohfed::fuzz

#endif  // OHFED_TESTS_FUZZ_QUERY_STORE_H_
