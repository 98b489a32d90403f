// Keeps a small daemon's resident memory near what it uses (issue 14: the
// agent idles in a trust server's corner).
//
// Measured on the agent: of 31 MiB RSS at idle, 28 MiB were pages of the
// shared libraries' files (RocksDB, gRPC, OpenSSL, protobuf), which the
// kernel maps in by the folio around every page touched, once, at start-up
// and during an import; the heap was 3.4 MiB. TrimMemory hands back both
// kinds: free heap (malloc_trim) and the clean pages of the process's
// read-only private file mappings, which are read again from the page cache
// if they are used again. A mapping with any privately modified page
// (relocated data) is never touched, so nothing is lost.
#ifndef OHFED_COMMON_MEMORY_TRIM_H_
#define OHFED_COMMON_MEMORY_TRIM_H_

#include <cstddef>

namespace ohfed {

// Sets glibc malloc for a small footprint: at most `arenas` arenas
// (M_ARENA_MAX), so that memory a worker thread freed is reused by the next
// instead of staying in an arena per thread; and a fixed mmap threshold of
// 256 KiB, so that large buffers (an import's months) are returned to the
// system when freed instead of raising the threshold and staying in the
// heap. Call before threads start. Under tcmalloc, caps the free memory
// its threads keep to themselves at kTcmallocThreadCacheBytes in all (32
// MiB by default; measured with 207 x 60 trust-months held, the caches
// then keep ~8 MiB less, and ingest's CPU a summary is within noise).
void LimitMallocArenas(int arenas);
inline constexpr size_t kTcmallocThreadCacheBytes = 2 << 20;

// Whether malloc is tcmalloc (gperftools' tcmalloc_minimal), which an
// executable gets by linking it, as the aggregator does
// (aggregator/CMakeLists.txt), rather than glibc's. Found at run time.
bool UsingTcmalloc();

// Free heap the allocator keeps mapped: glibc's free chunks (mallinfo2),
// or tcmalloc's free pages (its page heap).
size_t FreeHeapBytes();

// Gives that free heap back to the system: malloc_trim, or tcmalloc's
// ReleaseFreeMemory. Thread-safe.
void ReleaseFreeHeap();

// Gives free heap and clean read-only file pages back to the system.
// Returns the bytes of file pages released (as /proc/self/smaps counted
// them). Thread-safe; takes a few milliseconds.
size_t TrimMemory();

}  // namespace ohfed

#endif  // OHFED_COMMON_MEMORY_TRIM_H_
