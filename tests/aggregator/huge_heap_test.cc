// aggregator/huge_heap.h under tcmalloc (this test links it): the heap's
// new system memory is advised for huge pages, memory from before is not.
#include "aggregator/huge_heap.h"

#include <unistd.h>

#include <cstring>
#include <memory>

#include "gtest/gtest.h"
#include "tests/testing/smaps.h"

namespace ohfed::aggregator {
namespace {

using ::ohfed::testing::Mapping;
using ::ohfed::testing::MappingOf;
using ::ohfed::testing::ReadSmaps;

// More than tcmalloc keeps free, so that it asks the system for it.
constexpr size_t kBlock = size_t{48} << 20;

Mapping MappingOfNew(std::unique_ptr<char[]>& block) {
  block.reset(new char[kBlock]);
  memset(block.get(), 1, kBlock);  // usable, all of it
  return MappingOf(ReadSmaps(getpid()), block.get() + kBlock / 2);
}

TEST(HugeHeapTest, NewHeapMemoryIsAdvisedForHugePages) {
  std::unique_ptr<char[]> before, after;
  const Mapping plain = MappingOfNew(before);
  ASSERT_NE(plain.end, 0u) << "no mapping holds the first block";
  EXPECT_FALSE(plain.Has("hg")) << "advised before AdviseHugePagesForHeap";

  ASSERT_TRUE(AdviseHugePagesForHeap());
  const Mapping huge = MappingOfNew(after);
  ASSERT_NE(huge.end, 0u) << "no mapping holds the second block";
  EXPECT_TRUE(huge.Has("hg")) << "VmFlags lack hg (MADV_HUGEPAGE)";
  EXPECT_EQ(huge.start % (2 << 20), 0u) << "not aligned on a huge page";
  // What the advice earns depends on the system's mode: with "never" the
  // kernel ignores it.
  if (::ohfed::testing::TransparentHugePageMode() != "never") {
    EXPECT_TRUE(huge.thp_eligible);
  }
  // The first block's mapping was not advised after the fact.
  EXPECT_FALSE(MappingOf(ReadSmaps(getpid()), before.get()).Has("hg"));
}

}  // namespace
}  // namespace ohfed::aggregator
