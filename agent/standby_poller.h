// Keeps a thread polling the agent's sockets while gRPC's own pollers nap
// (issue 14, figure 5: a command to an idle agent waited up to 100 ms).
//
// A server with a callback service (the health service, common/health.h)
// gets gRPC's callback queue, polled by two "nexting" threads. Each waits
// on that queue for a second at a time and, after a second without an
// event on it (always, at idle: the control service is synchronous), sleeps
// 100 ms before waiting again; the two fall asleep together. Meanwhile
// nobody polls: the synchronous server's thread waits on its queue without
// ever being handed the poller role. So a connection arriving in that
// window (1 s in every 1.1 s of idling, and exactly when the benchmark
// imports, 1 s after the agent starts) was accepted only when the nap
// ended: 50-65 ms of a 0.17 s import of 100,000 events.
//
// The thread here waits, without a deadline, on a completion queue that
// never gets an event, which makes it one of gRPC's poller candidates that
// never leaves: gRPC hands it the epoll set when the others stop polling.
// It uses no CPU while nothing happens. Not copyable; the destructor shuts
// the queue down and joins the thread.
#ifndef OHFED_AGENT_STANDBY_POLLER_H_
#define OHFED_AGENT_STANDBY_POLLER_H_

#include <grpcpp/completion_queue.h>

#include <thread>

namespace ohfed::agent {

class StandbyPoller {
 public:
  StandbyPoller();
  ~StandbyPoller();
  StandbyPoller(const StandbyPoller&) = delete;
  StandbyPoller& operator=(const StandbyPoller&) = delete;

 private:
  grpc::CompletionQueue cq_;
  std::thread thread_;
};

}  // namespace ohfed::agent

#endif  // OHFED_AGENT_STANDBY_POLLER_H_
