// Telling systemd (Type=notify, sd_notify(3)) how a daemon is doing.
// Without $NOTIFY_SOCKET (not started by systemd) every call is a no-op.
#ifndef OHFED_DAEMON_NOTIFY_H_
#define OHFED_DAEMON_NOTIFY_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace ohfed {

// Waits until `address` ("HOST:PORT", a wildcard host probed on loopback,
// or "unix:PATH") accepts a connection, then sends READY=1, so that units
// ordered After= this one start only once it answers. kUnavailable naming
// the address if it does not answer within `timeout` (READY=1 not sent).
absl::Status NotifyReadyWhenAnswering(
    const std::string& address, absl::Duration timeout = absl::Seconds(10));

// STOPPING=1: shutdown has begun.
void NotifyStopping();

// SIGHUP: RELOADING=1, runs `reload`, logs its error if any (the daemon
// carries on with what it had), then READY=1 with a STATUS= line.
void ReloadAndNotify(const std::function<absl::Status()>& reload);

}  // namespace ohfed

#endif  // OHFED_DAEMON_NOTIFY_H_
