// LimitMallocArenas keeps the buffers an import frees for the next month
// instead of handing each back to the system and faulting it in again
// (issue 14, figure 5), and ReleaseFreeHeap still gives them back. Faults
// are counted (getrusage), never timed. Its own binary: it sets this
// process's malloc.
#include "common/memory_trim.h"

#include <sys/resource.h>

#include <cstddef>
#include <cstdlib>

#include "gtest/gtest.h"
#include "tests/testing/sanitizer_run.h"

namespace ohfed {
namespace {

constexpr size_t kPage = 4096;
// About an import's largest buffer (a stage batch, ActivityStage's sort
// budget): above the old fixed 256 KiB mmap threshold, below the new one.
constexpr size_t kBuffer = size_t{2} << 20;
constexpr long kPages = kBuffer / kPage;

// Where each buffer escapes to, so that the compiler keeps the allocation.
char* volatile escape = nullptr;

long MinorFaults() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

// Faults taken to allocate a buffer, write each of its pages and free it.
long FaultsToUseAndFree(size_t bytes) {
  const long before = MinorFaults();
  char* p = static_cast<char*>(std::malloc(bytes));
  escape = p;
  for (size_t i = 0; i < bytes; i += kPage) escape[i] = 1;
  std::free(p);
  return MinorFaults() - before;
}

class MemoryTrimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::SanitizerRun().empty()) {
      GTEST_SKIP() << "the sanitizer's allocator replaces malloc";
    }
    LimitMallocArenas(2);
  }
};

TEST_F(MemoryTrimTest, AFreedBufferIsReusedWithoutFaultingItInAgain) {
  FaultsToUseAndFree(kBuffer);  // the heap grows to hold it once
  // Mapped afresh, the buffer would take a fault a page.
  EXPECT_LT(FaultsToUseAndFree(kBuffer), kPages / 8);
  EXPECT_LT(FaultsToUseAndFree(kBuffer), kPages / 8);
}

TEST_F(MemoryTrimTest, ReleaseFreeHeapHandsTheBufferBack) {
  FaultsToUseAndFree(kBuffer);
  ASSERT_LT(FaultsToUseAndFree(kBuffer), kPages / 8);
  ASSERT_GE(FreeHeapBytes(), kBuffer);
  ReleaseFreeHeap();
  EXPECT_LT(FreeHeapBytes(), kBuffer);
  // Handed back, its pages are faulted in again when next used.
  EXPECT_GT(FaultsToUseAndFree(kBuffer), kPages / 2);
}

}  // namespace
}  // namespace ohfed
