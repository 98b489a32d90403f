#include "common/csv.h"

#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::StatusIs;
using ::testing::ElementsAre;

TEST(CsvTest, ParsesQuotedFieldsCrlfBomAndMetadata) {
  std::string text =
      "\xEF\xBB\xBF# version: 7\r\n# a comment\r\n"
      "Name, Note\r\nalpha,\"a, \"\"quoted\"\"\nnote\"\r\n\r\nbeta,plain\r\n";
  auto t = ParseCsv(text, "x.csv");
  OHFED_ASSERT_OK(t);
  EXPECT_EQ(t->metadata.at("version"), "7");
  EXPECT_THAT(t->header, ElementsAre("name", "note"));
  EXPECT_EQ(t->header_line, 3);
  ASSERT_EQ(t->records.size(), 2u);
  EXPECT_EQ(t->records[0].line, 4);
  EXPECT_EQ(t->records[0].fields[1], "a, \"quoted\"\nnote");
  EXPECT_EQ(t->records[1].line, 7);
  EXPECT_EQ(CsvTable::Field(t->records[1], t->Column("note")), "plain");
  EXPECT_EQ(CsvTable::Field(t->records[1], t->Column("absent")), "");
}

// Every record as "line:field|field|...", read by a CsvReader fed `text`
// in pieces of `piece` bytes, or the error.
std::string ReadInPieces(absl::string_view text, size_t piece) {
  CsvReader reader("x.csv");
  std::string out;
  auto keep = [&](const CsvRecord& r) {
    absl::StrAppend(&out, r.line, ":", absl::StrJoin(r.fields, "|"), "\n");
    return absl::OkStatus();
  };
  for (size_t i = 0; i < text.size(); i += piece) {
    absl::Status s = reader.Feed(text.substr(i, piece), keep);
    if (!s.ok()) return std::string(s.message());
  }
  absl::Status s = reader.Finish(keep);
  if (!s.ok()) return std::string(s.message());
  return absl::StrCat(absl::StrJoin(reader.table().header, ","), "@",
                      reader.table().header_line, "\n", out);
}

// A record, a CRLF, a quote or the byte-order mark cut between pieces
// anywhere reads as the whole text does, line numbers included.
TEST(CsvTest, ReaderTakesTheTextInPiecesCutAnywhere) {
  const std::string text =
      "\xEF\xBB\xBF# version: 7\r\n\r\n,,\r\nName, Note\r\n"
      "alpha,\"a, \"\"quoted\"\"\nnote\"\r\n\r\nbeta,plain\r\n"
      "gamma,\"\"\"\"\rdelta,last";
  const std::string whole = ReadInPieces(text, text.size());
  EXPECT_EQ(whole,
            "name,note@4\n5:alpha|a, \"quoted\"\nnote\n8:beta|plain\n"
            "9:gamma|\"\n10:delta|last\n");
  for (size_t piece = 1; piece < text.size(); ++piece) {
    EXPECT_EQ(ReadInPieces(text, piece), whole) << "pieces of " << piece;
  }
  const std::string bad = "a,b\n1,2\n3,4\n5,x\"y\n";
  for (size_t piece = 1; piece <= bad.size(); ++piece) {
    EXPECT_EQ(ReadInPieces(bad, piece),
              "x.csv line 4: stray quote inside a field");
  }
  EXPECT_EQ(ReadInPieces("a\n\"open\n\n", 2),
            "x.csv line 2: unterminated quoted field (file truncated?)");
  EXPECT_EQ(ReadInPieces("# only\n", 3),
            "x.csv: empty file, expected a header row");
}

// Every record as "line:field|field|..." (fields C-escaped), read with
// FeedRows in pieces of `piece` bytes, or the error.
std::string RowsInPieces(absl::string_view text, size_t piece) {
  CsvReader reader("x.csv");
  std::string out;
  auto keep = [&](const CsvRow& r) {
    std::vector<std::string> fields;
    for (absl::string_view f : r.fields) fields.push_back(absl::CEscape(f));
    absl::StrAppend(&out, r.line, ":", absl::StrJoin(fields, "|"), "\n");
    return absl::OkStatus();
  };
  for (size_t i = 0; i < text.size(); i += piece) {
    absl::Status s = reader.FeedRows(text.substr(i, piece), keep);
    if (!s.ok()) return std::string(s.message());
  }
  absl::Status s = reader.FinishRows(keep);
  if (!s.ok()) return std::string(s.message());
  return out;
}

