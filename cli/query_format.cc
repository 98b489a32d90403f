#include "cli/query_format.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace ohfed {
namespace {

using Line = std::vector<std::string>;

// Left-aligned text columns, right-aligned numeric ones, two spaces apart.
std::string AlignedTable(const Line& header, const std::vector<Line>& lines,
                         const std::vector<bool>& numeric) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const Line& l : lines) {
    for (size_t c = 0; c < l.size(); ++c)
      width[c] = std::max(width[c], l[c].size());
  }
  std::string out;
  auto emit = [&](const Line& l) {
    std::string text;
    for (size_t c = 0; c < l.size(); ++c) {
      if (c > 0) text += "  ";
      std::string pad(width[c] - l[c].size(), ' ');
      text += numeric[c] ? pad + l[c] : l[c] + pad;
    }
    // Trailing padding of the last column carries no meaning.
    out += std::string(absl::StripTrailingAsciiWhitespace(text)) + "\n";
  };
  emit(header);
  for (const Line& l : lines) emit(l);
  return out;
}

std::string CsvLine(const Line& fields) {
  std::vector<std::string> quoted;
  for (const std::string& f : fields) quoted.push_back(CsvField(f));
  return absl::StrJoin(quoted, ",") + "\n";
}

std::string ValueText(const v1::Row& row) {
  return row.suppressed() ? "*" : FormatValue(row.value());
}

std::string YesNo(bool b) { return b ? "yes" : "no"; }

// The unit code of a scope string: "national" or the code after the colon.
std::string UnitOfScope(const std::string& scope) {
  size_t colon = scope.find(':');
  return colon == std::string::npos ? scope : scope.substr(colon + 1);
}

// The total line of one month (see the header comment for its shape).
Line CompletenessTotal(const v1::CompletenessResponse& r,
                       const v1::PeriodCompleteness& p) {
  const std::string& scope = r.scope();
  bool national = scope.find(':') == std::string::npos;
  bool ics_or_trust =
      scope.rfind("ics:", 0) == 0 || scope.rfind("trust:", 0) == 0;
  std::string ics, region;
  int64_t last = 0;
  for (const v1::TrustCompleteness& t : p.trusts()) {
    last = std::max(last, t.last_received_unix_ms());
  }
  if (p.trusts_size() > 0) {
    if (ics_or_trust) ics = p.trusts(0).ics();
    if (!national) region = p.trusts(0).region();
  }
  return {scope,
          p.period(),
          UnitOfScope(scope),
          r.scope_name(),
          ics,
          region,
          absl::StrCat(p.reported()),
          absl::StrCat(p.on_time()),
          FormatUnixMillis(last),
          "",
          "",
          absl::StrCat(p.expected())};
}

Line CompletenessTrust(const std::string& scope, const std::string& period,
                       const v1::TrustCompleteness& t) {
  return {scope,
          period,
          t.trust(),
          t.trust_name(),
          t.ics(),
          t.region(),
          YesNo(t.reported()),
          YesNo(t.on_time()),
          FormatUnixMillis(t.last_received_unix_ms()),
          t.sync_state(),
          absl::StrCat(t.revision()),
          ""};
}

Line CompletenessUnit(const std::string& scope, const std::string& period,
                      const v1::UnitCompleteness& u) {
  return {scope,
          period,
          u.unit(),
          u.unit_name(),
          "",
          "",
          absl::StrCat(u.reported()),
          absl::StrCat(u.on_time()),
          "",
          "",
          "",
          absl::StrCat(u.expected())};
}

std::string UnitsTable(const v1::PeriodCompleteness& p) {
  std::vector<Line> lines;
  for (const v1::UnitCompleteness& u : p.units()) {
    lines.push_back({u.unit(), u.unit_name(), absl::StrCat(u.expected()),
                     absl::StrCat(u.reported()), absl::StrCat(u.on_time())});
  }
  return AlignedTable({"unit", "unit_name", "expected", "reported", "on_time"},
                      lines, {false, false, true, true, true});
}

// A trust that has not reported is neither on time nor late (its deadline
// may not have passed): "-" rather than a "no" that reads as late.
std::string TrustsTable(const v1::PeriodCompleteness& p) {
  std::vector<Line> lines;
  for (const v1::TrustCompleteness& t : p.trusts()) {
    lines.push_back({t.trust(), t.trust_name(), t.ics(), t.region(),
                     YesNo(t.reported()),
                     t.reported() ? YesNo(t.on_time()) : "-",
                     FormatUnixMillis(t.last_received_unix_ms()),
                     t.sync_state(), absl::StrCat(t.revision())});
  }
  return AlignedTable(
      {"trust", "trust_name", "ics", "region", "reported", "on_time",
       "last_received", "sync_state", "revision"},
      lines, {false, false, false, false, false, false, false, false, true});
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text) {
  if (text == "table") return OutputFormat::kTable;
  if (text == "csv") return OutputFormat::kCsv;
  if (text == "json") return OutputFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown format '", text, "'; expected table, csv or json"));
}

