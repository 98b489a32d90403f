// The standard process_* series (RSS, open and maximum file descriptors,
// start time, CPU seconds) read from /proc/self at each scrape.
#ifndef OHFED_COMMON_PROCESS_METRICS_H_
#define OHFED_COMMON_PROCESS_METRICS_H_

#include <vector>

#include "common/metrics.h"

namespace ohfed::metrics {

// Appends the process families; a family whose /proc file cannot be read
// is left out.
void CollectProcess(std::vector<Family>& out);

}  // namespace ohfed::metrics

#endif  // OHFED_COMMON_PROCESS_METRICS_H_