// Plain records (split where they lie) and the others (quoted fields, a
// CRLF inside quotes, a lone CR as a line end, the last record without a
// line end) read as the RFC 4180 rules say, whatever the cuts.
TEST(CsvTest, PlainAndOtherRecordsReadTheSameInAnyPieces) {
  const std::string text =
      "h1,h2\r\n"
      "a,b\r\n"
      "c,\"d\r\ne\"\n"
      "f,g\rh,i\n"
      " j , k ,,\n"
      ",\n"
      "\"\",l\n"
      "m,\"n\"\"\"\r\n"
      "o,p";
  const std::string expected =
      "2:a|b\n3:c|d\\r\\ne\n5:f|g\n6:h|i\n7: j | k \n9:|l\n"
      "10:m|n\\\"\n11:o|p\n";
  EXPECT_EQ(RowsInPieces(text, text.size()), expected);
  for (size_t piece = 1; piece < text.size(); ++piece) {
    EXPECT_EQ(RowsInPieces(text, piece), expected) << "pieces of " << piece;
  }
  // Errors after plain records keep their line numbers.
  const std::string bad = "a,b\r\n1,2\r\n3,4\n5,x\"y\n";
  for (size_t piece = 1; piece <= bad.size(); ++piece) {
    EXPECT_EQ(RowsInPieces(bad, piece),
              "x.csv line 4: stray quote inside a field");
  }
}

// Random texts of the characters that matter, in random pieces: splitting
// plain records where they lie gives exactly what the full scan gives
// (records, line numbers, header, errors).
TEST(CsvTest, SplittingPlainRecordsChangesNothing) {
  std::mt19937 rng(17);
  const std::string alphabet = "ab ,,,\"\r\n\n\n";
  auto read = [&](const std::string& text, const std::vector<size_t>& cuts,
                  bool split_plain) {
    CsvReader reader("r.csv", 64, split_plain);
    std::string out;
    auto keep = [&](const CsvRow& r) {
      std::vector<std::string> fields;
      for (absl::string_view f : r.fields) fields.push_back(absl::CEscape(f));
      absl::StrAppend(&out, r.line, ":", absl::StrJoin(fields, "|"), "\n");
      return absl::OkStatus();
    };
    size_t at = 0;
    for (size_t cut : cuts) {
      absl::Status s =
          reader.FeedRows(absl::string_view(text).substr(at, cut - at), keep);
      if (!s.ok()) return absl::StrCat(out, s.message());
      at = cut;
    }
    absl::Status s = reader.FinishRows(keep);
    if (!s.ok()) return absl::StrCat(out, s.message());
    return absl::StrCat(absl::StrJoin(reader.table().header, ","), "@",
                        reader.table().header_line, "\n", out);
  };
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const size_t n = std::uniform_int_distribution<size_t>(0, 60)(rng);
    for (size_t k = 0; k < n; ++k) {
      text += alphabet[std::uniform_int_distribution<size_t>(
          0, alphabet.size() - 1)(rng)];
    }
    std::vector<size_t> cuts;
    for (size_t k = 0; k < text.size(); ++k) {
      if (rng() % 5 == 0) cuts.push_back(k);
    }
    cuts.push_back(text.size());
    ASSERT_EQ(read(text, cuts, true), read(text, cuts, false))
        << absl::CEscape(text);
  }
}

// A plain record's fields are views of the text fed (no copy); a quoted
// one's are the reader's own, unescaped.
TEST(CsvTest, PlainRecordsAreViewsOfTheTextFed) {
  const std::string text = "a,b\nx,y\n\"q\"\"\",z\n";
  CsvReader reader("x.csv");
  std::vector<bool> inside;
  std::vector<std::string> first;
  OHFED_ASSERT_OK(reader.FeedRows(text, [&](const CsvRow& r) {
    const char* p = r.fields[0].data();
    inside.push_back(p >= text.data() && p < text.data() + text.size());
    first.emplace_back(r.fields[0]);
    return absl::OkStatus();
  }));
  OHFED_ASSERT_OK(
      reader.FinishRows([](const CsvRow&) { return absl::OkStatus(); }));
  EXPECT_THAT(inside, ElementsAre(true, false));
  EXPECT_THAT(first, ElementsAre("x", "q\""));
}

// A quote left open cannot make the reader hold the rest of a large file.
TEST(CsvTest, ReaderBoundsAnIncompleteRecord) {
  CsvReader reader("big.csv", 1024);
  auto ignore = [](const CsvRecord&) { return absl::OkStatus(); };
  OHFED_ASSERT_OK(reader.Feed("a,b\n1,\"", ignore));
  EXPECT_THAT(reader.Feed(std::string(2048, 'x'), ignore),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "big.csv line 2: a record longer than 1 KiB (not a "
                       "CSV file, or an unterminated quoted field?)"));
}

TEST(CsvTest, ShortRowsAreReturnedForTheCallerToReport) {
  auto t = ParseCsv("a,b,c\n1,2\n", "x.csv");
  OHFED_ASSERT_OK(t);
  EXPECT_EQ(t->records[0].fields.size(), 2u);
}

