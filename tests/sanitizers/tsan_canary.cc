// The ThreadSanitizer canary (tests/sanitize.sh tsan): proves the TSan
// build still sees races and sees the happens-before edges of Debian's
// uninstrumented absl::Mutex through tsan_absl_shim.cc.
//   tsan_canary race          two threads increment a plain int with no
//                             lock: TSan MUST report a data race.
//   tsan_canary <primitive>   the same data ordered by mutex, reader,
//                             trylock, condvar, condvar_timeout, await,
//                             await_timeout, lockwhen or notification: TSan
//                             must NOT report anything. With
//                             OHFED_TSAN_SHIM=off it does (the script checks
//                             that for "mutex"), because the library's lock
//                             word is invisible to TSan.
// Exits 0, or 2 on a bad argument; TSan's exit code says if it reported.

#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace {

constexpr int kIterations = 1000;

int counter = 0;  // the shared plain int
absl::Mutex mu;
absl::CondVar cv;
bool ready = false;

// Runs `body` on two threads at once.
void OnTwoThreads(const std::function<void()>& body) {
  std::thread a(body);
  std::thread b(body);
  a.join();
  b.join();
}

void Race() {
  OnTwoThreads([] {
    for (int i = 0; i < kIterations; ++i) ++counter;
  });
}

void Locked() {
  OnTwoThreads([] {
    for (int i = 0; i < kIterations; ++i) {
      absl::MutexLock lock(&mu);
      ++counter;
    }
  });
}

// One writer under the exclusive lock, one reader under the shared lock.
void Reader() {
  std::thread writer([] {
    for (int i = 0; i < kIterations; ++i) {
      absl::MutexLock lock(&mu);
      ++counter;
    }
  });
  int seen = 0;
  for (int i = 0; i < kIterations; ++i) {
    absl::ReaderMutexLock lock(&mu);
    seen += counter;
  }
  writer.join();
  std::printf("reader saw %d\n", seen > 0 ? 1 : 0);
}

void TryLock() {
  OnTwoThreads([] {
    for (int done = 0; done < kIterations;) {
      if (!mu.TryLock()) continue;
      ++counter;
      ++done;
      mu.Unlock();
    }
  });
}

// A hand-off: the worker writes `counter` then sets `ready`; the main
// thread reads `counter` after waiting for `ready` by `wait`. The worker
// is joined only after the read, so only the wait orders the two.
void HandOff(const std::function<void()>& wait) {
  std::thread worker([] {
    absl::MutexLock lock(&mu);
    counter = 42;
    ready = true;
    cv.Signal();
  });
  wait();
  std::printf("handed over %d\n", counter);
  worker.join();
}

void WaitCondVar() {
  absl::MutexLock lock(&mu);
  while (!ready) cv.Wait(&mu);
}

void WaitAwait() {
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(&ready));
}

// The timed waits: Abseil's own WaitWithTimeout calls WaitWithDeadline
// through the interposed symbol, which the shim must count once.
void WaitCondVarWithTimeout() {
  absl::MutexLock lock(&mu);
  while (!ready) cv.WaitWithTimeout(&mu, absl::Minutes(1));
}

void WaitAwaitWithTimeout() {
  absl::MutexLock lock(&mu);
  mu.AwaitWithTimeout(absl::Condition(&ready), absl::Minutes(1));
}

void WaitLockWhen() {
  mu.LockWhen(absl::Condition(&ready));
  mu.Unlock();
}

void Notification() {
  absl::Notification done;
  std::thread worker([&] {
    counter = 42;  // no lock: only the notification orders this
    done.Notify();
  });
  done.WaitForNotification();
  std::printf("notified %d\n", counter);
  worker.join();
}

}  // namespace

int main(int argc, char** argv) {
  const std::map<std::string, std::function<void()>> modes = {
      {"race", Race},
      {"mutex", Locked},
      {"reader", Reader},
      {"trylock", TryLock},
      {"condvar", [] { HandOff(WaitCondVar); }},
      {"condvar_timeout", [] { HandOff(WaitCondVarWithTimeout); }},
      {"await", [] { HandOff(WaitAwait); }},
      {"await_timeout", [] { HandOff(WaitAwaitWithTimeout); }},
      {"lockwhen", [] { HandOff(WaitLockWhen); }},
      {"notification", Notification},
  };
  auto mode = argc == 2 ? modes.find(argv[1]) : modes.end();
  if (mode == modes.end()) {
    std::fprintf(stderr,
                 "usage: tsan_canary race|mutex|reader|trylock|"
                 "condvar|await|lockwhen|notification\n");
    return 2;
  }
  mode->second();
  return 0;
}
