// The body of the three CSV importer fuzz targets (one per import kind,
// agent/importer.h), header-only. The input is the CSV file. Properties:
// nothing crashes; the counts are consistent; and every period whose valid
// rows make cells (the agent's summary, agent/summary.h) makes a summary the
// aggregator's validation accepts, so an import the agent takes is never
// refused upstream for ever.
#ifndef OHFED_TESTS_FUZZ_IMPORT_FUZZ_H_
#define OHFED_TESTS_FUZZ_IMPORT_FUZZ_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "agent/importer.h"
#include "agent/summary.h"
#include "aggregator/validation.h"
#include "common/catalogue.h"
#include "common/registry.h"
#include "tests/fuzz/fuzz_check.h"

namespace ohfed::fuzz {

// The cells of `records`, made into the summary the agent would send, must
// pass the aggregator's checks.
inline void CheckSummaryOf(const std::string& period,
                           const agent::PeriodRecords& records,
                           const Catalogue& catalogue,
                           const RegistryHistory& registry, absl::Time now) {
  absl::StatusOr<std::vector<v1::Cell>> cells =
      agent::ComputeCells(catalogue, records);
  if (!cells.ok() || cells->empty()) return;
  v1::UnitSummary s;
  s.set_trust("RJ1");
  s.set_period(period);
  s.set_revision(1);
  s.set_catalogue_version(catalogue.version());
  for (const v1::Cell& c : *cells) *s.add_cells() = c;
  static const auto* versions = new CatalogueVersions(Catalogue::Default());
  absl::Status valid = aggregator::ValidateSummary(s, *versions, registry, now);
  FUZZ_CHECK(valid.ok(), absl::StrCat(period, ": ", valid.message()));
}

inline int FuzzImport(v1::ImportKind kind, const uint8_t* data, size_t size) {
  static const auto* catalogue = Catalogue::Default().get();
  static const auto* registry = new RegistryHistory(Registry::England());
  // The agent's clock: June 2026 (anything later is a future date).
  const absl::Time now = absl::FromCivil(
      absl::CivilSecond(2026, 7, 20, 0, 0, 0), absl::UTCTimeZone());
  agent::ImportContext context{catalogue, "RJ1", Month::Of(2026, 6), "fuzz.csv",
                               absl::CivilDay(2026, 6, 30)};
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<agent::ParsedImport> parsed =
      agent::ParseImport(kind, text, context);
  if (!parsed.ok()) return 0;
  const agent::ParsedImport& p = *parsed;
  FUZZ_CHECK(p.kind == kind, "kind");
  FUZZ_CHECK(p.rows_invalid <= p.rows_read, "rows_invalid > rows_read");
  FUZZ_CHECK(p.errors.size() <= agent::kMaxReportedProblems, "errors listed");
  FUZZ_CHECK(p.errors_total >= p.errors.size(), "errors_total");
  v1::ImportResponse response;
  agent::ReportParse(p, &response);
  std::vector<v1::RowProblem> warnings = p.warnings;
  agent::NameLines(p, &warnings);
  (void)response.ByteSizeLong();
  agent::ImportedRecords records = agent::RecordsOf(p);
  for (const auto& [period, rows] : records.staffing) {
    CheckSummaryOf(period, {.staffing = rows}, *catalogue, *registry, now);
  }
  for (const auto& [period, rows] : records.activity) {
    CheckSummaryOf(period, {.activity = rows}, *catalogue, *registry, now);
  }
  for (const auto& [period, answers] : records.profile) {
    CheckSummaryOf(period, {.profile = answers}, *catalogue, *registry, now);
  }
  return 0;
}

}  // namespace ohfed::fuzz

#endif  // OHFED_TESTS_FUZZ_IMPORT_FUZZ_H_
