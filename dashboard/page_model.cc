#include "dashboard/page_model.h"

#include "absl/strings/str_cat.h"

namespace ohfed::dashboard {
namespace {

std::string ScopePath(const Scope& scope) {
  if (scope.level == Scope::Level::kNational) return "/scope/national";
  return absl::StrCat("/scope/", LevelName(scope.level), "/", scope.code);
}

}  // namespace

std::string PagePath(const Scope& scope, const Period& period) {
  return absl::StrCat(ScopePath(scope), "?period=", period.ToString());
}

std::string CsvPath(const Scope& scope, const Period& period,
                    const std::string& table_id) {
  return absl::StrCat(ScopePath(scope), "/", table_id,
                      ".csv?period=", period.ToString());
}

}  // namespace ohfed::dashboard
