#include "aggregator/heap_keeper.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/memory_trim.h"
#include "tests/testing/sanitizer_run.h"

#if OHFED_EXPECT_TCMALLOC
#include <gperftools/malloc_extension_c.h>
#endif

namespace ohfed::aggregator {
namespace {

// VmRSS of this process, in bytes.
size_t ResidentBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
    }
  }
  return 0;
}

// Small blocks, as the ingest path frees them (request protobufs, rollup
// copies), touched so that they are resident.
std::vector<std::unique_ptr<char[]>> Touched(size_t bytes, size_t block) {
  std::vector<std::unique_ptr<char[]>> blocks;
  for (size_t i = 0; i < bytes / block; ++i) {
    blocks.emplace_back(new char[block]);
    for (size_t j = 0; j < block; j += 512) blocks.back()[j] = 1;
  }
  return blocks;
}

constexpr size_t kFreedBytes = 64 << 20;

// kFreedBytes touched and freed in the middle of the heap: the blocks
// returned stay live after them, so that what is freed is not at the
// arena's top, which free() would give back by itself.
std::vector<std::unique_ptr<char[]>> FreedInTheMiddle() {
  std::vector<std::unique_ptr<char[]>> freed = Touched(kFreedBytes, 4000);
  std::vector<std::unique_ptr<char[]>> pinned = Touched(1 << 20, 4000);
  freed.clear();
  freed.shrink_to_fit();
  return pinned;
}

// Built twice (tests/aggregator/CMakeLists.txt): with glibc's malloc, and
// linked with tcmalloc as the aggregator is.
TEST(HeapKeeperTest, RunsOnTheAllocatorItWasLinkedWith) {
  if (!ohfed::testing::SanitizerRun().empty()) {
    GTEST_SKIP() << "the sanitizer's allocator replaces malloc";
  }
  EXPECT_EQ(UsingTcmalloc(), OHFED_EXPECT_TCMALLOC != 0);
}

#if OHFED_EXPECT_TCMALLOC
// The aggregator's main calls LimitMallocArenas first: under tcmalloc it
// caps the threads' caches (figure 6's memory held).
TEST(HeapKeeperTest, TcmallocThreadCachesAreCapped) {
  LimitMallocArenas(2);
  size_t cap = 0;
  ASSERT_TRUE(MallocExtension_GetNumericProperty(
      "tcmalloc.max_total_thread_cache_bytes", &cap));
  EXPECT_EQ(cap, kTcmallocThreadCacheBytes);
}
#endif

TEST(HeapKeeperTest, ReturnsFreedHeapInTheMiddleOfTheArena) {
  if (!ohfed::testing::SanitizerRun().empty()) {
    GTEST_SKIP() << "OHFED_SANITIZE=" << ohfed::testing::SanitizerRun()
                 << ": the sanitizer's allocator replaces malloc, so "
                    "there is no heap of glibc's or tcmalloc's to trim";
  }
  const auto pinned = FreedInTheMiddle();
  ASSERT_GE(FreeHeapBytes(), kFreedBytes / 2);
  const size_t before = ResidentBytes();

  EXPECT_TRUE(HeapKeeper::TrimIfAbove(8 << 20));

  EXPECT_LE(ResidentBytes() + kFreedBytes / 2, before)
      << "free heap stayed resident";
}

// While the activity count moves, the keeper leaves up to
// busy_max_free_bytes free (the next memtable takes it again); at the first
// round it stands still, it trims to max_free_bytes as before. Fails if the
// busy round trims (the free heap would be faulted in again, page by page).
TEST(HeapKeeperTest, KeepsFreeHeapWhileBusyAndTrimsOnceStill) {
  if (!ohfed::testing::SanitizerRun().empty()) {
    GTEST_SKIP() << "the sanitizer's allocator replaces malloc";
  }
  std::atomic<uint64_t> activity{1};
  HeapKeeperOptions options;
  options.interval = absl::Hours(1);  // only the test calls Check()
  options.max_free_bytes = 8 << 20;
  options.busy_max_free_bytes = 4 * kFreedBytes;
  options.activity = [&] { return activity.load(); };
  HeapKeeper keeper(options);

  const auto pinned = FreedInTheMiddle();
  ASSERT_GE(FreeHeapBytes(), kFreedBytes / 2);
  const size_t before = ResidentBytes();

  activity = 2;
  keeper.Check();
  EXPECT_GT(ResidentBytes() + kFreedBytes / 2, before) << "trimmed while busy";

  keeper.Check();  // the count stood still since the last round
  EXPECT_LE(ResidentBytes() + kFreedBytes / 2, before)
      << "free heap stayed resident once still";
}

TEST(HeapKeeperTest, LeavesASmallFreeHeapAlone) {
  EXPECT_FALSE(HeapKeeper::TrimIfAbove(~size_t{0}));
}

TEST(HeapKeeperTest, StopsItsThread) {
  HeapKeeperOptions options;
  options.interval = absl::Hours(1);
  // Destruction wakes the thread instead of waiting out the interval.
  { HeapKeeper keeper(options); }
  SUCCEED();
}

// The keeper's quiet watch on a fake clock: `on_quiet` runs once the
// activity count has stood still for quiet_after since it last moved, once
// per quiet spell, and never for the quiet before the first move (start-up
// trims by itself).
TEST(HeapKeeperTest, RunsOnQuietOnceWhenActivityHasStoodStill) {
  FakeClock clock(absl::FromUnixSeconds(1774000000));
  std::atomic<uint64_t> activity{7};
  int quiet = 0;
  HeapKeeperOptions options;
  options.interval = absl::Hours(1);  // only the test calls Check()
  options.clock = &clock;
  options.quiet_after = absl::Seconds(5);
  options.activity = [&] { return activity.load(); };
  options.on_quiet = [&] { ++quiet; };
  HeapKeeper keeper(options);

  clock.Advance(absl::Minutes(1));
  EXPECT_FALSE(keeper.Check()) << "quiet since start-up";

  activity = 8;
  EXPECT_FALSE(keeper.Check());  // moved: the spell starts now
  clock.Advance(absl::Seconds(4));
  EXPECT_FALSE(keeper.Check());
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(keeper.Check());
  EXPECT_EQ(quiet, 1);
  clock.Advance(absl::Minutes(1));
  EXPECT_FALSE(keeper.Check()) << "once per quiet spell";

  activity = 9;
  EXPECT_FALSE(keeper.Check());
  clock.Advance(absl::Seconds(3));
  activity = 10;  // moved again within the spell: it starts over
  EXPECT_FALSE(keeper.Check());
  clock.Advance(absl::Seconds(3));
  EXPECT_FALSE(keeper.Check());
  clock.Advance(absl::Seconds(2));
  EXPECT_TRUE(keeper.Check());
  EXPECT_EQ(quiet, 2);
}

}  // namespace
}  // namespace ohfed::aggregator
