// common/log.h: the exact text and JSON lines, and that a message a remote
// peer chose (newline, quote, a byte that is not UTF-8) stays on one line
// and, in JSON, inside its field.
#include "common/log.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/log_sinks.h"
#include "nlohmann/json.hpp"
#include "tests/testing/testing.h"

namespace ohfed {
namespace {

const absl::Time kWhen = absl::FromUnixMillis(1773568800123);  // 2026-03-15

// A newline, a quote, a backslash, a tab, ESC, an invalid byte, and é.
constexpr absl::string_view kHostile =
    "ZZZ\n2026-03-15T10:00:00.000Z error ohfed: forged \"x\" \\ \t\x1b\xff "
    "caf\xc3\xa9";

TEST(LogTest, TextLineEscapesEveryControlAndInvalidByte) {
  EXPECT_EQ(FormatLogLine(LogFormat::kText, kWhen, LogLevel::kWarning,
                          "ohfed-aggregator", kHostile),
            "2026-03-15T10:00:00.123Z warning ohfed-aggregator: ZZZ\\n"
            "2026-03-15T10:00:00.000Z error ohfed: forged \"x\" \\\\ \\t"
            "\\x1b\\xff caf\xc3\xa9\n");
}

TEST(LogTest, JsonLineEscapesEveryControlQuoteAndInvalidByte) {
  std::string line = FormatLogLine(LogFormat::kJson, kWhen, LogLevel::kError,
                                   "grpc", kHostile);
  EXPECT_EQ(line,
            "{\"time\":\"2026-03-15T10:00:00.123Z\",\"level\":\"error\","
            "\"component\":\"grpc\",\"msg\":\"ZZZ\\n"
            "2026-03-15T10:00:00.000Z error ohfed: forged \\\"x\\\" \\\\ "
            "\\t\\u001b\\ufffd caf\xc3\xa9\"}\n");
  // A strict parser (it refuses ill-formed UTF-8) gets the message back.
  nlohmann::json fields = nlohmann::json::parse(line);
  EXPECT_EQ(fields["msg"],
            "ZZZ\n2026-03-15T10:00:00.000Z error ohfed: forged \"x\" \\ "
            "\t\x1b\xef\xbf\xbd caf\xc3\xa9");
  EXPECT_EQ(fields["level"], "error");
  EXPECT_EQ(fields["component"], "grpc");
  EXPECT_EQ(fields["time"], "2026-03-15T10:00:00.123Z");
}

TEST(LogTest, OverlongSurrogateAndTruncatedSequencesAreInvalid) {
  // Overlong '/', a UTF-16 surrogate, a sequence cut short, above U+10FFFF.
  std::string line = FormatLogLine(
      LogFormat::kJson, kWhen, LogLevel::kInfo, "c",
      "\xc0\xaf|\xed\xa0\x80|\xe2\x82|\xf4\x90\x80\x80|\xf0\x9f\x98\x80");
  EXPECT_THAT(line,
              ::testing::HasSubstr("\"msg\":\"\\ufffd\\ufffd|\\ufffd\\ufffd"
                                   "\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd"
                                   "\\ufffd\\ufffd|\xf0\x9f\x98\x80\"}"));
  EXPECT_NO_THROW(nlohmann::json::parse(line));
}

TEST(LogTest, EachLevelHasItsName) {
  EXPECT_TRUE(absl::StrContains(
      FormatLogLine(LogFormat::kText, kWhen, LogLevel::kInfo, "a", "m"),
      "Z info a: m"));
  EXPECT_TRUE(absl::StrContains(
      FormatLogLine(LogFormat::kJson, kWhen, LogLevel::kWarning, "a", "m"),
      "\"level\":\"warning\""));
}

// What Log() writes to stderr (fd 2) while `log` runs, and the format back
// to text afterwards.
template <typename F>
std::string CapturedStderr(LogFormat format, F log) {
  testing::TempDir dir;
  const std::string path = dir.File("stderr");
  int file = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int saved = dup(STDERR_FILENO);
  dup2(file, STDERR_FILENO);
  SetLogFormat(format);
  log();
  SetLogFormat(LogFormat::kText);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(file);
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Through spdlog: the line FormatLogLine describes, with the component and
// the level, the hostile message escaped once.
TEST(LogTest, LogWritesOneJsonObjectPerEventWithItsComponentAndLevel) {
  std::string out = CapturedStderr(LogFormat::kJson, [] {
    Log(LogLevel::kWarning, "grpc", kHostile);
    LogError("disk {} full {0}");  // not a format string
  });
  std::vector<std::string> lines = absl::StrSplit(out, '\n');
  ASSERT_EQ(lines.size(), 3u) << out;  // two lines and the empty tail
  nlohmann::json first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["level"], "warning");
  EXPECT_EQ(first["component"], "grpc");
  EXPECT_EQ(first["msg"],
            "ZZZ\n2026-03-15T10:00:00.000Z error ohfed: forged \"x\" \\ "
            "\t\x1b\xef\xbf\xbd caf\xc3\xa9");
  nlohmann::json second = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(second["level"], "error");
  EXPECT_EQ(second["component"], "common_test");  // the program's name
  EXPECT_EQ(second["msg"], "disk {} full {0}");
}

TEST(LogTest, TextLinesFromConcurrentThreadsStayWhole) {
  constexpr int kThreads = 8, kLines = 100;
  std::string out = CapturedStderr(LogFormat::kText, [] {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([t] {
        for (int i = 0; i < kLines; ++i) {
          Log(LogLevel::kInfo, absl::StrCat("t", t),
              absl::StrCat("line ", i, " of thread ", t,
                           std::string(200, '.')));
        }
      });
    }
    for (std::thread& t : threads) t.join();
  });
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kLines));
  for (const std::string& line : lines) {
    EXPECT_THAT(line, ::testing::MatchesRegex(
                          "[-0-9T:.]+Z info t[0-9]: line [0-9]+ of thread "
                          "[0-9]\\.{200}"));
  }
}

