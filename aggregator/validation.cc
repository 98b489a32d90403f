#include "aggregator/validation.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/transport.h"

namespace ohfed::aggregator {
namespace {

// Totals above this are no longer exact in the double `Cell.value`.
constexpr uint64_t kMaxEvents = uint64_t{1} << 53;
// Distinct buckets per distribution cell, whatever the measure's range.
constexpr int kMaxBucketsPerCell = 4096;

absl::Status Bad(absl::string_view reason) {
  return absl::InvalidArgumentError(reason);
}

ABSL_ATTRIBUTE_NOINLINE absl::Status TooLong(absl::string_view what) {
  return Bad(absl::StrCat(what, " longer than ", kMaxStringBytes, " bytes"));
}

// Inline, the refusal apart: it runs for every cell.
inline absl::Status CheckLength(absl::string_view what,
                                absl::string_view text) {
  if (ABSL_PREDICT_FALSE(text.size() > static_cast<size_t>(kMaxStringBytes))) {
    return TooLong(what);
  }
  return absl::OkStatus();
}

absl::Status OutOfRange(const Measure& m, double value) {
  return Bad(absl::StrCat("value ", value, " out of range [", m.min, ", ",
                          m.max, "] for measure '", m.code, "'"));
}

// std::floor without a call to libm (the baseline x86-64 has no
// instruction for it; ~20 instructions a distribution cell for floor and
// ceil): a double of magnitude 2^52 or more, infinite or NaN is its own
// floor, one below converts to an integer exactly. Only the sign of a
// zero may differ from std::floor's.
inline double Floor(double v) {
  if (!(std::fabs(v) < 0x1p52)) return v;
  const double t = static_cast<double>(static_cast<int64_t>(v));
  return t > v ? t - 1 : t;
}

// One bucket per whole value of the measure's range, at most
// kMaxBucketsPerCell: a sender with more is not summarising.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline int64_t MaxBuckets(const Measure& m) {
  const double whole_values = Floor(m.max) + Floor(-m.min) + 1;
  return static_cast<int64_t>(
      std::clamp(whole_values, 1.0, static_cast<double>(kMaxBucketsPerCell)));
}

// The refusal of a bucket value that IsGoodBucketValue refused.
ABSL_ATTRIBUTE_NOINLINE absl::Status BadBucketValue(const Measure& m,
                                                    double value) {
  if (!std::isfinite(value) || value < m.min || value > m.max) {
    return OutOfRange(m, value);
  }
  return Bad(absl::StrCat("bucket value ", value, " of measure '", m.code,
                          "' is not a whole number of ", m.unit));
}

// Whether a finite `value` is a whole number (value == std::floor(value)),
// without a call to floor, which the baseline x86-64 has no instruction
// for (~20 instructions a bucket): a double of magnitude 2^52 or more is
// whole, and one below converts to an integer exactly.
inline bool IsWhole(double value) {
  return !(std::fabs(value) < 0x1p52) ||
         static_cast<double>(static_cast<int64_t>(value)) == value;
}

// A whole number in the measure's range, checked inline for every bucket;
// BadBucketValue says why not.
inline bool IsGoodBucketValue(const Measure& m, double value) {
  return std::isfinite(value) && value >= m.min && value <= m.max &&
         IsWhole(value);
}

// A distribution: at most MaxBuckets() distinct buckets, each a whole
// number of events at a whole value in range, and `value` carries the event
// count (the contract in ohfed.proto). The total is summed with overflow
// checks: two buckets of 2^63 must not pass as 0 events.
template <typename Cell>
absl::Status CheckDistribution(const Measure& m, const Cell& cell) {
  const int64_t max_buckets = MaxBuckets(m);
  if (cell.buckets_size() > max_buckets) {
    return Bad(absl::StrCat(
        cell.buckets_size(), " buckets exceed the limit of ", max_buckets,
        " for measure '", m.code, "' (one per whole number of ", m.unit,
        " from ", m.min, " to ", m.max, ")"));
  }
  // Senders list buckets by value (agent/summary.cc), and then no value
  // can repeat: the set of values seen is needed only from the first
  // bucket out of order, when the checks start again with it, so that a
  // refusal names the same first fault either way.
  absl::flat_hash_set<double> values;
  bool ascending = true;
  uint64_t events = 0;
  // A range within +-2^52 (any catalogue's): a value in it is finite and
  // converts to an integer exactly, so IsGoodBucketValue is the range and
  // the conversion (~8 instructions a bucket fewer).
  const bool narrow = std::fabs(m.min) < 0x1p52 && std::fabs(m.max) < 0x1p52;
  for (int i = 0; i < cell.buckets_size(); ++i) {
    const auto& b = cell.buckets(i);
    const double v = b.value();
    const bool good =
        narrow ? v >= m.min && v <= m.max &&
                     static_cast<double>(static_cast<int64_t>(v)) == v
               : IsGoodBucketValue(m, v);
    if (ABSL_PREDICT_FALSE(!good)) return BadBucketValue(m, v);
    if (ascending && i > 0 && !(b.value() > cell.buckets(i - 1).value())) {
      ascending = false;
      i = -1;  // again from the first, with the set
      events = 0;
      continue;
    }
    if (!ascending && !values.insert(b.value()).second) {
      return Bad(absl::StrCat("bucket value ", b.value(), " of measure '",
                              m.code, "' appears more than once"));
    }
    // events <= kMaxEvents here: the sum overflows or passes it exactly
    // when the count exceeds what is left.
    if (b.count() > kMaxEvents - events) {
      return Bad(absl::StrCat("bucket counts of measure '", m.code,
                              "' overflow: more than ", kMaxEvents, " events"));
    }
    events += b.count();
  }
  if (cell.value() != static_cast<double>(events)) {
    return Bad(absl::StrCat("measure '", m.code, "' has value ", cell.value(),
                            " but its buckets hold ", events, " events"));
  }
  return absl::OkStatus();
}

template <typename Cell>
absl::Status CheckScalar(const Measure& m, const Cell& cell) {
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
  if (m.type == ValueType::kCount && !IsWhole(v)) {
    return Bad(absl::StrCat("value ", v, " is not a whole number for measure '",
                            m.code, "'"));
  }
  return absl::OkStatus();
}

// Measures after the previous cell's compared before the catalogue's map.
constexpr int kMeasuresLookedAhead = 4;

// The measure of `code` in `catalogue`, nullptr if none. Senders list a
// summary's cells in catalogue order (the agent computes them so), skipping
// measures they have nothing for: the few measures after the previous
// cell's (`previous`; nullptr: from the first) are compared first, a length
// and then the bytes (~55 instructions a cell), and only then the
// catalogue's hash map (~140). Codes are unique, so either finds the same
// measure.
// Inline in CheckCell: a call's prologue and epilogue were ~19
// instructions a cell.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline const Measure* FindMeasure(
    const Catalogue& catalogue, const Measure* previous,
    absl::string_view code) {
  const std::vector<Measure>& all = catalogue.measures();
  const Measure* const end = all.data() + all.size();
  const Measure* next = previous == nullptr ? all.data() : previous + 1;
  for (int i = 0; i < kMeasuresLookedAhead && next != end; ++i, ++next) {
    if (next->code == code) return next;
  }
  return catalogue.Find(code);
}

