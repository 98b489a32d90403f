// Fuzz target: the registry loader (common/registry.h). The input is the
// registry CSV text. Properties: nothing crashes; a registry that loads
// answers every question about its own regions, ICSs and trusts
// consistently (each trust lies in its region and ICS and is found by code).
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/registry.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ohfed;  // NOLINT: a fuzz entry point
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::shared_ptr<const Registry>> parsed =
      Registry::Parse(text, "fuzz registry");
  if (!parsed.ok()) return 0;
  const Registry& r = **parsed;
  (void)r.effective_from().ToString();
  size_t trusts = 0;
  for (const std::string& t : r.TrustsIn(Scope::National())) {
    FUZZ_CHECK(r.FindTrust(t) != nullptr, t);
    ++trusts;
  }
  FUZZ_CHECK(trusts == r.trust_count(), r.version());
  for (const Region& region : r.regions()) {
    const Scope rs{Scope::Level::kRegion, region.code};
    FUZZ_CHECK(r.Check(rs).ok(), region.code);
    (void)r.NameOf(rs);
    for (const Scope& ics : r.Children(rs, Scope::Level::kIcs)) {
      FUZZ_CHECK(r.Check(ics).ok(), ics.code);
      for (const std::string& t : r.TrustsIn(ics)) {
        FUZZ_CHECK(r.Contains(rs, t) && r.Contains(ics, t), t);
        FUZZ_CHECK(r.Enclosing(t, Scope::Level::kIcs) == ics, t);
        FUZZ_CHECK(r.Enclosing(t, Scope::Level::kRegion) == rs, t);
      }
    }
  }
  RegistryHistory history(*parsed);
  (void)history.At(r.effective_from()).version();
  return 0;
}
