#include "common/catalogue.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/csv.h"
#include "common/embedded_data.h"
#include "common/status.h"

namespace ohfed {
namespace {

template <typename E>
struct Name {
  const char* text;
  E value;
};

constexpr Name<ValueType> kTypes[] = {
    {"number", ValueType::kNumber},
    {"count", ValueType::kCount},
    {"bool", ValueType::kBool},
    {"option", ValueType::kOption},
    {"distribution", ValueType::kDistribution},
    {"derived", ValueType::kDerived}};
constexpr Name<UnitAggregation> kUnitAggs[] = {
    {"sum", UnitAggregation::kSum},
    {"pool", UnitAggregation::kPool},
    {"yes", UnitAggregation::kYes},
    {"derived", UnitAggregation::kDerived}};
constexpr Name<TimeAggregation> kTimeAggs[] = {
    {"sum", TimeAggregation::kSum},
    {"latest", TimeAggregation::kLatest},
    {"annual", TimeAggregation::kAnnual},
    {"pool", TimeAggregation::kPool},
    {"derived", TimeAggregation::kDerived}};
constexpr Name<Frequency> kFrequencies[] = {{"month", Frequency::kMonth},
                                            {"year", Frequency::kYear}};
constexpr Name<bool> kYesNo[] = {{"yes", true}, {"no", false}};

// Context for error messages: "catalogue.csv line 7, column 'type'".
struct Where {
  absl::string_view source;
  int line;
  std::string Of(absl::string_view column) const {
    return absl::StrCat(source, " line ", line, ", column '", column, "'");
  }
};

template <typename E, size_t N>
absl::Status Lookup(const Name<E> (&names)[N], const std::string& text,
                    const Where& w, absl::string_view column, E* out) {
  std::string allowed;
  for (const auto& n : names) {
    if (text == n.text) {
      *out = n.value;
      return absl::OkStatus();
    }
    absl::StrAppend(&allowed, allowed.empty() ? "" : ", ", n.text);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      w.Of(column), ": unknown value '", text, "' (expected ", allowed, ")"));
}

absl::Status ParseNumber(const std::string& text, const Where& w,
                         absl::string_view column, double* out) {
  if (!absl::SimpleAtod(text, out) || !std::isfinite(*out)) {
    return absl::InvalidArgumentError(
        absl::StrCat(w.Of(column), ": '", text, "' is not a number"));
  }
  return absl::OkStatus();
}

bool ValidCode(absl::string_view code) {
  if (code.empty() || code.front() == '.' || code.back() == '.') return false;
  if (absl::StrContains(code, "..")) return false;
  for (char c : code) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' ||
          c == '.')) {
      return false;
    }
  }
  return absl::StrContains(code, '.');
}

absl::StatusOr<Measure> ParseRow(const CsvTable& t, const CsvRecord& r,
                                 absl::string_view source) {
  Where w{source, r.line};
  if (r.fields.size() != t.header.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, " line ", r.line, ": expected ", t.header.size(),
                     " fields, found ", r.fields.size()));
  }
  auto f = [&](absl::string_view col) {
    return CsvTable::Field(r, t.Column(col));
  };
  Measure m;
  m.code = f("code");
  if (!ValidCode(m.code)) {
    return absl::InvalidArgumentError(absl::StrCat(
        w.Of("code"), ": malformed measure code '", m.code,
        "' (lower-case dotted segments, e.g. staffing.wte.nurse_general)"));
  }
  m.label = f("label");
  m.unit = f("unit");
  OHFED_RETURN_IF_ERROR(Lookup(kTypes, f("type"), w, "type", &m.type));
  OHFED_RETURN_IF_ERROR(ParseNumber(f("min"), w, "min", &m.min));
  OHFED_RETURN_IF_ERROR(ParseNumber(f("max"), w, "max", &m.max));
  if (m.min > m.max) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, " line ", r.line, ": min ", m.min, " exceeds max ",
                     m.max, " for '", m.code, "'"));
  }
  OHFED_RETURN_IF_ERROR(
      Lookup(kUnitAggs, f("across_units"), w, "across_units", &m.across_units));
  OHFED_RETURN_IF_ERROR(
      Lookup(kTimeAggs, f("across_time"), w, "across_time", &m.across_time));
  OHFED_RETURN_IF_ERROR(
      Lookup(kYesNo, f("disclosive"), w, "disclosive", &m.disclosive));
  OHFED_RETURN_IF_ERROR(
      Lookup(kFrequencies, f("frequency"), w, "frequency", &m.frequency));
  if (m.type == ValueType::kOption) {
    m.question = m.code.substr(0, m.code.rfind('.'));
  }
  return m;
}

}  // namespace

bool MeasureHasPrefix(absl::string_view code, absl::string_view prefix) {
  if (prefix.empty() || code == prefix) return true;
  return code.size() > prefix.size() && absl::StartsWith(code, prefix) &&
         code[prefix.size()] == '.';
}

