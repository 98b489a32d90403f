// ohfed-sample-data: writes deterministic sample CSV files for one trust.
//   ohfed-sample-data --trust RJ1 --out DIR [--months 12] [--end YYYY-MM]
#include <CLI/CLI.hpp>
#include <iostream>

#include "agent/sample_data.h"
#include "common/period.h"

int main(int argc, char** argv) {
  CLI::App app("Write sample staffing, activity and profile CSV files");
  std::string trust, out, end;
  int months = 12;
  app.add_option("--trust", trust, "ODS code of the trust")->required();
  app.add_option("--out", out, "directory to write into")->required();
  app.add_option("--months", months, "number of months")
      ->check(CLI::Range(1, 120));
  app.add_option("--end", end, "last month YYYY-MM (default: last month)");
  CLI11_PARSE(app, argc, argv);
  ohfed::Month last = ohfed::Month::Containing(absl::Now()) - 1;
  if (!end.empty()) {
    auto m = ohfed::Month::Parse(end);
    if (!m.ok()) {
      std::cerr << "ohfed-sample-data: " << m.status().message() << "\n";
      return 2;
    }
    last = *m;
  }
  auto files = ohfed::agent::MakeSampleData(trust, last - (months - 1), last);
  if (auto s = ohfed::agent::WriteSampleData(files, out); !s.ok()) {
    std::cerr << "ohfed-sample-data: " << s.message() << "\n";
    return 1;
  }
  return 0;
}
