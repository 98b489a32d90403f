#include "common/registry.h"

#include "common/csv.h"
#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::StatusIs;
using ::testing::ElementsAre;

constexpr char kHeader[] =
    "# version: v1\n# effective_from: 2022-07\n"
    "region_code,region_name,ics_code,ics_name,trust_code,trust_name\n";

absl::StatusOr<std::shared_ptr<const Registry>> ParseRows(
    const std::string& rows) {
  return Registry::Parse(std::string(kHeader) + rows, "orgs.csv");
}

TEST(RegistryTest, EnglandHasSevenRegions42IcssAndTheirTrusts) {
  auto reg = Registry::England();
  EXPECT_EQ(reg->regions().size(), 7u);
  size_t icss = 0;
  for (const Region& r : reg->regions()) icss += r.icss.size();
  EXPECT_EQ(icss, 42u);
  EXPECT_EQ(reg->trust_count(), 207u);
  const Trust* gstt = reg->FindTrust("RJ1");
  ASSERT_NE(gstt, nullptr);
  EXPECT_EQ(gstt->ics, "QKK");
  EXPECT_EQ(gstt->region, "Y56");
  EXPECT_EQ(reg->effective_from(), Month::Of(2022, 7));
  // The shipped file equals the reference data it was copied from.
  auto file = Registry::LoadFile(::ohfed::testing::SourceDir() +
                                 "/common/data/england_orgs.csv");
  OHFED_ASSERT_OK(file);
  EXPECT_EQ((*file)->trust_count(), 207u);
}

TEST(RegistryTest, ScopesAndHierarchy) {
  auto reg = ParseRows(
      "R1,North,I1,ICS one,T1,Trust one\n"
      "R1,North,I1,ICS one,T2,Trust two\n"
      "R1,North,I2,ICS two,T3,Trust three\n"
      "R2,South,I3,ICS three,T4,Trust four\n");
  OHFED_ASSERT_OK(reg);
  const Registry& r = **reg;
  EXPECT_THAT(r.TrustsIn(*Scope::Parse("region:R1")),
              ElementsAre("T1", "T2", "T3"));
  EXPECT_THAT(r.TrustsIn(*Scope::Parse("ics:i1")), ElementsAre("T1", "T2"));
  EXPECT_THAT(r.TrustsIn(Scope::National()).size(), 4u);
  auto icss = r.Children(*Scope::Parse("region:R1"), Scope::Level::kIcs);
  ASSERT_EQ(icss.size(), 2u);
  EXPECT_EQ(icss[1].ToString(), "ics:I2");
  EXPECT_EQ(r.Enclosing("T4", Scope::Level::kRegion).ToString(), "region:R2");
  EXPECT_EQ(r.NameOf(*Scope::Parse("ics:I3")), "ICS three");
  EXPECT_EQ(r.NameOf(Scope::National()), "England");
  EXPECT_TRUE(r.Contains(*Scope::Parse("region:R2"), "T4"));
  EXPECT_FALSE(r.Contains(*Scope::Parse("region:R2"), "T1"));
  EXPECT_THAT(r.Check(*Scope::Parse("ics:NOPE")),
              StatusIs(absl::StatusCode::kNotFound, "unknown ics 'NOPE'"));
}

TEST(RegistryTest, ScopeParseErrors) {
  EXPECT_THAT(Scope::Parse("county:X"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "malformed scope 'county:X'"));
  EXPECT_THAT(Scope::Parse("ics"),
              StatusIs(absl::StatusCode::kInvalidArgument, "ics needs a code"));
  EXPECT_THAT(Scope::Parse("national:X"),
              StatusIs(absl::StatusCode::kInvalidArgument, "takes no code"));
}

TEST(RegistryTest, RejectsInconsistentFilesNamingLineAndCode) {
  EXPECT_THAT(ParseRows("R1,North,I1,ICS one,T1,Trust one\n"
                        "R1,North,I1,ICS one,T1,Trust one\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "orgs.csv line 5: duplicate row for trust 'T1' (first "
                       "at line 4)"));
  EXPECT_THAT(ParseRows("R1,North,I1,ICS one,T1,Trust one\n"
                        "R1,North,I2,ICS two,T1,Trust one\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "line 5: trust 'T1' placed in ICS 'I2' but line 4 "
                       "places it in ICS 'I1'"));
  EXPECT_THAT(ParseRows("R1,North,I1,ICS one,T1,Trust one\n"
                        "R2,South,I1,ICS one,T2,Trust two\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "ICS 'I1' placed in region 'R2'"));
  EXPECT_THAT(ParseRows("R1,North,I1,ICS one,T1,Trust one\n"
                        "R1,Norf,I1,ICS one,T2,Trust two\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "region 'R1' named 'Norf' but line 4 names it 'North'"));
  EXPECT_THAT(
      ParseRows("R1,North,I1,ICS one,,Trust one\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, "line 4: empty trust_code"));
  EXPECT_THAT(ParseRows("R1,North,I1\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "line 4: expected 6 fields, found 3"));
  EXPECT_THAT(ParseRows(""),
              StatusIs(absl::StatusCode::kInvalidArgument, "no organisations"));
  EXPECT_THAT(
      Registry::Parse("", "orgs.csv"),
      StatusIs(absl::StatusCode::kInvalidArgument, "orgs.csv: empty file"));
  EXPECT_THAT(Registry::Parse("region_code,ics_code\n", "orgs.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "lacks required column(s) region_name"));
  EXPECT_THAT(Registry::Parse("# effective_from: 2022-13\n"
                              "region_code,region_name,ics_code,ics_name,"
                              "trust_code,trust_name\nR,N,I,J,T,U\n",
                              "orgs.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument, "effective_from"));
}

TEST(RegistryTest, TruncatedEnglandFileFailsClearly) {
  std::string text = *ReadFile(::ohfed::testing::SourceDir() +
                               "/common/data/england_orgs.csv");
  std::string cut = text.substr(0, text.size() / 2);
  cut = cut.substr(0, cut.rfind(',') + 1);
  EXPECT_THAT(Registry::Parse(cut, "england_orgs.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument, "fields, found"));
}

TEST(RegistryTest, HistoryPicksTheVersionInEffect) {
  auto v1 = ParseRows(
      "R1,North,I1,ICS one,T1,Trust one\n"
      "R1,North,I1,ICS one,T2,Trust two\n");
  auto v2 = Registry::Parse(
      "# version: v2\n# effective_from: 2024-04\n"
      "region_code,region_name,ics_code,ics_name,trust_code,trust_name\n"
      "R1,North,I1,ICS one,T9,Merged trust\n",
      "v2.csv");
  OHFED_ASSERT_OK(v1);
  OHFED_ASSERT_OK(v2);
  RegistryHistory h(*v1);
  OHFED_ASSERT_OK(h.Add(*v2));
  EXPECT_EQ(h.At(Month::Of(2023, 1)).version(), "v1");
  EXPECT_EQ(h.At(Month::Of(2024, 4)).version(), "v2");
  EXPECT_EQ(h.At(Month::Of(2020, 1)).version(), "v1");
  EXPECT_EQ(h.Latest().version(), "v2");
  EXPECT_NE(h.At(Month::Of(2023, 1)).FindTrust("T2"), nullptr);
  EXPECT_EQ(h.At(Month::Of(2024, 5)).FindTrust("T2"), nullptr);
  EXPECT_THAT(h.Add(*v2),
              StatusIs(absl::StatusCode::kAlreadyExists, "2024-04"));
}

}  // namespace
}  // namespace ohfed
