#include "common/log.h"

#include <errno.h>  // program_invocation_short_name (glibc)

#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/log_sinks.h"
#include "spdlog/logger.h"

namespace ohfed {
namespace {

// One spdlog logger per component (the program, "grpc", ...), all on the
// sink of the format in force; made on first use.
struct Loggers {
  absl::Mutex mu;
  std::optional<LogFormat> format ABSL_GUARDED_BY(mu);  // unset: detect
  std::shared_ptr<spdlog::sinks::sink> sink ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<std::string, std::shared_ptr<spdlog::logger>> by_name
      ABSL_GUARDED_BY(mu);
};

Loggers& TheLoggers() {
  static Loggers* loggers = new Loggers;
  return *loggers;
}

std::shared_ptr<spdlog::logger> LoggerFor(absl::string_view component) {
  Loggers& l = TheLoggers();
  absl::MutexLock lock(&l.mu);
  if (l.sink == nullptr) {
    if (!l.format.has_value()) {
      l.format = log_internal::StderrIsJournal() ? LogFormat::kJournal
                                                 : LogFormat::kText;
    }
    l.sink = log_internal::MakeSink(*l.format);
  }
  std::shared_ptr<spdlog::logger>& logger = l.by_name[component];
  if (logger == nullptr) {
    logger = std::make_shared<spdlog::logger>(std::string(component), l.sink);
    logger->set_level(spdlog::level::info);
  }
  return logger;
}

spdlog::level::level_enum ToSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kWarning:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kInfo:
      break;
  }
  return spdlog::level::info;
}

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
    case LogLevel::kInfo:
      break;
  }
  return "info";
}

// Length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms,
// surrogates or code points above U+10FFFF) starting at s[i], or 0.
size_t Utf8Length(absl::string_view s, size_t i) {
  auto byte = [&](size_t k) -> unsigned {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0;
  };
  auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return byte(k) >= lo && byte(k) <= hi;
  };
  unsigned b = byte(0);
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return cont(1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    unsigned lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    unsigned lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

// Appends `s` escaped for a text line (json = false) or the inside of a
// JSON string (json = true).
void AppendEscaped(std::string& out, absl::string_view s, bool json) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    size_t n = Utf8Length(s, i);
    if (n == 0) {
      out += json ? "\\ufffd" : absl::StrFormat("\\x%02x", c);
      ++i;
      continue;
    }
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"' && json) {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out +=
          json ? absl::StrFormat("\\u%04x", c) : absl::StrFormat("\\x%02x", c);
    } else {
      out.append(s.data() + i, n);
    }
    i += n;
  }
}

}  // namespace

namespace log_internal {

std::string EscapeText(absl::string_view s) {
  std::string out;
  AppendEscaped(out, s, false);
  return out;
}

}  // namespace log_internal

void SetLogFormat(LogFormat format) {
  Loggers& l = TheLoggers();
  absl::MutexLock lock(&l.mu);
  l.format = format;
  l.sink = nullptr;
  l.by_name.clear();
}

std::string FormatLogLine(LogFormat format, absl::Time time, LogLevel level,
                          absl::string_view component,
                          absl::string_view message) {
  std::string when =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
  std::string line;
  if (format == LogFormat::kJson) {
    absl::StrAppend(&line, "{\"time\":\"", when, "\",\"level\":\"",
                    LevelName(level), "\",\"component\":\"");
    AppendEscaped(line, component, true);
    line += "\",\"msg\":\"";
    AppendEscaped(line, message, true);
    line += "\"}\n";
  } else {
    absl::StrAppend(&line, when, " ", LevelName(level), " ");
    AppendEscaped(line, component, false);
    line += ": ";
    AppendEscaped(line, message, false);
    line += "\n";
  }
  return line;
}

void Log(LogLevel level, absl::string_view component,
         absl::string_view message) {
  if (component.empty()) component = program_invocation_short_name;
  LoggerFor(component)->log(
      ToSpdlog(level), spdlog::string_view_t(message.data(), message.size()));
}

void LogLine(absl::string_view message) { Log(LogLevel::kInfo, "", message); }
void LogWarning(absl::string_view message) {
  Log(LogLevel::kWarning, "", message);
}
void LogError(absl::string_view message) { Log(LogLevel::kError, "", message); }

}  // namespace ohfed