TEST(LogTest, JournalEntryCarriesPriorityAndComponentAndEscapesTheMessage) {
  EXPECT_THAT(
      log_internal::JournalFields(LogLevel::kWarning, "grpc\nx", "a\nb\xff"),
      ::testing::ElementsAre("MESSAGE=a\\nb\\xff", "PRIORITY=4",
                             "COMPONENT=grpc\\nx",
                             "SYSLOG_IDENTIFIER=common_test"));
  EXPECT_THAT(log_internal::JournalFields(LogLevel::kError, "c", "m"),
              ::testing::Contains("PRIORITY=3"));
  EXPECT_THAT(log_internal::JournalFields(LogLevel::kInfo, "c", "m"),
              ::testing::Contains("PRIORITY=6"));
}

// systemd sets JOURNAL_STREAM for a service whose stderr is the journal;
// a process whose stderr is something else (a child redirected to a file)
// must not take it for the journal.
TEST(LogTest, StderrIsTheJournalOnlyWhenJournalStreamNamesIt) {
  struct stat st {};
  ASSERT_EQ(fstat(STDERR_FILENO, &st), 0);
  setenv("JOURNAL_STREAM", absl::StrCat(st.st_dev, ":", st.st_ino).c_str(), 1);
  EXPECT_TRUE(log_internal::StderrIsJournal());
  setenv("JOURNAL_STREAM", absl::StrCat(st.st_dev, ":", st.st_ino + 1).c_str(),
         1);
  EXPECT_FALSE(log_internal::StderrIsJournal());
  setenv("JOURNAL_STREAM", "garbage", 1);
  EXPECT_FALSE(log_internal::StderrIsJournal());
  unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(log_internal::StderrIsJournal());
}

// Where no journal listens (a container, this test machine), a journal
// entry is not lost: it becomes a text line on stderr.
TEST(LogTest, JournalEntryThatCannotBeSentIsATextLine) {
  struct stat st {};
  if (stat("/run/systemd/journal/socket", &st) == 0) {
    GTEST_SKIP() << "a journal listens here";
  }
  std::string out = CapturedStderr(
      LogFormat::kJournal, [] { Log(LogLevel::kError, "grpc", "a\nb"); });
  EXPECT_THAT(out,
              ::testing::MatchesRegex("[-0-9T:.]+Z error grpc: a\\\\nb\n"));
}

}  // namespace
}  // namespace ohfed
