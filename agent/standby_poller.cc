#include "agent/standby_poller.h"

namespace ohfed::agent {

StandbyPoller::StandbyPoller()
    : thread_([this] {
        void* tag = nullptr;
        bool ok = false;
        // Nothing is ever queued: Next returns false once shut down.
        while (cq_.Next(&tag, &ok)) {
        }
      }) {}

StandbyPoller::~StandbyPoller() {
  cq_.Shutdown();
  thread_.join();
}

}  // namespace ohfed::agent
