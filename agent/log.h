// One line per notable event on stderr, prefixed with the UTC time, for
// journald or a log file. Thread-safe (one write per line).
#ifndef OHFED_AGENT_LOG_H_
#define OHFED_AGENT_LOG_H_

#include "absl/strings/string_view.h"

namespace ohfed::agent {

void LogLine(absl::string_view message);

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_LOG_H_