// On success, *found is the cell's measure in `catalogue`; `previous` is the
// summary's previous cell's (nullptr for the first). `Cell` is v1::Cell or
// CellView (the same accessors).
template <typename Cell>
absl::Status CheckCell(const Cell& cell, const Catalogue& catalogue,
                       const Measure* previous, bool annual,
                       absl::string_view period, const Measure** found) {
  if (auto s = CheckLength("measure code", cell.measure()); !s.ok()) return s;
  const Measure* m = FindMeasure(catalogue, previous, cell.measure());
  *found = m;
  if (m == nullptr) {
    return Bad(absl::StrCat("unknown measure '", Echo(cell.measure()), "'"));
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

std::string FormatUtc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// The catalogue of the version a summary names.
absl::StatusOr<const Catalogue*> CatalogueOf(
    absl::string_view version, const CatalogueVersions& catalogues) {
  const Catalogue* catalogue =
      version.empty() ? nullptr : catalogues.Find(version);
  if (catalogue != nullptr) return catalogue;
  // Only a refusal spells out the versions known.
  const std::string known =
      absl::StrCat("'", absl::StrJoin(catalogues.versions(), "', '"), "'");
  if (version.empty()) {
    return Bad(absl::StrCat("missing catalogue version: this aggregator knows ",
                            known));
  }
  return Bad(absl::StrCat("unknown catalogue version '", Echo(version),
                          "': this aggregator knows ", known));
}

// One message's own unknown fields (proto3 generates no accessor; these
// reflection calls read the message's metadata, no field is visited).
// Whether it had any. The type's Reflection is looked up once: asking each
// message for it (GetReflection) went through protobuf's descriptor
// assignment every time, ~5% of the aggregator's CPU under ingest for the
// ~1,500 cells and buckets of a batch.
template <typename M>
bool DiscardUnknown(M* message) {
  static const google::protobuf::Reflection* const reflection =
      M::GetReflection();
  if (reflection->GetUnknownFields(*message).empty()) return false;
  reflection->MutableUnknownFields(message)->Clear();
  return true;
}

}  // namespace

std::vector<bool> DiscardUnknownFields(v1::SubmitRequest* request) {
  DiscardUnknown(request);
  std::vector<bool> had(static_cast<size_t>(request->summaries_size()), false);
  size_t i = 0;
  for (v1::UnitSummary& summary : *request->mutable_summaries()) {
    bool any = DiscardUnknown(&summary);
    for (v1::Cell& cell : *summary.mutable_cells()) {
      any = DiscardUnknown(&cell) || any;
      for (v1::Bucket& bucket : *cell.mutable_buckets()) {
        any = DiscardUnknown(&bucket) || any;
      }
    }
    had[i++] = any;
  }
  return had;
}

std::string Echo(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    std::string piece = absl::CHexEscape(text.substr(i, 1));
    if (out.size() + piece.size() > static_cast<size_t>(kMaxEchoBytes)) {
      return out + "...";
    }
    out += piece;
  }
  return out;
}

