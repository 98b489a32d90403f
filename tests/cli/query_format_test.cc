#include "cli/query_format.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "tests/testing/testing.h"

namespace ohfed {
namespace {

using ::ohfed::testing::StatusIs;
using ::testing::HasSubstr;

v1::Row MakeRow(const std::string& unit, const std::string& name,
                const std::string& stat, double value, uint32_t n,
                bool suppressed = false) {
  v1::Row r;
  r.set_scope("region:Y56");
  r.set_unit(unit);
  r.set_unit_name(name);
  r.set_period("2026-Q1");
  r.set_measure("activity.count.immunisation");
  r.set_stat(stat);
  r.set_value(value);
  r.set_n_units(n);
  r.set_suppressed(suppressed);
  return r;
}

v1::QueryResponse SmallResponse() {
  v1::QueryResponse resp;
  resp.set_catalogue_version("2026.1");
  resp.set_registry_version("england-2023.1");
  *resp.add_rows() =
      MakeRow("QKK", "NHS South East London ICB", "sum", 1250, 5);
  *resp.add_rows() =
      MakeRow("QOX", "NHS Bath, \"BSW\" ICB", "mean", 2.0 / 3, 3);
  *resp.add_rows() =
      MakeRow("QMF", "NHS North East London ICB", "sum", 4, 1, true);
  return resp;
}

TEST(QueryFormatTest, FormatsValuesWithoutTrailingZeros) {
  EXPECT_EQ(FormatValue(12), "12");
  EXPECT_EQ(FormatValue(2.5), "2.5");
  EXPECT_EQ(FormatValue(1.0 / 3), "0.3333");
  EXPECT_EQ(FormatValue(-2.142857), "-2.1429");
  EXPECT_EQ(FormatValue(-0.00001), "0");
  EXPECT_EQ(FormatValue(1e9), "1000000000");
  EXPECT_EQ(FormatValue(0.99999), "1");
}

TEST(QueryFormatTest, CsvIsExact) {
  EXPECT_EQ(QueryToCsv(SmallResponse()),
            "scope,unit,unit_name,period,measure,stat,value,n_units\n"
            "region:Y56,QKK,NHS South East London ICB,2026-Q1,"
            "activity.count.immunisation,sum,1250,5\n"
            "region:Y56,QOX,\"NHS Bath, \"\"BSW\"\" ICB\",2026-Q1,"
            "activity.count.immunisation,mean,0.6667,3\n"
            "region:Y56,QMF,NHS North East London ICB,2026-Q1,"
            "activity.count.immunisation,sum,*,1\n");
}

TEST(QueryFormatTest, JsonParsesBack) {
  auto doc = nlohmann::json::parse(QueryToJson(SmallResponse()));
  EXPECT_EQ(doc["catalogue_version"], "2026.1");
  EXPECT_EQ(doc["registry_version"], "england-2023.1");
  ASSERT_EQ(doc["rows"].size(), 3u);
  EXPECT_EQ(doc["rows"][0]["unit"], "QKK");
  EXPECT_EQ(doc["rows"][0]["value"], 1250.0);
  EXPECT_EQ(doc["rows"][0]["n_units"], 5);
  EXPECT_EQ(doc["rows"][1]["unit_name"], "NHS Bath, \"BSW\" ICB");
  EXPECT_FALSE(doc["rows"][2].contains("value"));
  EXPECT_EQ(doc["rows"][2]["suppressed"], true);
}

TEST(QueryFormatTest, TableAlignsAndStarsSuppressed) {
  std::string table = QueryToTable(SmallResponse());
  std::vector<std::string> lines =
      absl::StrSplit(table, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[0], HasSubstr("unit_name"));
  EXPECT_THAT(lines[3], HasSubstr("  *  "));
  // Right-aligned numbers end in the same column.
  EXPECT_EQ(lines[1].size(), lines[3].size());
  EXPECT_EQ(lines[1].find("1250") + 4, lines[3].find('*') + 1);
  EXPECT_EQ(QueryToTable(v1::QueryResponse()), "(no rows)\n");
}

v1::CompletenessResponse SmallCompleteness() {
  v1::CompletenessResponse resp;
  resp.set_scope("ics:QKK");
  resp.set_scope_name("NHS South East London ICB");
  v1::PeriodCompleteness* p = resp.add_periods();
  p->set_period("2026-03");
  p->set_expected(2);
  p->set_reported(1);
  p->set_on_time(1);
  v1::TrustCompleteness* a = p->add_trusts();
  a->set_trust("RJ1");
  a->set_trust_name("Guy's and St Thomas' NHS Foundation Trust");
  a->set_ics("QKK");
  a->set_region("Y56");
  a->set_reported(true);
  a->set_on_time(true);
  a->set_last_received_unix_ms(1775124000000);  // 2026-04-02T10:00:00Z
  a->set_sync_state("current");
  a->set_revision(7);
  v1::TrustCompleteness* b = p->add_trusts();
  b->set_trust("RJ2");
  b->set_trust_name("Lewisham and Greenwich NHS Trust");
  b->set_ics("QKK");
  b->set_region("Y56");
  b->set_sync_state("silent");
  return resp;
}

TEST(QueryFormatTest, CompletenessCsvHasATotalLinePerMonth) {
  EXPECT_EQ(
      CompletenessToCsv(SmallCompleteness()),
      "scope,period,unit,unit_name,ics,region,reported,on_time,"
      "last_received,sync_state,revision,expected\n"
      "ics:QKK,2026-03,QKK,NHS South East London ICB,QKK,Y56,1,1,"
      "2026-04-02T10:00:00Z,,,2\n"
      "ics:QKK,2026-03,RJ1,Guy's and St Thomas' NHS Foundation Trust,QKK,"
      "Y56,yes,yes,2026-04-02T10:00:00Z,current,7,\n"
      "ics:QKK,2026-03,RJ2,Lewisham and Greenwich NHS Trust,QKK,Y56,no,no,"
      ",silent,0,\n");
}

TEST(QueryFormatTest, CompletenessTableAndJson) {
  std::string table = CompletenessToTable(SmallCompleteness());
  EXPECT_THAT(
      table, HasSubstr("2026-03 ics:QKK: 1 of 2 trusts reported, 1 on time\n"));
  EXPECT_THAT(table, HasSubstr("silent"));
  // RJ2 has not reported: not "no", which would read as late.
  EXPECT_THAT(table, HasSubstr("RJ2    Lewisham and Greenwich NHS Trust        "
                               "   QKK  Y56     no        -"));
  auto doc = nlohmann::json::parse(CompletenessToJson(SmallCompleteness()));
  EXPECT_EQ(doc["scope"], "ics:QKK");
  EXPECT_EQ(doc["periods"][0]["expected"], 2);
  EXPECT_EQ(doc["periods"][0]["trusts"][0]["last_received"],
            "2026-04-02T10:00:00Z");
  EXPECT_TRUE(doc["periods"][0]["trusts"][1]["last_received"].is_null());
}

v1::CompletenessResponse ByRegionCompleteness() {
  v1::CompletenessResponse resp;
  resp.set_scope("national");
  resp.set_scope_name("England");
  v1::PeriodCompleteness* p = resp.add_periods();
  p->set_period("2026-03");
  p->set_expected(73);
  p->set_reported(5);
  p->set_on_time(4);
  v1::UnitCompleteness* london = p->add_units();
  london->set_unit("Y56");
  london->set_unit_name("London");
  london->set_expected(31);
  london->set_reported(4);
  london->set_on_time(4);
  v1::UnitCompleteness* ney = p->add_units();
  ney->set_unit("Y63");
  ney->set_unit_name("North East and Yorkshire");
  ney->set_expected(42);
  ney->set_reported(1);
  return resp;
}

TEST(QueryFormatTest, CompletenessByUnitInEveryFormat) {
  EXPECT_EQ(CompletenessToCsv(ByRegionCompleteness()),
            "scope,period,unit,unit_name,ics,region,reported,on_time,"
            "last_received,sync_state,revision,expected\n"
            "national,2026-03,national,England,,,5,4,,,,73\n"
            "national,2026-03,Y56,London,,,4,4,,,,31\n"
            "national,2026-03,Y63,North East and Yorkshire,,,1,0,,,,42\n");
  EXPECT_EQ(CompletenessToTable(ByRegionCompleteness()),
            "2026-03 national: 5 of 73 trusts reported, 4 on time\n"
            "unit  unit_name                 expected  reported  on_time\n"
            "Y56   London                          31         4        4\n"
            "Y63   North East and Yorkshire        42         1        0\n");
  auto doc = nlohmann::json::parse(CompletenessToJson(ByRegionCompleteness()));
  EXPECT_TRUE(doc["periods"][0]["trusts"].empty());
  EXPECT_EQ(doc["periods"][0]["units"][1]["unit"], "Y63");
  EXPECT_EQ(doc["periods"][0]["units"][1]["expected"], 42);
  EXPECT_EQ(doc["periods"][0]["units"][0]["on_time"], 4);
}

TEST(QueryFormatTest, ParsesFormatNames) {
  EXPECT_EQ(*ParseOutputFormat("csv"), OutputFormat::kCsv);
  EXPECT_THAT(ParseOutputFormat("xml"),
              StatusIs(absl::StatusCode::kInvalidArgument, "'xml'"));
}

}  // namespace
}  // namespace ohfed
