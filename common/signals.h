// How the daemons stop: SIGTERM or SIGINT, taken synchronously by the main
// thread with sigwait rather than by an async handler, so shutdown code can
// do anything (join threads, close RocksDB). SIGHUP never kills a daemon:
// it calls the daemon's reload, on the main thread, and waiting resumes.
#ifndef OHFED_COMMON_SIGNALS_H_
#define OHFED_COMMON_SIGNALS_H_

#include <signal.h>

#include <functional>

namespace ohfed {

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread. Call it before any
// thread is started: threads inherit the mask (gRPC's, RocksDB's, ours), so
// only WaitForStopSignal receives these signals.
sigset_t BlockStopSignals();

// Waits for SIGTERM or SIGINT and returns it. Each SIGHUP meanwhile calls
// `reload` (when given; otherwise it is logged and ignored).
int WaitForStopSignal(const sigset_t& blocked,
                      const std::function<void()>& reload = nullptr);

}  // namespace ohfed

#endif  // OHFED_COMMON_SIGNALS_H_
