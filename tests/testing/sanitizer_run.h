// Whether the tests run under tests/sanitize.sh (README "Sanitizers"), which
// sets OHFED_SANITIZE to "asan" or "tsan". A sanitizer makes the code 2 to
// 20 times slower, so the few tests that exist to cover many generated
// cases run fewer of them there and say so (a GTEST_SKIP message, shown by
// ctest as "Skipped"); memory and thread errors show on the first case as
// well as on the hundredth. A normal build never sets the variable and
// runs everything.
#ifndef OHFED_TESTS_TESTING_SANITIZER_RUN_H_
#define OHFED_TESTS_TESTING_SANITIZER_RUN_H_

#include <cstdlib>
#include <string>

namespace ohfed::testing {

// "asan", "tsan", or "" outside a sanitizer run.
inline std::string SanitizerRun() {
  const char* v = std::getenv("OHFED_SANITIZE");
  return v == nullptr ? "" : v;
}

}  // namespace ohfed::testing

#endif  // OHFED_TESTS_TESTING_SANITIZER_RUN_H_
