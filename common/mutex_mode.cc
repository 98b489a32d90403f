#include "common/mutex_mode.h"

#include "absl/synchronization/mutex.h"

namespace ohfed {

void UseReleaseMutexMode() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace ohfed
