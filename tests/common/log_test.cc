// common/log.h: the exact text and JSON lines, and that a message a remote
// peer chose (newline, quote, a byte that is not UTF-8) stays on one line
// and, in JSON, inside its field.
#include "common/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

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

}  // namespace
}  // namespace ohfed
