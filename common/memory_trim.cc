#include "common/memory_trim.h"

#include <malloc.h>
#include <sys/mman.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

// gperftools' C API (gperftools/malloc_extension_c.h), declared weak: it is
// there only when the executable links tcmalloc, and null otherwise.
extern "C" {
__attribute__((weak)) int MallocExtension_GetNumericProperty(
    const char* property, size_t* value);
__attribute__((weak)) int MallocExtension_SetNumericProperty(
    const char* property, size_t value);
__attribute__((weak)) void MallocExtension_ReleaseFreeMemory();
}

namespace ohfed {
namespace {

struct Mapping {
  uintptr_t start = 0, end = 0;
  bool clean_file = false;  // read-only, private, file-backed
  size_t rss_kb = 0, anonymous_kb = 0;
};

// The mappings of /proc/self/smaps that are read-only private file
// mappings, with their Rss and Anonymous (privately modified) sizes.
std::vector<Mapping> ReadOnlyFileMappings() {
  std::vector<Mapping> out;
  std::ifstream in("/proc/self/smaps");
  std::string line;
  Mapping* current = nullptr;
  while (std::getline(in, line)) {
    std::vector<absl::string_view> f =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.empty()) continue;
    const size_t dash = f[0].find('-');
    if (dash != absl::string_view::npos && f.size() >= 5 &&
        f[0].back() != ':') {
      Mapping m;
      const absl::string_view perms = f[1];
      m.clean_file = perms.size() == 4 && perms[1] == '-' && perms[3] == 'p' &&
                     f.size() >= 6 && absl::StartsWith(f[5], "/");
      uint64_t start = 0, end = 0;
      if (!absl::SimpleHexAtoi(f[0].substr(0, dash), &start) ||
          !absl::SimpleHexAtoi(f[0].substr(dash + 1), &end)) {
        current = nullptr;
        continue;
      }
      m.start = start;
      m.end = end;
      out.push_back(m);
      current = &out.back();
      continue;
    }
    if (current == nullptr || f.size() < 2) continue;
    size_t kb = 0;
    if (f[0] == "Rss:" && absl::SimpleAtoi(f[1], &kb)) current->rss_kb = kb;
    if (f[0] == "Anonymous:" && absl::SimpleAtoi(f[1], &kb)) {
      current->anonymous_kb = kb;
    }
  }
  return out;
}

}  // namespace

void LimitMallocArenas(int arenas) {
  if (UsingTcmalloc()) {
    MallocExtension_SetNumericProperty("tcmalloc.max_total_thread_cache_bytes",
                                       kTcmallocThreadCacheBytes);
    return;
  }
  mallopt(M_ARENA_MAX, arenas);
  mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
  mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes);
}

bool UsingTcmalloc() {
  return MallocExtension_GetNumericProperty != nullptr &&
         MallocExtension_SetNumericProperty != nullptr &&
         MallocExtension_ReleaseFreeMemory != nullptr;
}

size_t FreeHeapBytes() {
  if (UsingTcmalloc()) {
    size_t free_bytes = 0;
    MallocExtension_GetNumericProperty("tcmalloc.pageheap_free_bytes",
                                       &free_bytes);
    return free_bytes;
  }
  struct mallinfo2 m = mallinfo2();
  return m.fordblks + m.fsmblks;
}

void ReleaseFreeHeap() {
  if (UsingTcmalloc()) {
    MallocExtension_ReleaseFreeMemory();
  } else {
    malloc_trim(0);
  }
}

size_t TrimMemory() {
  ReleaseFreeHeap();
  size_t released = 0;
  for (const Mapping& m : ReadOnlyFileMappings()) {
    // Anonymous pages in a private file mapping are modified copies
    // (relocations): dropping them would lose the change.
    if (!m.clean_file || m.anonymous_kb != 0 || m.rss_kb == 0) continue;
    if (madvise(reinterpret_cast<void*>(m.start), m.end - m.start,
                MADV_DONTNEED) == 0) {
      released += m.rss_kb << 10;
    }
  }
  return released;
}

}  // namespace ohfed
