// absl::Mutex as a release build has it, in the daemons and the CLI.
//
// Debian's Abseil is built without NDEBUG, so by default every
// absl::Mutex::Lock also records the lock order in one process-wide graph
// (under its own lock, shared by every thread) to detect potential
// deadlocks, and aborts the process when it finds a cycle. That costs
// about 20 ns per lock on this machine and was seen in the aggregator's
// query profiles (issue 14); in a running service an abort for a lock order
// that never deadlocked is also the wrong answer. Tests keep the detection:
// only the programs' main functions call this.
#ifndef OHFED_COMMON_MUTEX_MODE_H_
#define OHFED_COMMON_MUTEX_MODE_H_

namespace ohfed {

// Turns off absl's lock-order tracking for the whole process. Call first in
// main, before any thread exists.
void UseReleaseMutexMode();

}  // namespace ohfed

#endif  // OHFED_COMMON_MUTEX_MODE_H_
