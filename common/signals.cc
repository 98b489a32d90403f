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

int WaitForStopSignal(const sigset_t& blocked) {
  int sig = 0;
  while (sigwait(&blocked, &sig) == 0 && sig == SIGHUP) {
    LogLine("SIGHUP ignored: reload is not supported yet");
  }
  LogLine(absl::StrCat("received ", strsignal(sig), ", shutting down"));
  return sig;
}

}  // namespace ohfed
