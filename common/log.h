// One line per notable event on stderr, "<UTC time> <program>: <message>",
// for journald or a log file. Thread-safe: one write(2) per line, so lines
// from concurrent threads (ingest streams, the uploader) never interleave.
// The program name is the running binary's, so there is no state to set.
#ifndef OHFED_COMMON_LOG_H_
#define OHFED_COMMON_LOG_H_

#include "absl/strings/string_view.h"

namespace ohfed {

void LogLine(absl::string_view message);

}  // namespace ohfed

#endif  // OHFED_COMMON_LOG_H_