absl::StatusOr<std::shared_ptr<const Catalogue>> Catalogue::Parse(
    absl::string_view text, absl::string_view source) {
  OHFED_ASSIGN_OR_RETURN(CsvTable t, ParseCsv(text, source));
  OHFED_RETURN_IF_ERROR(
      RequireColumns(t,
                     {"code", "label", "unit", "type", "min", "max",
                      "across_units", "across_time", "disclosive", "frequency"},
                     source));
  std::shared_ptr<Catalogue> c(new Catalogue());
  auto version = t.metadata.find("version");
  if (version == t.metadata.end() || version->second.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": missing '# version: X' metadata line before the header"));
  }
  c->version_ = version->second;
  std::map<std::string, int> first_line;
  for (const CsvRecord& r : t.records) {
    OHFED_ASSIGN_OR_RETURN(Measure m, ParseRow(t, r, source));
    auto [it, inserted] = first_line.emplace(m.code, r.line);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, " line ", r.line, ": duplicate measure code '",
                       m.code, "' (first defined at line ", it->second, ")"));
    }
    c->index_.emplace(m.code, c->measures_.size());
    c->measures_.push_back(std::move(m));
  }
  if (c->measures_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": no measures after the header"));
  }
  return std::shared_ptr<const Catalogue>(std::move(c));
}

absl::StatusOr<std::shared_ptr<const Catalogue>> Catalogue::LoadFile(
    const std::string& path) {
  OHFED_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return Parse(text, path);
}

std::shared_ptr<const Catalogue> Catalogue::Default() {
  static const auto* const kDefault = [] {
    auto c = Parse(EmbeddedCatalogueCsv(), "embedded catalogue.csv");
    if (!c.ok()) std::abort();  // the shipped file is checked by tests
    return new std::shared_ptr<const Catalogue>(*std::move(c));
  }();
  return *kDefault;
}

size_t Catalogue::CodeHash::operator()(absl::string_view code) const {
  if (code.empty()) return 0;
  const size_t n = std::min<size_t>(code.size(), 8);
  uint64_t first = 0, last = 0;
  std::memcpy(&first, code.data(), n);
  std::memcpy(&last, code.data() + code.size() - n, n);
  // Mixed down to the low bits too, which the table uses.
  uint64_t h = (first ^ (last * 0x9E3779B97F4A7C15u)) + code.size();
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93u;
  return h ^ (h >> 32);
}

const Measure* Catalogue::Find(absl::string_view code) const {
  auto it = index_.find(code);
  return it == index_.end() ? nullptr : &measures_[it->second];
}

std::vector<const Measure*> Catalogue::WithPrefix(
    absl::string_view prefix) const {
  std::vector<const Measure*> out;
  for (const Measure& m : measures_) {
    if (MeasureHasPrefix(m.code, prefix)) out.push_back(&m);
  }
  return out;
}

std::vector<const Measure*> Catalogue::OptionsOf(
    absl::string_view question) const {
  std::vector<const Measure*> out;
  for (const Measure& m : measures_) {
    if (m.type == ValueType::kOption && m.question == question) {
      out.push_back(&m);
    }
  }
  return out;
}

absl::Status Catalogue::CheckValue(const Measure& m, double value) {
  if (!std::isfinite(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(m.code, ": value is not a finite number"));
  }
  if (m.is_yes_no() && value != 0 && value != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(m.code, ": yes/no value must be 0 or 1, got ", value));
  }
  if (m.type == ValueType::kCount && value != std::floor(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(m.code, ": count must be a whole number, got ", value));
  }
  if (value < m.min || value > m.max) {
    return absl::InvalidArgumentError(
        absl::StrCat(m.code, ": value ", value, " is outside the valid range ",
                     m.min, " to ", m.max));
  }
  return absl::OkStatus();
}

CatalogueVersions::CatalogueVersions(std::shared_ptr<const Catalogue> current)
    : current_(std::move(current)) {
  known_[current_->version()] = current_;
}

void CatalogueVersions::AddKnown(std::shared_ptr<const Catalogue> other) {
  const std::string version = other->version();
  known_.try_emplace(version, std::move(other));
}

const Catalogue* CatalogueVersions::Find(absl::string_view version) const {
  auto it = known_.find(version);
  return it == known_.end() ? nullptr : it->second.get();
}

std::vector<std::string> CatalogueVersions::versions() const {
  std::vector<std::string> out;
  for (const auto& [version, catalogue] : known_) {
    if (version != current_->version()) out.push_back(version);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return CompareVersions(a, b) > 0;
  });
  out.insert(out.begin(), current_->version());
  return out;
}

int CompareVersions(absl::string_view a, absl::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (absl::ascii_isdigit(a[i]) && absl::ascii_isdigit(b[j])) {
      size_t i_end = i, j_end = j;
      while (i_end < a.size() && absl::ascii_isdigit(a[i_end])) ++i_end;
      while (j_end < b.size() && absl::ascii_isdigit(b[j_end])) ++j_end;
      // Without leading zeros, the longer run is the larger number.
      absl::string_view x = a.substr(i, i_end - i), y = b.substr(j, j_end - j);
      while (x.size() > 1 && x.front() == '0') x.remove_prefix(1);
      while (y.size() > 1 && y.front() == '0') y.remove_prefix(1);
      if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
      if (int c = x.compare(y); c != 0) return c;
      i = i_end;
      j = j_end;
      continue;
    }
    if (a[i] != b[j])
      return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j])
                 ? -1
                 : 1;
    ++i;
    ++j;
  }
  if (i == a.size() && j == b.size()) return 0;
  return i == a.size() ? -1 : 1;
}

}  // namespace ohfed
