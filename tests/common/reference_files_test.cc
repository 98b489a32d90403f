// Loading registry versions and catalogue versions from several files and
// folders (common/reference_files.h; issue 11).
#include "common/reference_files.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/csv.h"
#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::StatusIs;
using ::ohfed::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kColumns[] =
    "region_code,region_name,ics_code,ics_name,trust_code,trust_name\n";

// A registry version: X and Y in ICS I1 until the merger, Y alone after.
std::string Version(const std::string& name, const std::string& from,
                    const std::string& rows) {
  return absl::StrCat("# version: ", name, "\n# effective_from: ", from, "\n",
                      kColumns, rows);
}
constexpr char kBefore[] =
    "R1,North,I1,ICS one,X,Trust X\nR1,North,I1,ICS one,Y,Trust Y\n";
constexpr char kAfter[] = "R1,North,I1,ICS one,Y,Trust Y (with X)\n";

class ReferenceFilesTest : public ::testing::Test {
 protected:
  // A folder under the temp dir, created.
  std::string Folder(const std::string& name) {
    std::filesystem::create_directories(dir_.File(name));
    return dir_.File(name);
  }
  TempDir dir_;
};

TEST_F(ReferenceFilesTest, FolderHoldsOneVersionPerFile) {
  const std::string folder = Folder("registry");
  dir_.Write("registry/2022-07.csv", Version("v1", "2022-07", kBefore));
  dir_.Write("registry/2024-04-merger.csv", Version("v2", "2024-04", kAfter));
  dir_.Write("registry/README.txt", "not a registry");
  dir_.Write("registry/.2024-04-merger.csv.swp", "an editor's leftover");
  auto history = LoadRegistryHistory({folder});
  OHFED_ASSERT_OK(history);
  EXPECT_EQ((*history)->versions().size(), 2u);
  EXPECT_EQ((*history)->At(Month::Of(2024, 3)).version(), "v1");
  EXPECT_NE((*history)->At(Month::Of(2024, 3)).FindTrust("X"), nullptr);
  EXPECT_EQ((*history)->At(Month::Of(2024, 4)).version(), "v2");
  EXPECT_EQ((*history)->At(Month::Of(2024, 4)).FindTrust("X"), nullptr);
  EXPECT_EQ(Describe(**history),
            "registry versions v1 (from 2022-07, 2 trusts), v2 (from "
            "2024-04, 1 trusts)");
}

TEST_F(ReferenceFilesTest, FilesAndFoldersMix) {
  const std::string folder = Folder("more");
  const std::string first =
      dir_.Write("first.csv", Version("v1", "2022-07", kBefore));
  dir_.Write("more/v2.csv", Version("v2", "2024-04", kAfter));
  dir_.Write("more/v3.csv",
             Version("v3", "2025-01", "R1,North,I2,ICS two,Y,Trust Y\n"));
  auto history = LoadRegistryHistory({first, folder});
  OHFED_ASSERT_OK(history);
  EXPECT_EQ((*history)->Latest().version(), "v3");
  EXPECT_EQ((*history)->At(Month::Of(2025, 2)).FindTrust("Y")->ics, "I2");
}

TEST_F(ReferenceFilesTest, NoFilesMeansEngland) {
  auto history = LoadRegistryHistory({});
  OHFED_ASSERT_OK(history);
  EXPECT_EQ((*history)->Latest().trust_count(), 207u);
}

TEST_F(ReferenceFilesTest, TwoVersionsOfOneMonthAreRefusedNamingBoth) {
  const std::string folder = Folder("registry");
  const std::string a =
      dir_.Write("registry/a.csv", Version("v1", "2024-04", kBefore));
  const std::string b =
      dir_.Write("registry/b.csv", Version("v2", "2024-04", kAfter));
  EXPECT_THAT(LoadRegistryHistory({folder}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("registry files ", a, " and ", b,
                                    " are both effective from 2024-04")));
}

