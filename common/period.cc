#include "common/period.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ohfed {
namespace {

constexpr int kMinYear = 1900;
constexpr int kMaxYear = 2999;

absl::Status Malformed(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed period '", text, "': ", why));
}

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Parses a 4-digit year in range, or fails naming `whole`.
absl::StatusOr<int> ParseYear(absl::string_view digits, absl::string_view whole,
                              absl::string_view form) {
  int year = 0;
  if (digits.size() != 4 || !AllDigits(digits) ||
      !absl::SimpleAtoi(digits, &year)) {
    return Malformed(whole, absl::StrCat("expected ", form));
  }
  if (year < kMinYear || year > kMaxYear) {
    return Malformed(whole,
                     absl::StrCat("year must be ", kMinYear, " to ", kMaxYear));
  }
  return year;
}

// The kind of one period (not a range) written in canonical form.
std::optional<Period::Kind> SingleKindOf(absl::string_view t) {
  if (t.size() == 4 && AllDigits(t)) return Period::Kind::kYear;
  if (t.size() == 6 && t.substr(0, 2) == "FY" && AllDigits(t.substr(2))) {
    return Period::Kind::kFinancialYear;
  }
  if (t.size() != 7 || t[4] != '-' || !AllDigits(t.substr(0, 4))) {
    return std::nullopt;
  }
  if (AllDigits(t.substr(5))) return Period::Kind::kMonth;
  if (t[5] == 'Q' && AllDigits(t.substr(6))) return Period::Kind::kQuarter;
  return std::nullopt;
}

}  // namespace

Month Month::Containing(absl::Time t) {
  absl::CivilMonth cm = absl::ToCivilMonth(t, absl::UTCTimeZone());
  return Of(static_cast<int>(cm.year()), cm.month());
}

absl::StatusOr<Month> Month::Parse(absl::string_view text) {
  if (text.size() != 7 || text[4] != '-' || !AllDigits(text.substr(5))) {
    return Malformed(text, "expected YYYY-MM");
  }
  absl::StatusOr<int> year = ParseYear(text.substr(0, 4), text, "YYYY-MM");
  if (!year.ok()) return year.status();
  int month = 0;
  absl::SimpleAtoi(text.substr(5), &month);
  if (month < 1 || month > 12) return Malformed(text, "month must be 01 to 12");
  return Of(*year, month);
}

std::string Month::ToString() const {
  return absl::StrFormat("%04d-%02d", year(), month());
}

absl::Time Month::Start() const {
  return absl::FromCivil(absl::CivilMonth(year(), month()),
                         absl::UTCTimeZone());
}

absl::StatusOr<Period> Period::Parse(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  size_t colon = text.find(':');
  if (colon == absl::string_view::npos) return ParseSingle(text, text);
  absl::StatusOr<Period> a = ParseSingle(text.substr(0, colon), text);
  if (!a.ok()) return a.status();
  absl::StatusOr<Period> b = ParseSingle(text.substr(colon + 1), text);
  if (!b.ok()) return b.status();
  if (b->last_ < a->first_) {
    return Malformed(text, "the range ends before it starts");
  }
  Period p(Kind::kRange, a->first_, b->last_);
  return p;
}

std::optional<Period::Kind> Period::KindOf(absl::string_view text) {
  size_t colon = text.find(':');
  if (colon == absl::string_view::npos) return SingleKindOf(text);
  if (!SingleKindOf(text.substr(0, colon)).has_value() ||
      !SingleKindOf(text.substr(colon + 1)).has_value()) {
    return std::nullopt;
  }
  return Kind::kRange;
}

absl::StatusOr<Period> Period::ParseSingle(absl::string_view text,
                                           absl::string_view whole) {
  if (text.empty()) return Malformed(whole, "empty period");
  if (text.size() >= 2 && (text[0] == 'F' || text[0] == 'f') &&
      (text[1] == 'Y' || text[1] == 'y')) {
    absl::StatusOr<int> y =
        ParseYear(text.substr(2), whole, "FYYYYY, e.g. FY2021");
    if (!y.ok()) return y.status();
    // It ends in the next year, which must be in range too, or its
    // canonical form (a range, when combined) would not parse back.
    if (*y == kMaxYear) {
      return Malformed(whole, absl::StrCat("financial year must be FY",
                                           kMinYear, " to FY", kMaxYear - 1));
    }
    return Period(Kind::kFinancialYear, Month::Of(*y, 4), Month::Of(*y + 1, 3));
  }
  if (text.size() == 4) {
    absl::StatusOr<int> y = ParseYear(text, whole, "YYYY");
    if (!y.ok()) return y.status();
    return OfYear(*y);
  }
  if (text.size() == 7 && text[4] == '-' &&
      (text[5] == 'Q' || text[5] == 'q')) {
    absl::StatusOr<int> y = ParseYear(text.substr(0, 4), whole, "YYYY-Qn");
    if (!y.ok()) return y.status();
    char q = text[6];
    if (q < '1' || q > '4') return Malformed(whole, "quarter must be Q1 to Q4");
    Month first = Month::Of(*y, (q - '1') * 3 + 1);
    return Period(Kind::kQuarter, first, first + 2);
  }
  if (text.size() == 7 && text[4] == '-') {
    // The year first, so that a year out of range is named as such.
    absl::StatusOr<int> y = ParseYear(text.substr(0, 4), whole, "YYYY-MM");
    if (!y.ok()) return y.status();
    absl::StatusOr<Month> m = Month::Parse(text);
    if (!m.ok()) return Malformed(whole, "month must be 01 to 12");
    return OfMonth(*m);
  }
  return Malformed(whole,
                   "expected YYYY-MM, YYYY-Qn, YYYY, FYYYYY or a range P1:P2");
}

Period Period::OfMonth(Month m) { return Period(Kind::kMonth, m, m); }

Period Period::OfYear(int year) {
  return Period(Kind::kYear, Month::Of(year, 1), Month::Of(year, 12));
}

Period Period::Between(Month first, Month last) {
  return first == last ? OfMonth(first) : Period(Kind::kRange, first, last);
}

std::vector<Month> Period::Months() const {
  std::vector<Month> out;
  for (Month m = first_; m <= last_; m = m + 1) out.push_back(m);
  return out;
}

std::vector<int> Period::Years() const {
  std::vector<int> out;
  for (int y = first_.year(); y <= last_.year(); ++y) out.push_back(y);
  return out;
}

Period Period::Shifted(int months) const {
  return Period(kind_, first_ + months, last_ + months);
}

Period Period::Next() const { return Shifted(this->months()); }
Period Period::Previous() const { return Shifted(-this->months()); }

std::string Period::ToString() const {
  switch (kind_) {
    case Kind::kMonth:
      return first_.ToString();
    case Kind::kQuarter:
      return absl::StrFormat("%04d-Q%d", first_.year(),
                             (first_.month() + 2) / 3);
    case Kind::kYear:
      return absl::StrFormat("%04d", first_.year());
    case Kind::kFinancialYear:
      return absl::StrFormat("FY%04d", first_.year());
    case Kind::kRange:
      return absl::StrCat(first_.ToString(), ":", last_.ToString());
  }
  return "";
}

absl::Time OnTimeDeadline(Month m) {
  return (m + 1).Start() + absl::Hours(24 * 15);
}

}  // namespace ohfed