std::string Bound(absl::string_view text) {
  if (text.size() <= static_cast<size_t>(kMaxEchoBytes)) {
    return std::string(text);
  }
  size_t end = kMaxEchoBytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return absl::StrCat(text.substr(0, end), "...");
}

namespace {

// The years a period may name (common/period.cc's parsers; the tests hold
// the two to the same range).
constexpr int kFirstYear = 1900;
constexpr int kLastYear = 2999;

// The number `digits` ('0' to '9' only) spell.
int Digits(absl::string_view digits) {
  int n = 0;
  for (char c : digits) n = n * 10 + (c - '0');
  return n;
}

// The month `text` names when it is exactly "YYYY-MM" with a year from
// kFirstYear to kLastYear and a month from 01 to 12, read directly
// (Month::Parse took ~430 instructions, Period::Parse ~860); nullopt for
// anything else, which the parsers then read, and refuse or accept.
std::optional<Month> PlainMonth(absl::string_view text) {
  if (text.size() != 7 || text[4] != '-') return std::nullopt;
  auto digit = [&](size_t i) {
    return absl::ascii_isdigit(static_cast<unsigned char>(text[i]));
  };
  if (!(digit(0) & digit(1) & digit(2) & digit(3) & digit(5) & digit(6))) {
    return std::nullopt;
  }
  const int year = Digits(text.substr(0, 4)), month = Digits(text.substr(5));
  if (year < kFirstYear || year > kLastYear || month < 1 || month > 12) {
    return std::nullopt;
  }
  return Month::Of(year, month);
}

}  // namespace

absl::StatusOr<Month> SummaryMonth(absl::string_view period) {
  // A held unit's period is canonical: a month read directly, the one
  // Period::Parse gives for it.
  if (const std::optional<Month> month = PlainMonth(period)) return *month;
  absl::StatusOr<Period> p = Period::Parse(period);
  if (!p.ok()) return p.status();
  if (p->kind() == Period::Kind::kMonth) return p->first();
  if (p->kind() == Period::Kind::kYear) return p->first();
  return Bad(absl::StrCat("malformed period '", Echo(period),
                          "': a summary is for a month (YYYY-MM) or a year "
                          "(YYYY)"));
}

