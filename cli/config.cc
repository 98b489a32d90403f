#include "cli/config.h"

#include <memory>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/log.h"

namespace ohfed {
namespace {

constexpr size_t kMaxEcho = 80;

bool IsKeyChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '-';
}

// The value part after '=': a "string", a [list] or a bare word (number,
// true/false), optionally followed by a # comment.
bool IsValue(absl::string_view v) {
  if (v.empty()) return false;
  size_t end;
  if (v.front() == '"') {
    end = v.find('"', 1);
    if (end == absl::string_view::npos) return false;
    ++end;
  } else if (v.front() == '[') {
    end = v.find(']');
    if (end == absl::string_view::npos) return false;
    ++end;
  } else {
    end = 0;
    while (end < v.size() && v[end] != '#' && !absl::ascii_isspace(v[end])) {
      ++end;
    }
  }
  absl::string_view rest = absl::StripAsciiWhitespace(v.substr(end));
  return rest.empty() || rest.front() == '#';
}

bool IsKeyValueLine(absl::string_view line) {
  size_t eq = line.find('=');
  if (eq == absl::string_view::npos) return false;
  absl::string_view key = absl::StripAsciiWhitespace(line.substr(0, eq));
  if (key.empty()) return false;
  for (char c : key) {
    if (!IsKeyChar(c)) return false;
  }
  return IsValue(absl::StripAsciiWhitespace(line.substr(eq + 1)));
}

// CLI11's TOML reader, after a line-by-line syntax check, refusing keys that
// name no flag of the app.
class StrictConfig : public CLI::ConfigTOML {
 public:
  explicit StrictConfig(const CLI::App* app) : app_(app) {}

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::stringstream text;
    text << input.rdbuf();
    if (absl::Status s = CheckConfigSyntax(text.str()); !s.ok()) {
      throw CLI::ConfigError(absl::StrCat("config file ", s.message()));
    }
    std::istringstream again(text.str());
    std::vector<CLI::ConfigItem> items = CLI::ConfigTOML::from_config(again);
    for (const CLI::ConfigItem& item : items) {
      if (app_->get_option_no_throw("--" + item.name) == nullptr) {
        throw CLI::ConfigError(absl::StrCat(
            "config file: unknown key '", item.name.substr(0, kMaxEcho),
            "' (keys are the long flags without --; see --help)"));
      }
    }
    return items;
  }

 private:
  const CLI::App* app_;
};

}  // namespace

absl::Status CheckConfigSyntax(absl::string_view text) {
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    absl::string_view t = absl::StripAsciiWhitespace(line);
    if (t.empty() || t.front() == '#' || IsKeyValueLine(t)) continue;
    return absl::InvalidArgumentError(absl::StrCat(
        "line ", number, ": expected key = value, got: ", t.substr(0, kMaxEcho),
        t.size() > kMaxEcho ? "..." : ""));
  }
  return absl::OkStatus();
}

void AddConfigFile(CLI::App& app) {
  app.set_config("--config", "",
                 "config file: `key = value` lines, every flag is a key");
  app.config_formatter(std::make_shared<StrictConfig>(&app));
  app.allow_config_extras(CLI::config_extras_mode::error);
}

void AddLogFormatOption(CLI::App& app) {
  app.add_option_function<std::string>(
         "--log-format",
         [](const std::string& f) {
           SetLogFormat(f == "json"      ? LogFormat::kJson
                        : f == "journal" ? LogFormat::kJournal
                                         : LogFormat::kText);
         },
         "log lines as text or json (one JSON object per line) on stderr, "
         "or journal entries (systemd journal: PRIORITY, COMPONENT); "
         "default: journal when stderr is the journal, else text")
      ->envname("OHFED_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json", "journal"}));
}

}  // namespace ohfed
