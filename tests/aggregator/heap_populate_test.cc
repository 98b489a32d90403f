// aggregator/heap_populate.h under tcmalloc (this test links it): memory
// the heap takes from the system afterwards is resident before it is
// touched; memory taken before is not.
#include "aggregator/heap_populate.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "gtest/gtest.h"

namespace ohfed::aggregator {
namespace {

// More than tcmalloc keeps free, so that it asks the system for it.
constexpr size_t kBlock = size_t{48} << 20;

// The share of the pages wholly inside [p, p + n) that are resident.
double ResidentShare(const char* p, size_t n) {
  const size_t page = sysconf(_SC_PAGESIZE);
  const uintptr_t start =
      (reinterpret_cast<uintptr_t>(p) + page - 1) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + n) & ~(page - 1);
  std::vector<unsigned char> in((end - start) / page);
  if (mincore(reinterpret_cast<void*>(start), end - start, in.data()) != 0) {
    ADD_FAILURE() << "mincore failed";
    return -1;
  }
  size_t resident = 0;
  for (unsigned char c : in) resident += c & 1;
  return static_cast<double>(resident) / in.size();
}

TEST(HeapPopulateTest, NewHeapMemoryIsResidentBeforeItIsTouched) {
  // Neither block is written: only the allocator's populating can make it
  // resident.
  std::unique_ptr<char[]> before(new char[kBlock]);
  EXPECT_LT(ResidentShare(before.get(), kBlock), 0.1)
      << "resident before PopulateHeapGrowth";

  ASSERT_TRUE(PopulateHeapGrowth());
  std::unique_ptr<char[]> after(new char[kBlock]);
  // Nearly all: its first pages may be left over from the earlier piece.
  EXPECT_GT(ResidentShare(after.get(), kBlock), 0.9);
  after[kBlock - 1] = 1;  // and usable
  EXPECT_LT(ResidentShare(before.get(), kBlock), 0.1)
      << "memory taken before was populated after the fact";
}

}  // namespace
}  // namespace ohfed::aggregator
