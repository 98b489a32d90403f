#include "agent/records.h"

namespace ohfed::agent {

absl::string_view SourceName(Source s) {
  switch (s) {
    case Source::kStaffing:
      return "staffing";
    case Source::kActivity:
      return "activity";
    case Source::kProfile:
      return "profile";
    case Source::kManual:
      return "manual";
  }
  return "unknown";
}

std::vector<std::string> AnswerCodes(const Answers& answers) {
  std::vector<std::string> out;
  for (const auto& [code, value] : answers) out.push_back(code);
  return out;
}

}  // namespace ohfed::agent
