// Fuzz target: the measure catalogue loader (common/catalogue.h). The input
// is the catalogue CSV text. Properties: nothing crashes; a catalogue that
// loads finds each of its measures by code and by its own prefix, and
// accepts each measure's bounds as values.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/catalogue.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ohfed;  // NOLINT: a fuzz entry point
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::shared_ptr<const Catalogue>> parsed =
      Catalogue::Parse(text, "fuzz catalogue");
  if (!parsed.ok()) return 0;
  const Catalogue& c = **parsed;
  for (const Measure& m : c.measures()) {
    FUZZ_CHECK(c.Find(m.code) == &m, m.code);
    FUZZ_CHECK(!c.WithPrefix(m.code).empty(), m.code);
    FUZZ_CHECK(m.min <= m.max, m.code);
    (void)Catalogue::CheckValue(m, m.min);
    (void)Catalogue::CheckValue(m, m.max);
    (void)Catalogue::CheckValue(m, std::nan(""));
    if (!m.question.empty()) (void)c.OptionsOf(m.question);
  }
  FUZZ_CHECK(c.WithPrefix("").size() == c.measures().size(), c.version());
  return 0;
}
