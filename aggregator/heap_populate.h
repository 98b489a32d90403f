// The aggregator's heap populated as it grows (issue 14, figure 2).
//
// Measured on a census from fresh processes (docs/performance.md, "Heap
// growth populated, sixteenth round"): every 4 KiB page the heap touched
// for the first time cost a page fault, and on this virtual machine a fault is
// dear: 12-13.5 us a page, against about 7 us for the same pages populated
// by one madvise(MADV_POPULATE_WRITE). With tcmalloc populating each piece
// of memory it takes from the system in that one call, a direct census
// used about a quarter less CPU. Huge pages (MADV_HUGEPAGE) did as well
// for the census but nearly halved ingest at 1,000 streams, so they are
// not used: populating one cost 6-12 ms here, under tcmalloc's page-heap
// lock, whenever the virtual machine's host had taken the free 2 MiB
// block back (docs/performance.md, "Fresh pages, nineteenth round").
#ifndef OHFED_AGGREGATOR_HEAP_POPULATE_H_
#define OHFED_AGGREGATOR_HEAP_POPULATE_H_

namespace ohfed::aggregator {

// From now on, each piece of memory malloc takes from the system is made
// resident at once, in one madvise(MADV_POPULATE_WRITE) (Linux 5.14 and
// later; on an older kernel the advice is refused and pages come as they
// are touched, as before). Returns whether it did: true under tcmalloc
// (heap_populate_tcmalloc.cc, linked where the aggregator links tcmalloc:
// aggregator/CMakeLists.txt), false under glibc's malloc
// (heap_populate_none.cc). Call once, early in main; not thread-safe.
bool PopulateHeapGrowth();

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_HEAP_POPULATE_H_
