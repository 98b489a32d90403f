// Checks for fuzz targets (header-only). A fuzz target reports a finding by
// aborting; FUZZ_CHECK says which property failed before it does, in the
// ordinary build as under libFuzzer (plain assert() is compiled out in
// release builds).
#ifndef OHFED_TESTS_FUZZ_FUZZ_CHECK_H_
#define OHFED_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"

namespace ohfed::fuzz {

[[noreturn]] inline void CheckFailed(const char* file, int line,
                                     const char* what,
                                     absl::string_view detail) {
  std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s %.*s\n", file, line, what,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace ohfed::fuzz

// Aborts naming the condition (and `detail`, anything convertible to
// string_view) if `cond` is false.
#define FUZZ_CHECK(cond, detail)                                       \
  do {                                                                 \
    if (!(cond))                                                       \
      ::ohfed::fuzz::CheckFailed(__FILE__, __LINE__, #cond, (detail)); \
  } while (0)

#endif  // OHFED_TESTS_FUZZ_FUZZ_CHECK_H_
