#include "common/store_recovery.h"

namespace ohfed {

StoreRecoveryLoop::StoreRecoveryLoop(std::function<bool()> failing,
                                     std::function<absl::Status()> recover,
                                     absl::Duration interval)
    : thread_([this, failing = std::move(failing), recover = std::move(recover),
               interval] {
        while (!stop_.WaitForNotificationWithTimeout(interval)) {
          if (failing()) recover().IgnoreError();
        }
      }) {}

StoreRecoveryLoop::~StoreRecoveryLoop() {
  stop_.Notify();
  thread_.join();
}

}  // namespace ohfed
