#include "cli/config_reload.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"

namespace ohfed {
namespace {

constexpr size_t kMaxEcho = 120;

// A value as the operator wrote it, for a log line.
std::string Shown(const ConfigValues& values, const std::string& key) {
  auto it = values.find(key);
  if (it == values.end()) return "the default";
  std::string joined = absl::StrJoin(it->second, ", ");
  if (joined.size() > kMaxEcho) joined = joined.substr(0, kMaxEcho) + "...";
  return absl::StrCat("'", joined, "'");
}

absl::Status Refused(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "reload refused, what was loaded before stays in force: ", why));
}

}  // namespace

ConfigValues ValuesOf(const CLI::App& app) {
  ConfigValues values;
  for (const CLI::Option* option : app.get_options()) {
    const std::vector<std::string>& names = option->get_lnames();
    if (names.empty()) continue;
    const std::string& key = names.front();
    if (key == "help" || key == "version" || key == "config") continue;
    if (option->count() == 0) continue;
    values[key] = option->results();
  }
  return values;
}

ConfigReloader::ConfigReloader(const CLI::App& started,
                               std::set<std::string> live)
    : in_force_(ValuesOf(started)), live_(std::move(live)) {}

absl::Status ConfigReloader::Reload(
    CLI::App& app, int argc, const char* const* argv,
    const std::function<absl::Status()>& apply) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    RestoreLogFormat();
    const CLI::Option* config = app.get_config_ptr();
    std::string file = config != nullptr && config->count() > 0
                           ? absl::StrJoin(config->results(), ", ")
                           : "the command line";
    return Refused(absl::StrCat(file, ": ", e.what()));
  }
  const ConfigValues next = ValuesOf(app);
  WarnRestartKeys(next);
  if (absl::Status s = apply(); !s.ok()) {
    RestoreLogFormat();
    return Refused(s.message());
  }
  for (const std::string& key : live_) {
    auto it = next.find(key);
    if (it == next.end()) {
      in_force_.erase(key);
    } else {
      in_force_[key] = it->second;
    }
  }
  return absl::OkStatus();
}

void ConfigReloader::WarnRestartKeys(const ConfigValues& next) const {
  std::set<std::string> keys;
  for (const auto& [key, values] : in_force_) keys.insert(key);
  for (const auto& [key, values] : next) keys.insert(key);
  for (const std::string& key : keys) {
    if (live_.count(key)) continue;
    auto before = in_force_.find(key), after = next.find(key);
    const bool same = before != in_force_.end() && after != next.end()
                          ? before->second == after->second
                          : before == in_force_.end() && after == next.end();
    if (same) continue;
    LogWarning(absl::StrCat(key, " changed: needs a restart (",
                            Shown(next, key), " read; ", Shown(in_force_, key),
                            " stays in force until then)"));
  }
}

void ConfigReloader::RestoreLogFormat() const {
  auto it = in_force_.find("log-format");
  const bool json = it != in_force_.end() && !it->second.empty() &&
                    it->second.back() == "json";
  SetLogFormat(json ? LogFormat::kJson : LogFormat::kText);
}

}  // namespace ohfed
