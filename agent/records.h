// The raw records an agent keeps (SPEC §4): they never leave the trust.
// Each period holds up to four sources of raw records, stored separately so
// that a staffing file replaces only staffing rows, a profile file only the
// answers it contains, and hand-entered values survive imports.
//
// Encoding: each source of one period is one RocksDB value, canonical JSON
// (rows sorted), so "the same content" is "the same bytes" and an unchanged
// re-import is detected by comparing values.
#ifndef OHFED_AGENT_RECORDS_H_
#define OHFED_AGENT_RECORDS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ohfed::agent {

// One staffing row: a post (post_id set) or a group total (post_id empty).
struct StaffingRow {
  std::string group;  // staff group, e.g. "nurse_general"
  double wte = 0;
  std::string basis;  // employed | locum | bank | contracted | vacant
  std::string post_id;
  auto operator<=>(const StaffingRow&) const = default;
};

// One activity event.
struct ActivityRow {
  std::string date;  // YYYY-MM-DD
  std::string activity;
  std::string client_org;
  std::string subject_ref;  // may be empty
  int wait_days = -1;       // -1: not recorded
  auto operator<=>(const ActivityRow&) const = default;
};

// Answers or values by catalogue code ("profile.host_type" -> "acute",
// "staffing.wte.admin" -> "2.5").
using Answers = std::map<std::string, std::string>;

enum class Source { kStaffing, kActivity, kProfile, kManual };
absl::string_view SourceName(Source s);  // "staffing", ...

// Every raw record of one period.
struct PeriodRecords {
  std::vector<StaffingRow> staffing;
  std::vector<ActivityRow> activity;
  Answers profile;
  Answers manual;  // hand-entered with `ohfed set`; override computed cells
};

// Canonical encodings (rows sorted) and their inverses. Decoders fail with
// kDataLoss on malformed input.
std::string EncodeStaffing(std::vector<StaffingRow> rows);
std::string EncodeActivity(std::vector<ActivityRow> rows);
std::string EncodeAnswers(const Answers& answers);
absl::StatusOr<std::vector<StaffingRow>> DecodeStaffing(absl::string_view v);
absl::StatusOr<std::vector<ActivityRow>> DecodeActivity(absl::string_view v);
absl::StatusOr<Answers> DecodeAnswers(absl::string_view v);

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_RECORDS_H_