absl::StatusOr<Period> CheckSummaryPeriod(absl::string_view text,
                                          absl::Time now) {
  absl::StatusOr<Period> period = ParseSummaryPeriod(text);
  if (!period.ok()) return period;
  if (auto s = ReceiptClock(now).CheckPeriod(*period, text); !s.ok()) return s;
  return period;
}

absl::StatusOr<Period> ParseSummaryPeriod(absl::string_view text) {
  // A month in range read directly (nearly every summary's period).
  if (const std::optional<Month> month = PlainMonth(text)) {
    return Period::OfMonth(*month);
  }
  // Only the canonical forms: Period::Parse, for queries, strips blanks and
  // knows quarters, but " 2004-07" stored beside "2004-07" would be a second
  // unit that no view shows.
  const std::optional<Period::Kind> kind = Period::KindOf(text);
  if (kind != Period::Kind::kMonth && kind != Period::Kind::kYear) {
    return Bad(absl::StrCat("malformed period '", Echo(text),
                            "': a summary is for a month (YYYY-MM) or a year "
                            "(YYYY)"));
  }
  // Digits only from here, so the parsers' messages may quote the text; they
  // name the year ("year must be 1900 to 2999") or the month.
  if (kind == Period::Kind::kYear) return Period::Parse(text);
  // Any other month goes to Month::Parse for its refusal.
  absl::StatusOr<Month> parsed = Month::Parse(text);
  if (!parsed.ok()) return parsed.status();
  return Period::OfMonth(*parsed);
}

namespace {

// The months ReceiptClock tells apart: a summary names a year from
// kFirstYear to kLastYear, and every clock beyond them answers as these.
constexpr Month kBeforeAnyPeriod = Month::Of(kFirstYear - 1, 12);
constexpr Month kAfterEveryPeriod = Month::Of(kLastYear + 1, 1);

// Month::Containing(t), clamped to the months above (and so defined for
// any time, infinite ones too).
Month ClampedMonth(absl::Time t) {
  if (t < kBeforeAnyPeriod.Start()) return kBeforeAnyPeriod;
  if (t >= kAfterEveryPeriod.Start()) return kAfterEveryPeriod;
  return Month::Containing(t);
}

}  // namespace

ReceiptClock::ReceiptClock(absl::Time now)
    : now_(now),
      open_(ClampedMonth(now + kClockTolerance)),
      max_revision_(absl::ToUnixMillis(now + kClockTolerance)) {}

// A month M is accepted from kClockTolerance before its end: now >=
// (M + 1).Start() - tolerance, that is (M + 1).Start() <= now + tolerance,
// that is M + 1 <= the month holding now + tolerance. A year Y from
// tolerance before its start: January of Y <= that month. Each the same
// comparison of the instants, worked out once per clock.
absl::Status ReceiptClock::CheckPeriod(const Period& period,
                                       absl::string_view text) const {
  if (period.kind() == Period::Kind::kYear) {
    if (period.first() <= open_) return absl::OkStatus();
    const absl::Time from = period.first().Start() - kClockTolerance;
    return Bad(absl::StrCat("period '", text,
                            "' has not begun: a year is accepted from ",
                            FormatUtc(from), " (a day before it starts)"));
  }
  if (period.first() < open_) return absl::OkStatus();
  const absl::Time from = (period.first() + 1).Start() - kClockTolerance;
  return Bad(absl::StrCat("period '", text,
                          "' has not ended: a month is accepted from ",
                          FormatUtc(from), " (a day before it ends)"));
}

// A revision is the sender's clock in unix ms (or one more than the
// previous): one far ahead would freeze the unit, since nothing lower can
// ever replace it.
absl::Status ReceiptClock::CheckRevision(uint64_t revision) const {
  if (revision == 0) return Bad("revision must be > 0");
  if (max_revision_ > 0 && revision > static_cast<uint64_t>(max_revision_)) {
    return Bad(absl::StrCat(
        "revision ", revision,
        " is more than a day ahead of this aggregator's clock (a revision is "
        "the sender's time in unix ms; now ",
        absl::ToUnixMillis(now_), "): check the sender's clock"));
  }
  return absl::OkStatus();
}

SummaryPeriod FindSummaryPeriod(absl::string_view period,
                                const RegistryHistory& registry) {
  SummaryPeriod found{ParseSummaryPeriod(period)};
  if (found.period.ok()) found.registry = &registry.At(found.period->first());
  return found;
}

