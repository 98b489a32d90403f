// Fuzz target: the period parser (common/period.h) and the strict forms the
// aggregator applies to incoming summaries (aggregator/validation.h). The
// input is the period text. Properties: nothing crashes; a parsed period
// prints in a form that parses back to the same period, of the kind KindOf
// names for its canonical text; its months are as many as it says.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "aggregator/validation.h"
#include "common/period.h"
#include "tests/fuzz/fuzz_check.h"

namespace ohfed {
namespace {

void CheckPeriod(const Period& p) {
  const std::string text = p.ToString();
  absl::StatusOr<Period> again = Period::Parse(text);
  FUZZ_CHECK(again.ok(), absl::StrCat(text, ": ", again.status().message()));
  FUZZ_CHECK(*again == p, text);
  std::optional<Period::Kind> kind = Period::KindOf(text);
  FUZZ_CHECK(kind.has_value() && *kind == p.kind(), text);
  FUZZ_CHECK(p.months() >= 1, text);
  FUZZ_CHECK(static_cast<int>(p.Months().size()) == p.months(), text);
  FUZZ_CHECK(!p.Years().empty(), text);
  FUZZ_CHECK(p.Contains(p.first()) && p.Contains(p.last()), text);
  (void)p.Next().ToString();
  (void)p.Previous().ToString();
}

}  // namespace
}  // namespace ohfed

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ohfed;  // NOLINT: a fuzz entry point
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  if (absl::StatusOr<Period> p = Period::Parse(text); p.ok()) CheckPeriod(*p);
  if (absl::StatusOr<Month> m = Month::Parse(text); m.ok()) {
    FUZZ_CHECK(m->ToString() == text, text);
  }
  (void)Period::KindOf(text);
  const absl::Time now = absl::FromCivil(
      absl::CivilSecond(2026, 11, 26, 9, 0, 0), absl::UTCTimeZone());
  if (auto p = aggregator::CheckSummaryPeriod(text, now); p.ok()) {
    FUZZ_CHECK(aggregator::SummaryMonth(text).ok(), text);
  }
  (void)aggregator::SummaryMonth(text);
  if (absl::StatusOr<Scope> s = Scope::Parse(text); s.ok()) {
    absl::StatusOr<Scope> again = Scope::Parse(s->ToString());
    FUZZ_CHECK(again.ok() && *again == *s, s->ToString());
  }
  return 0;
}
