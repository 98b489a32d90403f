#include "common/signals.h"

#include <string.h>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace ohfed {

sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int WaitForStopSignal(const sigset_t& blocked,
                      const std::function<void()>& reload) {
  int sig = 0;
  while (sigwait(&blocked, &sig) == 0 && sig == SIGHUP) {
    if (reload) {
      reload();
    } else {
      LogLine("SIGHUP ignored: nothing to reload");
    }
  }
  LogLine(absl::StrCat("received ", strsignal(sig), ", shutting down"));
  return sig;
}

}  // namespace ohfed