TEST(CsvTest, RejectsStructuralDamageNamingSourceAndLine) {
  EXPECT_THAT(
      ParseCsv("", "empty.csv"),
      StatusIs(absl::StatusCode::kInvalidArgument, "empty.csv: empty file"));
  EXPECT_THAT(ParseCsv("# version: 1\n", "meta.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument, "empty file"));
  EXPECT_THAT(ParseCsv("a,b\n1,\"unterminated\n", "t.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "t.csv line 2: unterminated quoted field"));
  EXPECT_THAT(ParseCsv("a,b\n1,x\"y\n", "s.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "s.csv line 2: stray quote"));
  EXPECT_THAT(
      ParseCsv("a,a\n", "d.csv"),
      StatusIs(absl::StatusCode::kInvalidArgument, "column 'a' appears twice"));
}

TEST(CsvTest, IgnoresExcelsBlankRowsAndTrailingEmptyColumns) {
  auto t =
      ParseCsv(",,,\r\na,b,,\r\n1,2,,\r\n,,,\r\n3,4,,\r\n,,,\r\n", "x.csv");
  OHFED_ASSERT_OK(t);
  EXPECT_THAT(t->header, ElementsAre("a", "b"));
  EXPECT_EQ(t->header_line, 2);
  ASSERT_EQ(t->records.size(), 2u);
  EXPECT_THAT(t->records[0].fields, ElementsAre("1", "2"));
  EXPECT_EQ(t->records[1].line, 5);
  EXPECT_THAT(t->records[1].fields, ElementsAre("3", "4"));
}

TEST(CsvTest, KeepsValuesBeyondTheHeaderForTheCallerToReport) {
  auto t = ParseCsv("a,b\n1,2,3\n", "x.csv");
  OHFED_ASSERT_OK(t);
  EXPECT_EQ(t->records[0].fields.size(), 3u);
  EXPECT_THAT(
      ParseCsv("a,,b\n", "x.csv"),
      StatusIs(absl::StatusCode::kInvalidArgument, "empty column name"));
  EXPECT_THAT(
      ParseCsv(",,\n,,\n", "blank.csv"),
      StatusIs(absl::StatusCode::kInvalidArgument, "blank.csv: empty file"));
}

TEST(CsvTest, FieldTrimsSpacesAndTabsOnly) {
  auto t = ParseCsv("a,b,c\n 1 ,\t2,\"3\n\"\n", "x.csv");
  OHFED_ASSERT_OK(t);
  EXPECT_EQ(CsvTable::Field(t->records[0], 0), "1");
  EXPECT_EQ(CsvTable::Field(t->records[0], 1), "2");
  EXPECT_EQ(CsvTable::Field(t->records[0], 2), "3\n");
}

TEST(CsvTest, FindInvalidUtf8) {
  const auto npos = absl::string_view::npos;
  EXPECT_EQ(FindInvalidUtf8("plain"), npos);
  EXPECT_EQ(
      FindInvalidUtf8("caf\xC3\xA9 \xC2\xA3 \xE2\x82\xAC \xF0\x9F\x98\x80"),
      npos);
  EXPECT_EQ(FindInvalidUtf8("P\xA3"
                            "1"),
            1u);  // Windows-1252 pound
  EXPECT_EQ(FindInvalidUtf8("m\xE9"
                            "decin"),
            1u);                                        // Windows-1252 e-acute
  EXPECT_EQ(FindInvalidUtf8("x\xC0\x80"), 1u);          // overlong NUL
  EXPECT_EQ(FindInvalidUtf8("x\xED\xA0\x80"), 1u);      // a surrogate
  EXPECT_EQ(FindInvalidUtf8("x\xF4\x90\x80\x80"), 1u);  // past U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("ab\xE2\x82"), 2u);         // cut short
}

TEST(CsvTest, ExcerptCutsBetweenCharacters) {
  EXPECT_EQ(Excerpt("short"), "short");
  EXPECT_EQ(Excerpt("abcdef", 3), "abc...");
  // "é" is two bytes: a cut inside it backs up before it.
  EXPECT_EQ(Excerpt("ab\xC3\xA9"
                    "cd",
                    3),
            "ab...");
}

TEST(CsvTest, RequireColumnsListsWhatIsMissing) {
  auto t = ParseCsv("period,wte\n", "staff.csv");
  OHFED_ASSERT_OK(t);
  EXPECT_THAT(RequireColumns(*t, {"period", "staff_group", "wte", "basis"},
                             "staff.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "lacks required column(s) staff_group, basis"));
}

TEST(CsvTest, ReadFileNamesAMissingPath) {
  EXPECT_THAT(ReadFile("/nonexistent/ohfed.csv"),
              StatusIs(absl::StatusCode::kNotFound, "/nonexistent/ohfed.csv"));
}

}  // namespace
}  // namespace ohfed
