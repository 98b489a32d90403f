#include "common/log_sinks.h"

#include <errno.h>  // program_invocation_short_name (glibc)
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <mutex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "spdlog/sinks/base_sink.h"
#include "spdlog/sinks/sink.h"

namespace ohfed::log_internal {
namespace {

constexpr char kJournalSocket[] = "/run/systemd/journal/socket";

LogLevel FromSpdlog(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::warn:
      return LogLevel::kWarning;
    case spdlog::level::err:
    case spdlog::level::critical:
      return LogLevel::kError;
    default:
      return LogLevel::kInfo;
  }
}

absl::string_view View(spdlog::string_view_t s) { return {s.data(), s.size()}; }

std::string TextLine(const spdlog::details::log_msg& msg, LogFormat format) {
  return FormatLogLine(format, absl::FromChrono(msg.time),
                       FromSpdlog(msg.level), View(msg.logger_name),
                       View(msg.payload));
}

void WriteStderr(const std::string& line) {
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

// Lines on stderr. The sink's mutex and the single write keep concurrent
// lines whole, in the file and in the journal's stream alike.
class StderrSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit StderrSink(LogFormat format) : format_(format) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    WriteStderr(TextLine(msg, format_));
  }
  void flush_() override {}
  void set_formatter_(std::unique_ptr<spdlog::formatter>) override {}
  void set_pattern_(const std::string&) override {}

 private:
  const LogFormat format_;
};

// Entries in the systemd journal (sd_journal_sendv), with the level as
// PRIORITY and the component as a field of its own.
class JournalSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::vector<std::string> fields = JournalFields(
        FromSpdlog(msg.level), View(msg.logger_name), View(msg.payload));
    std::vector<iovec> iov;
    for (std::string& f : fields) iov.push_back({f.data(), f.size()});
    if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) < 0) {
      WriteStderr(TextLine(msg, LogFormat::kText));
    }
  }
  void flush_() override {}
  void set_formatter_(std::unique_ptr<spdlog::formatter>) override {}
  void set_pattern_(const std::string&) override {}
};

int Priority(LogLevel level) {
  switch (level) {
    case LogLevel::kWarning:
      return 4;  // LOG_WARNING
    case LogLevel::kError:
      return 3;  // LOG_ERR
    case LogLevel::kInfo:
      break;
  }
  return 6;  // LOG_INFO
}

}  // namespace

bool StderrIsJournal() {
  const char* stream = getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  std::vector<absl::string_view> parts = absl::StrSplit(stream, ':');
  uint64_t dev = 0, ino = 0;
  struct stat st {};
  return parts.size() == 2 && absl::SimpleAtoi(parts[0], &dev) &&
         absl::SimpleAtoi(parts[1], &ino) && fstat(STDERR_FILENO, &st) == 0 &&
         st.st_dev == dev && st.st_ino == ino;
}

std::shared_ptr<spdlog::sinks::sink> MakeSink(LogFormat format) {
  // sd_journal_sendv drops entries silently when nothing listens.
  if (format == LogFormat::kJournal && access(kJournalSocket, F_OK) == 0) {
    return std::make_shared<JournalSink>();
  }
  if (format == LogFormat::kJournal) format = LogFormat::kText;
  return std::make_shared<StderrSink>(format);
}

std::vector<std::string> JournalFields(LogLevel level,
                                       absl::string_view component,
                                       absl::string_view message) {
  return {absl::StrCat("MESSAGE=", EscapeText(message)),
          absl::StrCat("PRIORITY=", Priority(level)),
          absl::StrCat("COMPONENT=", EscapeText(component)),
          absl::StrCat("SYSLOG_IDENTIFIER=", program_invocation_short_name)};
}

}  // namespace ohfed::log_internal