std::string FormatValue(double value) {
  if (!std::isfinite(value)) return absl::StrFormat("%g", value);
  std::string s = absl::StrFormat("%.4f", value);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string FormatUnixMillis(int64_t unix_ms) {
  if (unix_ms == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

std::string CsvField(absl::string_view field) {
  if (field.find_first_of(",\"\r\n") == absl::string_view::npos) {
    return std::string(field);
  }
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string QueryToTable(const v1::QueryResponse& response) {
  if (response.rows().empty()) return "(no rows)\n";
  Line header = {"scope",   "unit", "unit_name", "period",
                 "measure", "stat", "value",     "n_units"};
  std::vector<Line> lines;
  for (const v1::Row& r : response.rows()) {
    lines.push_back({r.scope(), r.unit(), r.unit_name(), r.period(),
                     r.measure(), r.stat(), ValueText(r),
                     absl::StrCat(r.n_units())});
  }
  return AlignedTable(header, lines,
                      {false, false, false, false, false, false, true, true});
}

std::string QueryToCsv(const v1::QueryResponse& response) {
  std::string out = "scope,unit,unit_name,period,measure,stat,value,n_units\n";
  for (const v1::Row& r : response.rows()) {
    out += CsvLine({r.scope(), r.unit(), r.unit_name(), r.period(), r.measure(),
                    r.stat(), ValueText(r), absl::StrCat(r.n_units())});
  }
  return out;
}

std::string QueryToJson(const v1::QueryResponse& response) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const v1::Row& r : response.rows()) {
    nlohmann::ordered_json row;
    row["scope"] = r.scope();
    row["unit"] = r.unit();
    row["unit_name"] = r.unit_name();
    row["period"] = r.period();
    row["measure"] = r.measure();
    row["stat"] = r.stat();
    // A suppressed row carries no value at all, not even a placeholder.
    if (!r.suppressed()) row["value"] = r.value();
    row["suppressed"] = r.suppressed();
    row["n_units"] = r.n_units();
    rows.push_back(std::move(row));
  }
  nlohmann::ordered_json doc;
  doc["catalogue_version"] = response.catalogue_version();
  doc["registry_version"] = response.registry_version();
  doc["rows"] = std::move(rows);
  return doc.dump(2) + "\n";
}

std::string RenderQuery(const v1::QueryResponse& response,
                        OutputFormat format) {
  switch (format) {
    case OutputFormat::kTable:
      return QueryToTable(response);
    case OutputFormat::kCsv:
      return QueryToCsv(response);
    case OutputFormat::kJson:
      return QueryToJson(response);
  }
  return "";
}

std::string CompletenessToTable(const v1::CompletenessResponse& response) {
  std::string out;
  for (const v1::PeriodCompleteness& p : response.periods()) {
    if (!out.empty()) out += "\n";
    out += absl::StrFormat("%s %s: %d of %d trusts reported, %d on time\n",
                           p.period(), response.scope(), p.reported(),
                           p.expected(), p.on_time());
    out += p.units().empty() ? TrustsTable(p) : UnitsTable(p);
  }
  return out;
}

std::string CompletenessToCsv(const v1::CompletenessResponse& response) {
  std::string out =
      "scope,period,unit,unit_name,ics,region,reported,on_time,"
      "last_received,sync_state,revision,expected\n";
  for (const v1::PeriodCompleteness& p : response.periods()) {
    out += CsvLine(CompletenessTotal(response, p));
    for (const v1::TrustCompleteness& t : p.trusts()) {
      out += CsvLine(CompletenessTrust(response.scope(), p.period(), t));
    }
    for (const v1::UnitCompleteness& u : p.units()) {
      out += CsvLine(CompletenessUnit(response.scope(), p.period(), u));
    }
  }
  return out;
}

std::string CompletenessToJson(const v1::CompletenessResponse& response) {
  nlohmann::ordered_json periods = nlohmann::ordered_json::array();
  for (const v1::PeriodCompleteness& p : response.periods()) {
    nlohmann::ordered_json trusts = nlohmann::ordered_json::array();
    for (const v1::TrustCompleteness& t : p.trusts()) {
      nlohmann::ordered_json j;
      j["trust"] = t.trust();
      j["trust_name"] = t.trust_name();
      j["ics"] = t.ics();
      j["region"] = t.region();
      j["reported"] = t.reported();
      j["on_time"] = t.on_time();
      j["last_received"] = t.last_received_unix_ms() == 0
                               ? nlohmann::ordered_json()
                               : nlohmann::ordered_json(FormatUnixMillis(
                                     t.last_received_unix_ms()));
      j["last_received_unix_ms"] = t.last_received_unix_ms();
      j["sync_state"] = t.sync_state();
      j["revision"] = t.revision();
      trusts.push_back(std::move(j));
    }
    nlohmann::ordered_json units = nlohmann::ordered_json::array();
    for (const v1::UnitCompleteness& u : p.units()) {
      nlohmann::ordered_json j;
      j["unit"] = u.unit();
      j["unit_name"] = u.unit_name();
      j["expected"] = u.expected();
      j["reported"] = u.reported();
      j["on_time"] = u.on_time();
      units.push_back(std::move(j));
    }
    nlohmann::ordered_json j;
    j["period"] = p.period();
    j["expected"] = p.expected();
    j["reported"] = p.reported();
    j["on_time"] = p.on_time();
    j["trusts"] = std::move(trusts);
    j["units"] = std::move(units);
    periods.push_back(std::move(j));
  }
  nlohmann::ordered_json doc;
  doc["scope"] = response.scope();
  doc["scope_name"] = response.scope_name();
  doc["periods"] = std::move(periods);
  return doc.dump(2) + "\n";
}

std::string RenderCompleteness(const v1::CompletenessResponse& response,
                               OutputFormat format) {
  switch (format) {
    case OutputFormat::kTable:
      return CompletenessToTable(response);
    case OutputFormat::kCsv:
      return CompletenessToCsv(response);
    case OutputFormat::kJson:
      return CompletenessToJson(response);
  }
  return "";
}

}  // namespace ohfed
