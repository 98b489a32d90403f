// Retries a failing store's recovery in the background (common/store_db.h),
// so that it comes back, and health turns SERVING again, once the disk is
// back even if nothing writes meanwhile: a regional aggregator with no new
// data whose forwarder cannot read its closed database, an agent whose
// failed import was the last change.
#ifndef OHFED_COMMON_STORE_RECOVERY_H_
#define OHFED_COMMON_STORE_RECOVERY_H_

#include <functional>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace ohfed {

class StoreRecoveryLoop {
 public:
  // Every `interval`, if failing(), calls recover() (whose error, logged by
  // the store, just means "not yet").
  StoreRecoveryLoop(std::function<bool()> failing,
                    std::function<absl::Status()> recover,
                    absl::Duration interval);
  // Stops and joins the thread.
  ~StoreRecoveryLoop();
  StoreRecoveryLoop(const StoreRecoveryLoop&) = delete;
  StoreRecoveryLoop& operator=(const StoreRecoveryLoop&) = delete;

 private:
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace ohfed

#endif  // OHFED_COMMON_STORE_RECOVERY_H_
