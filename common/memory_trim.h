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
// instead of staying in an arena per thread; and fixed mmap and trim
// thresholds (kMmapThresholdBytes, kTrimThresholdBytes), so that an
// import's buffers of a few MiB (stage batches, sort keys, a month's
// distinct subjects) are reused from the heap, month after month, rather
// than mapped, faulted in page by page and handed back each time; the
// agent gives that heap back once an import is over (agent/quiet_trim.h).
// Call before threads start. Under tcmalloc, caps the free memory
// its threads keep to themselves at kTcmallocThreadCacheBytes in all (32
// MiB by default; measured with 207 x 60 trust-months held, the caches
// then keep ~8 MiB less, and ingest's CPU a summary is within noise).
//
// The thresholds, measured on a 1,000,000 event import (agent_import.sh's
// file, on a 2-core VM where a first touch of a page costs 7-12 us): at a
// 256 KiB mmap threshold and glibc's 128 KiB trim threshold, 26-28 K minor
// faults and 0.96-1.03 s of the agent's CPU; with these,
// 3.1-3.3 K and 0.56-0.60 s, peak RSS 31 -> 35 MiB, RSS 2 s after the
// import as before (11 MiB).
void LimitMallocArenas(int arenas);
inline constexpr size_t kTcmallocThreadCacheBytes = 2 << 20;
inline constexpr int kMmapThresholdBytes = 4 << 20;
inline constexpr int kTrimThresholdBytes = 8 << 20;

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
