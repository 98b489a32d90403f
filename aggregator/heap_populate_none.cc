#include "aggregator/heap_populate.h"

namespace ohfed::aggregator {

// glibc's malloc has no hook for the memory it takes from the system.
bool PopulateHeapGrowth() { return false; }

}  // namespace ohfed::aggregator
