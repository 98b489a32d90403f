// A small deterministic generator for benchmark data, so every run loads the
// same figures, and the distributions built from it (header-only).
#ifndef OHFED_TESTS_BENCH_LCG_H_
#define OHFED_TESTS_BENCH_LCG_H_

#include <cstdint>

#include "ohfed/v1/ohfed.pb.h"

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

// Fills `c` with a five-bucket wait-time distribution; its value is the
// number of events.
inline void AddDistribution(v1::Cell* c, Lcg& rng) {
  uint64_t events = 0;
  for (int b = 0; b < 5; ++b) {
    v1::Bucket* bucket = c->add_buckets();
    bucket->set_value(1 + b * 7 + rng.Next(7));
    bucket->set_count(1 + rng.Next(6));
    events += bucket->count();
  }
  c->set_value(static_cast<double>(events));
}

}  // namespace ohfed::bench

#endif  // OHFED_TESTS_BENCH_LCG_H_
