// A small deterministic generator for benchmark data, so every run loads the
// same figures (header-only).
#ifndef OHFED_TESTS_BENCH_LCG_H_
#define OHFED_TESTS_BENCH_LCG_H_

#include <cstdint>

namespace ohfed::bench {

class Lcg {
 public:
  explicit Lcg(uint64_t seed) : state_(seed * 2654435761u + 1) {}
  // A number in [0, n).
  int Next(int n) {
    state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<int>((state_ >> 33) % static_cast<uint64_t>(n));
  }

 private:
  uint64_t state_;
};

}  // namespace ohfed::bench

#endif  // OHFED_TESTS_BENCH_LCG_H_
