#include "aggregator/huge_heap.h"

namespace ohfed::aggregator {

// glibc's malloc takes its huge-page advice only from GLIBC_TUNABLES
// (glibc.malloc.hugetlb), read when the process starts.
bool AdviseHugePagesForHeap() { return false; }

}  // namespace ohfed::aggregator
