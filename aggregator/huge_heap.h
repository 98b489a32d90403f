// Transparent huge pages for the aggregator's heap (issue 14, figure 2).
//
// Measured on a census from fresh processes (README "Heap in huge pages,
// sixteenth round"): each 4 KiB page the heap touched for the first time
// cost a page fault, and on this virtual machine a fault is dear; the
// kernel's part of the regionals' CPU halved when the same census ran a
// second time in the same processes. With tcmalloc taking memory from the
// system in 2 MiB pieces advised MADV_HUGEPAGE, the kernel backs them with
// huge pages where it can (THP "always" or "madvise"; with "never" the
// advice does nothing), one fault for 512 pages.
#ifndef OHFED_AGGREGATOR_HUGE_HEAP_H_
#define OHFED_AGGREGATOR_HUGE_HEAP_H_

namespace ohfed::aggregator {

// Has malloc take the memory it asks the system for from now on in 2 MiB
// aligned pieces advised MADV_HUGEPAGE. Returns whether it did: true under
// tcmalloc (huge_heap_tcmalloc.cc, linked where the aggregator links
// tcmalloc: aggregator/CMakeLists.txt), false under glibc's malloc
// (huge_heap_none.cc). Call once, early in main; not thread-safe.
bool AdviseHugePagesForHeap();

}  // namespace ohfed::aggregator

#endif  // OHFED_AGGREGATOR_HUGE_HEAP_H_
