// A process's memory mappings as /proc/PID/smaps lists them, for tests
// that check how memory is mapped (aggregator/huge_heap.h).
#ifndef OHFED_TESTS_TESTING_SMAPS_H_
#define OHFED_TESTS_TESTING_SMAPS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ohfed::testing {

struct Mapping {
  uintptr_t start = 0, end = 0;
  std::vector<std::string> vm_flags;  // "VmFlags:", e.g. "rd", "wr", "hg"
  bool thp_eligible = false;          // "THPeligible: 1"

  bool Has(const std::string& flag) const;
};

// Empty if the file cannot be read.
std::vector<Mapping> ReadSmaps(pid_t pid);

// The mapping holding `address`, or one with start == end == 0.
Mapping MappingOf(const std::vector<Mapping>& maps, const void* address);

// The system's transparent huge page mode: "always", "madvise" or "never"
// (the bracketed word of /sys/kernel/mm/transparent_hugepage/enabled);
// empty if the kernel has none.
std::string TransparentHugePageMode();

}  // namespace ohfed::testing

#endif  // OHFED_TESTS_TESTING_SMAPS_H_
