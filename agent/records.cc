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

}  // namespace ohfed::agent
