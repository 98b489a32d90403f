// One line per notable event on stderr, for journald or a log file, each
// with its time (RFC 3339, UTC), level and component:
//
//   text: 2026-03-15T10:00:00.000Z info ohfed-aggregator: stopped
//   json: {"time":"2026-03-15T10:00:00.000Z","level":"info",
//          "component":"ohfed-aggregator","msg":"stopped"}
//
// Messages often carry strings a remote peer chose (trust codes, periods,
// gRPC errors), so every byte is escaped: in text, control characters,
// backslashes and bytes that are not UTF-8 become \n, \t, \\ or \xNN; in
// JSON, the string escapes of RFC 8259, with invalid UTF-8 as \ufffd. A
// message can therefore never forge a second line or a field.
//
// Thread-safe: one write(2) per line, so lines from concurrent threads
// (ingest streams, the uploader) never interleave. The format is set once
// by main() before any thread starts; the default component is the
// running binary's name.
#ifndef OHFED_COMMON_LOG_H_
#define OHFED_COMMON_LOG_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ohfed {

enum class LogLevel { kInfo, kWarning, kError };
enum class LogFormat { kText, kJson };

// Process-wide; call before any thread logs.
void SetLogFormat(LogFormat format);

// Logs `message` at `level` as `component` (empty: the program's name).
void Log(LogLevel level, absl::string_view component,
         absl::string_view message);

// Shorthands for the program's own component.
void LogLine(absl::string_view message);  // info
void LogWarning(absl::string_view message);
void LogError(absl::string_view message);

// The line Log() writes, newline included (for tests).
std::string FormatLogLine(LogFormat format, absl::Time time, LogLevel level,
                          absl::string_view component,
                          absl::string_view message);

}  // namespace ohfed

#endif  // OHFED_COMMON_LOG_H_
