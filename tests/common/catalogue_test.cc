#include "common/catalogue.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "common/csv.h"
#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::StatusIs;

constexpr char kHeader[] =
    "# version: t1\n"
    "code,label,unit,type,min,max,across_units,across_time,disclosive,"
    "frequency\n";

absl::StatusOr<std::shared_ptr<const Catalogue>> ParseRows(
    const std::string& rows) {
  return Catalogue::Parse(std::string(kHeader) + rows, "cat.csv");
}

TEST(CatalogueTest, ShippedFileCoversTheSpec) {
  auto c = Catalogue::LoadFile(::ohfed::testing::SourceDir() +
                               "/common/data/catalogue.csv");
  OHFED_ASSERT_OK(c);
  EXPECT_EQ((*c)->version(), Catalogue::Default()->version());
  EXPECT_EQ((*c)->measures().size(), Catalogue::Default()->measures().size());
  const Catalogue& cat = **c;
  // Table 1 staff groups, with vacancies; bases.
  for (const char* g :
       {"consultant_om", "other_doctor", "trainee", "nurse_specialist_oh",
        "nurse_general", "nurse_mental_health", "technician_hca", "physio_ot",
        "psychologist_counsellor", "manager", "admin", "other"}) {
    const Measure* wte = cat.Find(std::string("staffing.wte.") + g);
    ASSERT_NE(wte, nullptr) << g;
    EXPECT_EQ(wte->across_time, TimeAggregation::kLatest);
    EXPECT_EQ(wte->across_units, UnitAggregation::kSum);
    EXPECT_FALSE(wte->disclosive);
    EXPECT_NE(cat.Find(std::string("staffing.vacant_wte.") + g), nullptr) << g;
  }
  for (const char* b : {"employed", "locum", "bank", "contracted"}) {
    EXPECT_NE(cat.Find(std::string("staffing.wte_basis.") + b), nullptr) << b;
  }
  const Measure* imm = cat.Find("activity.count.immunisation");
  ASSERT_NE(imm, nullptr);
  EXPECT_TRUE(imm->disclosive);
  EXPECT_EQ(imm->across_time, TimeAggregation::kSum);
  EXPECT_EQ(imm->type, ValueType::kCount);
  const Measure* wait = cat.Find("activity.wait_days.management_referral");
  ASSERT_NE(wait, nullptr);
  EXPECT_EQ(wait->type, ValueType::kDistribution);
  EXPECT_TRUE(wait->disclosive);
  EXPECT_EQ(cat.WithPrefix("activity.count").size(), 15u);
  EXPECT_EQ(cat.OptionsOf("profile.host_type").size(), 6u);
  EXPECT_EQ(cat.OptionsOf("profile.reporting_line").size(), 5u);
  EXPECT_EQ(cat.WithPrefix("profile.covid").size(), 40u);
  EXPECT_NE(cat.Find("profile.covid.track_trace.strategic.host"), nullptr);
  EXPECT_EQ(cat.Find("profile.host_type.acute")->question, "profile.host_type");
  EXPECT_EQ(cat.Find("profile.staff_served")->frequency, Frequency::kYear);
  for (const char* d : {"staff_per_consultant", "consultant_gap_wte",
                        "specialist_nurse_share", "critical_mass"}) {
    EXPECT_NE(cat.Find(std::string("derived.") + d), nullptr) << d;
  }
}

// Find matches a whole code exactly, read through any string_view (as
// validation reads a cell's code in the request's buffer), and gives the
// measure in measures(). Every byte counts, not only those the index's hash
// reads (the length and the first and last 8).
TEST(CatalogueTest, FindsAWholeCodeOnly) {
  auto cat = Catalogue::Default();
  for (const Measure& m : cat->measures()) {
    const std::string in_a_buffer = "x" + m.code + "yz";
    EXPECT_EQ(
        cat->Find(absl::string_view(in_a_buffer).substr(1, m.code.size())), &m)
        << m.code;
    EXPECT_EQ(cat->Find(absl::string_view(m.code).substr(0, m.code.size() - 1)),
              nullptr)
        << m.code;
    EXPECT_EQ(cat->Find(m.code + "."), nullptr) << m.code;
    EXPECT_EQ(cat->Find(absl::AsciiStrToUpper(m.code)), nullptr) << m.code;
    ASSERT_GT(m.code.size(), 16u);  // byte 8 is in neither 8 the hash reads
    std::string middle = m.code;
    middle[8] = '#';  // in no code
    EXPECT_EQ(cat->Find(middle), nullptr) << middle;
  }
  EXPECT_EQ(cat->Find(""), nullptr);
  EXPECT_EQ(cat->Find("staffing.wte"), nullptr);
  EXPECT_EQ(cat->Find(absl::string_view("staffing.wte.admin\0", 19)), nullptr);
}

