// Reporting periods (SPEC §3): "YYYY-MM" month, "YYYY-Qn" calendar quarter,
// "YYYY" calendar year, "FYYYYY" NHS financial year (April to March:
// FY2021 = 2021-04..2022-03), and ranges "P1:P2" from the first month of P1
// to the last month of P2. Every period is a contiguous run of months.
#ifndef OHFED_COMMON_PERIOD_H_
#define OHFED_COMMON_PERIOD_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ohfed {

// A calendar month, as months since year 0 (index = year * 12 + month - 1),
// so month arithmetic is integer arithmetic. A value type.
class Month {
 public:
  constexpr Month() = default;
  static constexpr Month Of(int year, int month) {
    return Month(year * 12 + month - 1);
  }
  static constexpr Month FromIndex(int index) { return Month(index); }
  // The month containing `t` (UTC).
  static Month Containing(absl::Time t);
  // Parses exactly "YYYY-MM".
  static absl::StatusOr<Month> Parse(absl::string_view text);

  int index() const { return index_; }
  int year() const { return index_ / 12; }
  int month() const { return index_ % 12 + 1; }  // 1..12
  std::string ToString() const;                  // "YYYY-MM"
  absl::Time Start() const;                      // 00:00 UTC on the 1st

  Month operator+(int n) const { return Month(index_ + n); }
  Month operator-(int n) const { return Month(index_ - n); }
  int operator-(Month o) const { return index_ - o.index_; }
  auto operator<=>(const Month&) const = default;

 private:
  explicit constexpr Month(int index) : index_(index) {}
  int index_ = 0;
};

class Period {
 public:
  enum class Kind { kMonth, kQuarter, kYear, kFinancialYear, kRange };

  // Parses any form above. Errors are kInvalidArgument and quote the text,
  // e.g. "malformed period '2021-13': month must be 01 to 12".
  static absl::StatusOr<Period> Parse(absl::string_view text);
  // The kind of period `text` is written as, if it is written in canonical
  // form: exactly "YYYY-MM", "YYYY-Qn", "YYYY", "FYYYYY", or two of those
  // joined by ':' (kRange), with digits where digits go, upper-case letters
  // and no blanks; nullopt otherwise. The form only: whether the numbers are
  // in range (month 13, year 1800) is for Parse to say.
  static std::optional<Kind> KindOf(absl::string_view text);
  static Period OfMonth(Month m);
  static Period OfYear(int year);
  // A range of whole months, first <= last.
  static Period Between(Month first, Month last);

  Kind kind() const { return kind_; }
  Month first() const { return first_; }
  Month last() const { return last_; }
  int months() const { return last_ - first_ + 1; }
  bool Contains(Month m) const { return first_ <= m && m <= last_; }
  bool Contains(const Period& p) const {
    return first_ <= p.first_ && p.last_ <= last_;
  }
  std::vector<Month> Months() const;
  // Calendar years the period touches, ascending.
  std::vector<int> Years() const;
  // The same kind of period shifted by one (a range shifts by its length).
  Period Next() const;
  Period Previous() const;
  // The canonical text it was parsed from ("2021-Q1", "FY2021", "a:b").
  std::string ToString() const;

  bool operator==(const Period& o) const {
    return first_ == o.first_ && last_ == o.last_;
  }

 private:
  Period(Kind kind, Month first, Month last)
      : kind_(kind), first_(first), last_(last) {}
  static absl::StatusOr<Period> ParseSingle(absl::string_view text,
                                            absl::string_view whole);
  Period Shifted(int months) const;

  Kind kind_ = Kind::kMonth;
  Month first_, last_;
};

// Data for month `m` is on time if received before this instant: the end of
// the 15th day of the following month (UTC).
absl::Time OnTimeDeadline(Month m);

}  // namespace ohfed

#endif  // OHFED_COMMON_PERIOD_H_
