#include "aggregator/validation.h"

#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/transport.h"

namespace ohfed::aggregator {
namespace {

absl::Status Bad(absl::string_view reason) {
  return absl::InvalidArgumentError(reason);
}

absl::Status CheckLength(absl::string_view what, absl::string_view text) {
  if (text.size() > static_cast<size_t>(kMaxStringBytes)) {
    return Bad(absl::StrCat(what, " longer than ", kMaxStringBytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status OutOfRange(const Measure& m, double value) {
  return Bad(absl::StrCat("value ", value, " out of range [", m.min, ", ",
                          m.max, "] for measure '", m.code, "'"));
}

// A distribution: each bucket is a whole number of events at a value in
// range, and `value` carries the event count (the contract in ohfed.proto).
absl::Status CheckDistribution(const Measure& m, const v1::Cell& cell) {
  uint64_t events = 0;
  for (const v1::Bucket& b : cell.buckets()) {
    if (!std::isfinite(b.value()) || b.value() < m.min || b.value() > m.max) {
      return OutOfRange(m, b.value());
    }
    events += b.count();
  }
  if (cell.value() != static_cast<double>(events)) {
    return Bad(absl::StrCat("measure '", m.code, "' has value ", cell.value(),
                            " but its buckets hold ", events, " events"));
  }
  return absl::OkStatus();
}

absl::Status CheckScalar(const Measure& m, const v1::Cell& cell) {
  const double v = cell.value();
  if (cell.buckets_size() > 0) {
    return Bad(absl::StrCat("measure '", m.code,
                            "' is not a distribution but has buckets"));
  }
  if (!std::isfinite(v)) {
    return Bad(absl::StrCat("value is not a finite number for measure '",
                            m.code, "'"));
  }
  if (v < m.min || v > m.max) return OutOfRange(m, v);
  if (m.is_yes_no() && v != 0 && v != 1) {
    return Bad(absl::StrCat("value ", v, " is not 0 or 1 for yes/no measure '",
                            m.code, "'"));
  }
  if (m.type == ValueType::kCount && v != std::floor(v)) {
    return Bad(absl::StrCat("value ", v, " is not a whole number for measure '",
                            m.code, "'"));
  }
  return absl::OkStatus();
}

absl::Status CheckCell(const v1::Cell& cell, const Catalogue& catalogue,
                       bool annual, absl::string_view period) {
  if (auto s = CheckLength("measure code", cell.measure()); !s.ok()) return s;
  const Measure* m = catalogue.Find(cell.measure());
  if (m == nullptr) {
    return Bad(absl::StrCat("unknown measure '", cell.measure(), "'"));
  }
  if (m->type == ValueType::kDerived) {
    return Bad(absl::StrCat("measure '", m->code,
                            "' is derived by the aggregator, not reported"));
  }
  const bool wants_year = m->frequency == Frequency::kYear;
  if (wants_year != annual) {
    return Bad(absl::StrCat("measure '", m->code, "' is ",
                            wants_year ? "annual" : "monthly", " but period '",
                            period, "' is a ", annual ? "year" : "month"));
  }
  return m->type == ValueType::kDistribution ? CheckDistribution(*m, cell)
                                             : CheckScalar(*m, cell);
}

}  // namespace

absl::StatusOr<Month> SummaryMonth(absl::string_view period) {
  absl::StatusOr<Period> p = Period::Parse(period);
  if (!p.ok()) return p.status();
  if (p->kind() == Period::Kind::kMonth) return p->first();
  if (p->kind() == Period::Kind::kYear) return p->first();
  return Bad(absl::StrCat("malformed period '", period,
                          "': a summary is for a month (YYYY-MM) or a year "
                          "(YYYY)"));
}

absl::Status ValidateSummary(const v1::UnitSummary& summary,
                             const Catalogue& catalogue,
                             const RegistryHistory& registry) {
  if (summary.trust().empty()) return Bad("missing trust code");
  if (auto s = CheckLength("trust code", summary.trust()); !s.ok()) return s;
  if (auto s = CheckLength("period", summary.period()); !s.ok()) return s;
  if (auto s = CheckLength("catalogue version", summary.catalogue_version());
      !s.ok()) {
    return s;
  }
  absl::StatusOr<Month> month = SummaryMonth(summary.period());
  if (!month.ok()) return month.status();
  if (summary.revision() == 0) return Bad("revision must be > 0");
  if (registry.At(*month).FindTrust(summary.trust()) == nullptr) {
    return Bad(absl::StrCat("unknown trust '", summary.trust(), "'"));
  }
  if (summary.cells_size() > kMaxCellsPerSummary) {
    return Bad(absl::StrCat(summary.cells_size(), " cells exceed the limit of ",
                            kMaxCellsPerSummary, " per summary"));
  }
  const bool annual = summary.period().size() == 4;  // "YYYY", checked above
  absl::flat_hash_set<absl::string_view> seen;
  for (const v1::Cell& cell : summary.cells()) {
    if (auto s = CheckCell(cell, catalogue, annual, summary.period()); !s.ok()) {
      return s;
    }
    if (!seen.insert(cell.measure()).second) {
      return Bad(absl::StrCat("duplicate measure '", cell.measure(), "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace ohfed::aggregator
