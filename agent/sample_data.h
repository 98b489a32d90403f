// Deterministic sample data for one trust: the three CSV files an OH
// manager would import (staffing, activity, profile), with realistic shapes
// (Table 1 of the survey paper scaled by trust size). Used by the demo and
// the end-to-end tests. The same (trust, months, seed) gives the same files.
#ifndef OHFED_AGENT_SAMPLE_DATA_H_
#define OHFED_AGENT_SAMPLE_DATA_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "common/period.h"

namespace ohfed::agent {

struct SampleFiles {
  std::string staffing;  // CSV text
  std::string activity;
  std::string profile;
};

// Months `first`..`last` inclusive; profile rows for every calendar year
// touched. `seed` 0 derives one from the trust code.
SampleFiles MakeSampleData(const std::string& trust, Month first, Month last,
                           uint64_t seed = 0);

// Writes staffing.csv, activity.csv and profile.csv into `dir`.
absl::Status WriteSampleData(const SampleFiles& files, const std::string& dir);

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_SAMPLE_DATA_H_