TEST(CatalogueTest, PrefixMatchesWholeSegments) {
  auto cat = Catalogue::Default();
  for (const Measure* m : cat->WithPrefix("staffing.wte")) {
    EXPECT_EQ(m->code.rfind("staffing.wte.", 0), 0u) << m->code;
  }
  EXPECT_EQ(cat->WithPrefix("staffing.wte").size(), 12u);
  EXPECT_EQ(cat->WithPrefix("").size(), cat->measures().size());
  EXPECT_TRUE(MeasureHasPrefix("a.b.c", "a.b"));
  EXPECT_FALSE(MeasureHasPrefix("a.bc", "a.b"));
}

TEST(CatalogueTest, CheckValueEnforcesTypeAndRange) {
  auto cat = Catalogue::Default();
  const Measure& wte = *cat->Find("staffing.wte.nurse_general");
  OHFED_EXPECT_OK(Catalogue::CheckValue(wte, 2.5));
  EXPECT_THAT(Catalogue::CheckValue(wte, -1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "staffing.wte.nurse_general: value -1 is outside"));
  const Measure& count = *cat->Find("activity.count.immunisation");
  EXPECT_THAT(Catalogue::CheckValue(count, 2.5),
              StatusIs(absl::StatusCode::kInvalidArgument, "whole number"));
  const Measure& yes = *cat->Find("profile.seqohs_accredited");
  EXPECT_THAT(Catalogue::CheckValue(yes, 2),
              StatusIs(absl::StatusCode::kInvalidArgument, "0 or 1"));
}

TEST(CatalogueTest, RejectsBadFilesNamingLineAndValue) {
  EXPECT_THAT(ParseRows("a.b,L,u,float,0,1,sum,sum,no,month\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "cat.csv line 3, column 'type': unknown value 'float'"));
  EXPECT_THAT(ParseRows("a.b,L,u,count,0,x1,sum,sum,no,month\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "column 'max': 'x1' is not a number"));
  EXPECT_THAT(ParseRows("a.b,L,u,count,5,1,sum,sum,no,month\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "line 3: min 5 exceeds max 1"));
  EXPECT_THAT(ParseRows("a.b,L,u,count,0,1,sum,sum,no,month\n"
                        "a.b,L,u,count,0,1,sum,sum,no,month\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "line 4: duplicate measure code 'a.b' (first defined "
                       "at line 3)"));
  EXPECT_THAT(ParseRows("A.B,L,u,count,0,1,sum,sum,no,month\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "malformed measure code 'A.B'"));
  EXPECT_THAT(ParseRows("a.b,L,u,count,0,1,sum,sum,maybe,month\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "column 'disclosive': unknown value 'maybe'"));
  EXPECT_THAT(ParseRows("a.b,L,u,count,0,1,sum\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "line 3: expected 10 fields, found 7"));
  EXPECT_THAT(ParseRows(""), StatusIs(absl::StatusCode::kInvalidArgument,
                                      "no measures after the header"));
  EXPECT_THAT(Catalogue::Parse("", "cat.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument, "empty file"));
  EXPECT_THAT(
      Catalogue::Parse("code,label,unit,type,min,max,across_units,across_time,"
                       "disclosive,frequency\na.b,L,u,count,0,1,sum,sum,no,"
                       "month\n",
                       "cat.csv"),
      StatusIs(absl::StatusCode::kInvalidArgument, "missing '# version"));
}

TEST(CatalogueTest, TruncatedShippedFileFailsClearly) {
  std::string text =
      *ReadFile(::ohfed::testing::SourceDir() + "/common/data/catalogue.csv");
  std::string truncated = text.substr(0, text.size() / 2);
  truncated = truncated.substr(0, truncated.rfind(',') + 1);  // mid-row
  int last_line = 1 + std::count(truncated.begin(), truncated.end(), '\n');
  auto c = Catalogue::Parse(truncated, "catalogue.csv");
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument,
                          "catalogue.csv line " + std::to_string(last_line)));
}

}  // namespace
}  // namespace ohfed
