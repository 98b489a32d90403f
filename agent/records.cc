#include "agent/records.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace ohfed::agent {
namespace {

using nlohmann::json;

absl::StatusOr<json> ParseJson(absl::string_view v) {
  json j = json::parse(v.begin(), v.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::DataLossError("corrupt raw record in the agent store");
  }
  return j;
}

// Runs `decode` on a parsed value, turning type errors into kDataLoss.
template <typename T, typename F>
absl::StatusOr<T> SafeDecode(absl::string_view v, F decode) {
  auto j = ParseJson(v);
  if (!j.ok()) return j.status();
  try {
    return decode(*j);
  } catch (const json::exception& e) {
    return absl::DataLossError(
        absl::StrCat("corrupt raw record in the agent store: ", e.what()));
  }
}

}  // namespace

absl::string_view SourceName(Source s) {
  switch (s) {
    case Source::kStaffing: return "staffing";
    case Source::kActivity: return "activity";
    case Source::kProfile: return "profile";
    case Source::kManual: return "manual";
  }
  return "unknown";
}

std::string EncodeStaffing(std::vector<StaffingRow> rows) {
  std::sort(rows.begin(), rows.end());
  json out = json::array();
  for (const StaffingRow& r : rows) {
    out.push_back({r.group, r.wte, r.basis, r.post_id});
  }
  return out.dump();
}

std::string EncodeActivity(std::vector<ActivityRow> rows) {
  std::sort(rows.begin(), rows.end());
  json out = json::array();
  for (const ActivityRow& r : rows) {
    out.push_back({r.date, r.activity, r.client_org, r.subject_ref, r.wait_days});
  }
  return out.dump();
}

std::string EncodeAnswers(const Answers& answers) {
  json out = json::object();
  for (const auto& [code, value] : answers) out[code] = value;
  return out.dump();
}

absl::StatusOr<std::vector<StaffingRow>> DecodeStaffing(absl::string_view v) {
  return SafeDecode<std::vector<StaffingRow>>(v, [](const json& j) {
    std::vector<StaffingRow> rows;
    for (const json& r : j) {
      rows.push_back({r.at(0).get<std::string>(), r.at(1).get<double>(),
                      r.at(2).get<std::string>(), r.at(3).get<std::string>()});
    }
    return rows;
  });
}

absl::StatusOr<std::vector<ActivityRow>> DecodeActivity(absl::string_view v) {
  return SafeDecode<std::vector<ActivityRow>>(v, [](const json& j) {
    std::vector<ActivityRow> rows;
    for (const json& r : j) {
      rows.push_back({r.at(0).get<std::string>(), r.at(1).get<std::string>(),
                      r.at(2).get<std::string>(), r.at(3).get<std::string>(),
                      r.at(4).get<int>()});
    }
    return rows;
  });
}

absl::StatusOr<Answers> DecodeAnswers(absl::string_view v) {
  return SafeDecode<Answers>(v, [](const json& j) {
    Answers a;
    for (auto it = j.begin(); it != j.end(); ++it) {
      a[it.key()] = it.value().get<std::string>();
    }
    return a;
  });
}

}  // namespace ohfed::agent
