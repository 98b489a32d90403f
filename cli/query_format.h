// Renders query answers (SPEC §6) for people and programs: an aligned text
// table, CSV, or JSON. Shared by `ohfed query` and, later, the dashboard's
// CSV download. Pure functions of the response.
//
// Values are printed without trailing zeros: integers as integers ("12"),
// others with up to 4 decimals ("0.3333", "2.5"). A suppressed value
// (disclosure control, SPEC §7) is printed as "*" in the table and CSV; in
// JSON its row has "suppressed": true and no "value". CSV follows RFC 4180: a
// field containing a comma, quote, CR or LF is quoted, quotes doubled; lines
// end with "\n".
//
// Query CSV: exactly the header
//   scope,unit,unit_name,period,measure,stat,value,n_units
// then one line per row.
//
// Completeness CSV: the header (one line; `expected` comes last so the
// columns before it keep the places the spec's list gives them)
//   scope,period,unit,unit_name,ics,region,reported,on_time,last_received,
//   sync_state,revision,expected
// then, for each month of the period, first ONE TOTAL LINE for the scope,
// then one line per trust of the scope:
//   total line: unit is the scope's unit ("national", or the bare region,
//               ICS or trust code), unit_name its name, ics/region the
//               scope's ICS/region where it has one (else empty), reported and
//               on_time the COUNTS of trusts, last_received the latest among
//               them, sync_state and revision empty, expected the number of
//               trusts in the scope. E.g. with 5 of 207 trusts reported:
//                 national,2026-03,national,England,,,5,4,2026-04-02T10:00:00Z,,,207
//               so `grep '^national,2026-03,national,' | cut -d, -f7` prints
//               5 (names containing commas are quoted: use a CSV reader for
//               ICS totals in general).
//   trust line: unit is the trust code; reported and on_time "yes"/"no";
//               last_received as below (empty for a trust that did not
//               report the month); sync_state current|behind|silent;
//               revision the held revision (0 if none); expected empty.
// With a breakdown by region or ICS (CompletenessRequest.by) the month has,
// after its total line, one unit line per region or ICS instead of the
// trust lines:
//   unit line:  unit is the region or ICS code, unit_name its name, ics and
//               region empty, reported and on_time COUNTS of trusts,
//               last_received, sync_state and revision empty, expected the
//               number of trusts in the unit. E.g.
//                 national,2026-03,Y56,London,,,4,4,,,,31
// Times are UTC ISO 8601 ("2026-04-02T10:00:00Z"), empty for never.
#ifndef OHFED_CLI_QUERY_FORMAT_H_
#define OHFED_CLI_QUERY_FORMAT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ohfed/v1/ohfed.pb.h"

namespace ohfed {

enum class OutputFormat { kTable, kCsv, kJson };

// "table", "csv" or "json"; kInvalidArgument naming the text otherwise.
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text);

// A value as described above ("12", "0.3333").
std::string FormatValue(double value);
// UTC ISO 8601, or "" for 0 (never).
std::string FormatUnixMillis(int64_t unix_ms);
// One RFC 4180 field, quoted only when needed.
std::string CsvField(absl::string_view field);

// Table: a header line and one aligned line per row (numbers right-aligned),
// or a single "(no rows)" line.
std::string QueryToTable(const v1::QueryResponse& response);
std::string QueryToCsv(const v1::QueryResponse& response);
// {"catalogue_version", "registry_version", "rows": [{"scope", "unit",
// "unit_name", "period", "measure", "stat", "value" (absent when
// suppressed), "suppressed", "n_units"}]}, pretty-printed.
std::string QueryToJson(const v1::QueryResponse& response);
std::string RenderQuery(const v1::QueryResponse& response, OutputFormat format);

// Table: per month a line "<period> <scope>: R of E trusts reported, T on
// time", then an aligned table of the trusts (on_time "-" for a trust that
// has not reported), or of the units (unit,
// unit_name, expected, reported, on_time) with a breakdown.
std::string CompletenessToTable(const v1::CompletenessResponse& response);
std::string CompletenessToCsv(const v1::CompletenessResponse& response);
// {"scope", "scope_name", "periods": [{"period", "expected", "reported",
// "on_time", "trusts": [{"trust", "trust_name", "ics", "region", "reported",
// "on_time", "last_received" (null if never or not reported),
// "last_received_unix_ms", "sync_state", "revision"}], "units": [{"unit",
// "unit_name", "expected", "reported", "on_time"}]}]}; one of "trusts" and
// "units" is empty.
std::string CompletenessToJson(const v1::CompletenessResponse& response);
std::string RenderCompleteness(const v1::CompletenessResponse& response,
                               OutputFormat format);

}  // namespace ohfed

#endif  // OHFED_CLI_QUERY_FORMAT_H_