namespace {

// What ValidateSummary checks of a summary besides its cells, given how
// many cells it has; on success *catalogue is the version it names.
absl::Status ValidateHeader(const v1::UnitSummary& summary, int cells,
                            const CatalogueVersions& catalogues,
                            const SummaryPeriod& period,
                            const ReceiptClock& clock,
                            const Catalogue** catalogue, bool* annual) {
  if (summary.trust().empty()) return Bad("missing trust code");
  if (auto s = CheckLength("trust code", summary.trust()); !s.ok()) return s;
  if (auto s = CheckLength("period", summary.period()); !s.ok()) return s;
  if (auto s = CheckLength("catalogue version", summary.catalogue_version());
      !s.ok()) {
    return s;
  }
  if (!period.period.ok()) return period.period.status();
  if (auto s = clock.CheckPeriod(*period.period, summary.period()); !s.ok()) {
    return s;
  }
  if (auto s = clock.CheckRevision(summary.revision()); !s.ok()) return s;
  if (period.registry->FindTrust(summary.trust()) == nullptr) {
    return Bad(absl::StrCat("unknown trust '", Echo(summary.trust()), "'"));
  }
  absl::StatusOr<const Catalogue*> found =
      CatalogueOf(summary.catalogue_version(), catalogues);
  if (!found.ok()) return found.status();
  if (cells > kMaxCellsPerSummary) {
    return Bad(absl::StrCat(cells, " cells exceed the limit of ",
                            kMaxCellsPerSummary, " per summary"));
  }
  *catalogue = *found;
  *annual = period.period->kind() == Period::Kind::kYear;
  return absl::OkStatus();
}

template <typename Cells>
absl::Status ValidateWithCells(const v1::UnitSummary& summary,
                               const Cells& cells,
                               const CatalogueVersions& catalogues,
                               const SummaryPeriod& period,
                               const ReceiptClock& clock) {
  const Catalogue* catalogue = nullptr;
  bool annual = false;
  if (auto s = ValidateHeader(summary, static_cast<int>(cells.size()),
                              catalogues, period, clock, &catalogue, &annual);
      !s.ok()) {
    return s;
  }
  // Measures seen, by their place in the catalogue: no hashing or
  // allocation per cell (a summary carries the whole catalogue).
  const Measure* const first = catalogue->measures().data();
  absl::InlinedVector<bool, 512> seen(catalogue->measures().size(), false);
  const Measure* m = nullptr;  // the previous cell's, then this one's
  for (const auto& cell : cells) {
    if (auto s = CheckCell(cell, *catalogue, m, annual, summary.period(), &m);
        !s.ok()) {
      return s;
    }
    bool& was_seen = seen[static_cast<size_t>(m - first)];
    if (was_seen) {
      return Bad(absl::StrCat("duplicate measure '", cell.measure(), "'"));
    }
    was_seen = true;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateSummary(const v1::UnitSummary& summary,
                             const CatalogueVersions& catalogues,
                             const RegistryHistory& registry, absl::Time now) {
  return ValidateSummary(summary, catalogues,
                         FindSummaryPeriod(summary.period(), registry),
                         ReceiptClock(now));
}

absl::Status ValidateSummary(const v1::UnitSummary& header,
                             absl::Span<const CellView> cells,
                             const CatalogueVersions& catalogues,
                             const RegistryHistory& registry, absl::Time now) {
  return ValidateSummary(header, cells, catalogues,
                         FindSummaryPeriod(header.period(), registry),
                         ReceiptClock(now));
}

absl::Status ValidateSummary(const v1::UnitSummary& summary,
                             const CatalogueVersions& catalogues,
                             const SummaryPeriod& period,
                             const ReceiptClock& clock) {
  return ValidateWithCells(summary, summary.cells(), catalogues, period, clock);
}

absl::Status ValidateSummary(const v1::UnitSummary& header,
                             absl::Span<const CellView> cells,
                             const CatalogueVersions& catalogues,
                             const SummaryPeriod& period,
                             const ReceiptClock& clock) {
  return ValidateWithCells(header, cells, catalogues, period, clock);
}

}  // namespace ohfed::aggregator
