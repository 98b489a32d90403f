#include "common/log.h"

#include <errno.h>  // program_invocation_short_name (glibc)
#include <unistd.h>

#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace ohfed {
namespace {

std::atomic<LogFormat> log_format{LogFormat::kText};

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

void SetLogFormat(LogFormat format) { log_format.store(format); }

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
  std::string line =
      FormatLogLine(log_format.load(), absl::Now(), level, component, message);
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

void LogLine(absl::string_view message) { Log(LogLevel::kInfo, "", message); }
void LogWarning(absl::string_view message) {
  Log(LogLevel::kWarning, "", message);
}
void LogError(absl::string_view message) { Log(LogLevel::kError, "", message); }

}  // namespace ohfed
