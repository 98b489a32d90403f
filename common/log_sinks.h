// The spdlog side of common/log.h: where lines go. Internal to log.cc and
// its tests.
#ifndef OHFED_COMMON_LOG_SINKS_H_
#define OHFED_COMMON_LOG_SINKS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/log.h"

namespace spdlog::sinks {
class sink;  // spdlog/sinks/sink.h; kept out so tests need no spdlog
}  // namespace spdlog::sinks

namespace ohfed::log_internal {

// `s` escaped as in a text line (common/log.h), without a newline.
std::string EscapeText(absl::string_view s);

// Whether stderr is the systemd journal: JOURNAL_STREAM holds
// "DEVICE:INODE" of the stream systemd connected, and stderr is that one
// (not merely a child of a service that redirected it).
bool StderrIsJournal();

// The sink for `format`: kText and kJson write FormatLogLine's line to
// stderr in one write(2); kJournal sends JournalFields to the journal, or
// when no journal listens (no /run/systemd/journal/socket) or an entry
// cannot be sent, writes text lines.
// Loggers named after the component share it; it formats every message
// itself (set_formatter and set_pattern are ignored).
std::shared_ptr<spdlog::sinks::sink> MakeSink(LogFormat format);

// The fields of the journal entry for one event: MESSAGE (escaped as in
// text), PRIORITY, COMPONENT (escaped) and SYSLOG_IDENTIFIER (the program).
std::vector<std::string> JournalFields(LogLevel level,
                                       absl::string_view component,
                                       absl::string_view message);

}  // namespace ohfed::log_internal

#endif  // OHFED_COMMON_LOG_SINKS_H_