TEST_F(ReferenceFilesTest, MalformedVersionIsRefusedNamingFileAndLine) {
  const std::string folder = Folder("registry");
  dir_.Write("registry/a.csv", Version("v1", "2022-07", kBefore));
  const std::string bad = dir_.Write(
      "registry/b.csv",
      Version("v2", "2024-04", "R1,North,I1,ICS one,Y,Trust Y\nR1,North\n"));
  EXPECT_THAT(
      LoadRegistryHistory({folder}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               absl::StrCat(bad, " line 5: expected 6 fields, found 2")));
  const std::string month = dir_.Write(
      "registry/b.csv", Version("v2", "2024-4", "R1,North,I1,ICS one,Y,Y\n"));
  EXPECT_THAT(LoadRegistryHistory({folder}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat(month, " line 2: effective_from")));
}

TEST_F(ReferenceFilesTest, MissingPathsAndEmptyFoldersAreNamed) {
  EXPECT_THAT(LoadRegistryHistory({dir_.File("absent")}),
              StatusIs(absl::StatusCode::kNotFound,
                       absl::StrCat("registry file or folder ",
                                    dir_.File("absent"), " not found")));
  const std::string empty = Folder("empty");
  dir_.Write("empty/notes.txt", "x");
  EXPECT_THAT(
      LoadRegistryHistory({empty}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               absl::StrCat("registry folder ", empty, " holds no .csv file")));
}

// A catalogue version: the embedded one's header with another version.
std::string CatalogueText(const std::string& version,
                          const std::string& extra_rows) {
  std::string text =
      *ReadFile(::ohfed::testing::SourceDir() + "/common/data/catalogue.csv");
  const std::string old_line =
      absl::StrCat("# version: ", Catalogue::Default()->version());
  text.replace(text.find(old_line), old_line.size(),
               absl::StrCat("# version: ", version));
  return text + extra_rows;
}

TEST_F(ReferenceFilesTest, NewerCatalogueIsCurrentAndOlderOnesStayKnown) {
  const std::string newer = dir_.Write(
      "catalogue-2030.1.csv",
      CatalogueText("2030.1",
                    "activity.count.flu_vaccination,Flu vaccinations,count,"
                    "count,0,1000000,sum,sum,yes,month\n"));
  auto versions = LoadCatalogueVersions({newer});
  OHFED_ASSERT_OK(versions);
  const std::string shipped = Catalogue::Default()->version();
  EXPECT_EQ((*versions)->current().version(), "2030.1");
  EXPECT_THAT((*versions)->versions(), ElementsAre("2030.1", shipped));
  ASSERT_NE((*versions)->Find(shipped), nullptr);
  EXPECT_EQ((*versions)->Find(shipped)->Find("activity.count.flu_vaccination"),
            nullptr);
  EXPECT_NE((*versions)->current().Find("activity.count.flu_vaccination"),
            nullptr);
  EXPECT_EQ((*versions)->Find("1999.1"), nullptr);
  EXPECT_EQ(Describe(**versions),
            absl::StrCat("catalogue 2030.1 (also accepting summaries of ",
                         shipped, ")"));

  // In a folder with an older one, the newest is current whatever the names.
  const std::string folder = Folder("catalogues");
  dir_.Write("catalogues/a-2030.10.csv", CatalogueText("2030.10", ""));
  dir_.Write("catalogues/b-2030.2.csv", CatalogueText("2030.2", ""));
  versions = LoadCatalogueVersions({folder});
  OHFED_ASSERT_OK(versions);
  EXPECT_THAT((*versions)->versions(),
              ElementsAre("2030.10", "2030.2", shipped));
}

TEST_F(ReferenceFilesTest, TwoCataloguesOfOneVersionAreRefusedNamingBoth) {
  const std::string a = dir_.Write("a.csv", CatalogueText("2030.1", ""));
  const std::string b = dir_.Write("b.csv", CatalogueText("2030.1", ""));
  EXPECT_THAT(LoadCatalogueVersions({a, b}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("catalogue files ", a, " and ", b,
                                    " are both version 2030.1")));
}

TEST(CompareVersionsTest, DigitRunsCompareAsNumbers) {
  EXPECT_LT(CompareVersions("2026.2", "2026.10"), 0);
  EXPECT_LT(CompareVersions("2026.10", "2027.1"), 0);
  EXPECT_GT(CompareVersions("2027.1", "2026.1"), 0);
  EXPECT_EQ(CompareVersions("2026.1", "2026.01"), 0);
  EXPECT_LT(CompareVersions("2026.1", "2026.1a"), 0);
  EXPECT_LT(CompareVersions("t1", "t2"), 0);
}

}  // namespace
}  // namespace ohfed
