// One line per notable event, each with its time (RFC 3339, UTC), level and
// component, written through spdlog (Debian's libspdlog):
//
//   text: 2026-03-15T10:00:00.000Z info ohfed-aggregator: stopped
//   json: {"time":"2026-03-15T10:00:00.000Z","level":"info",
//          "component":"ohfed-aggregator","msg":"stopped"}
//   journal: one systemd journal entry, MESSAGE (the message escaped as in
//          text), PRIORITY (6 info, 4 warning, 3 error), COMPONENT and
//          SYSLOG_IDENTIFIER (the program), so `journalctl -p warning`
//          and `journalctl COMPONENT=grpc` work
//
// Text and JSON go to stderr, for journald or a log file. Without
// SetLogFormat, the format is journal when stderr is the journal (systemd
// sets JOURNAL_STREAM to its device and inode) and text otherwise. A
// journal entry that cannot be sent is written to stderr as text instead.
//
// Messages often carry strings a remote peer chose (trust codes, periods,
// gRPC errors), so every byte is escaped: in text, control characters,
// backslashes and bytes that are not UTF-8 become \n, \t, \\ or \xNN; in
// JSON, the string escapes of RFC 8259, with invalid UTF-8 as \ufffd. A
// message can therefore never forge a second line or a field. Callers pass
// such strings raw (bounded), not escaped themselves, so JSON readers get
// them back exactly.
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
enum class LogFormat { kText, kJson, kJournal };

// Process-wide; call before any thread logs.
void SetLogFormat(LogFormat format);

// Logs `message` at `level` as `component` (empty: the program's name).
void Log(LogLevel level, absl::string_view component,
         absl::string_view message);

// Shorthands for the program's own component.
void LogLine(absl::string_view message);  // info
void LogWarning(absl::string_view message);
void LogError(absl::string_view message);

// The line Log() writes to stderr, newline included (for tests). kJournal
// gives the text line, which is also what stands in for a journal entry
// that cannot be sent.
std::string FormatLogLine(LogFormat format, absl::Time time, LogLevel level,
                          absl::string_view component,
                          absl::string_view message);

}  // namespace ohfed

#endif  // OHFED_COMMON_LOG_H_
