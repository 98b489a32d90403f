// The raw records an agent keeps (SPEC §4): they never leave the trust.
// Each period holds up to four sources of raw records, stored separately so
// that a staffing file replaces only staffing rows, a profile file only the
// answers it contains, and hand-entered values survive imports.
//
// These are the store's domain types: the importer produces them
// (agent/importer.h), the store keeps them (agent/raw_records.h encodes
// them on disk) and the summary is computed from them (agent/summary.h).
#ifndef OHFED_AGENT_RECORDS_H_
#define OHFED_AGENT_RECORDS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

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

// The codes answered, in order.
std::vector<std::string> AnswerCodes(const Answers& answers);

enum class Source { kStaffing, kActivity, kProfile, kManual };
absl::string_view SourceName(Source s);  // "staffing", ...

// What a month's activity rows add up to (agent/summary.h), counted as
// they stream by (agent/activity_tally.h) so that the rows need not be held.
struct ActivityCounts {
  std::map<std::string, uint64_t> events;                // by activity
  std::map<std::string, std::map<int, uint64_t>> waits;  // days -> events
  uint64_t staff_seen = 0;   // distinct subject references
  bool any_subject = false;  // false: staff seen unknown
  bool operator==(const ActivityCounts&) const = default;
};

// Every raw record of one period.
struct PeriodRecords {
  std::vector<StaffingRow> staffing;
  std::vector<ActivityRow> activity;
  // When set, stands for `activity` (then empty) in the summary: the rows
  // were counted as they were read rather than kept.
  std::optional<ActivityCounts> activity_counts;
  Answers profile;
  Answers manual;  // hand-entered with `ohfed set`; override computed cells
};

// What one import hands the store: its valid rows by period. Staffing and
// activity by month ("YYYY-MM"): the rows replace that month's rows of the
// source. Profile answers by year ("YYYY"), keyed by question code: each
// replaces that one answer.
struct ImportedRecords {
  std::map<std::string, std::vector<StaffingRow>> staffing;
  std::map<std::string, std::vector<ActivityRow>> activity;
  std::map<std::string, Answers> profile;
};

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_RECORDS_H_
