// ThreadSanitizer annotations for Debian's prebuilt absl::Mutex.
//
// Debian's libabsl_synchronization.so is not built with -fsanitize=thread,
// so its lock word updates are invisible to TSan and every pair of
// accesses ordered only by an absl::Mutex looks like a data race. This
// file, linked into every executable of the TSan build
// (tests/sanitize.sh tsan), defines the out-of-line absl::Mutex, CondVar
// and Notification members itself. The executable's definitions take
// precedence over the shared library's (ELF symbol interposition, also for
// calls from gRPC and from Abseil itself), so each call goes through a
// wrapper that tells TSan what the call does, exactly as Abseil's own
// mutex.cc does in a TSan build (ABSL_TSAN_MUTEX_*), and then calls the
// library's implementation found with dlsym(RTLD_NEXT).
//
// Memory accesses made inside the library calls (e.g. a Condition
// evaluated by the thread that unlocks) happen between pre_* and post_*
// annotations, where TSan ignores them. The destructor is not annotated
// (see there).
//
// tests/sanitizers/tsan_canary.cc proves the set-up: a race on a plain int
// is reported, the same accesses under each primitive wrapped here are
// not.

#include "absl/base/config.h"

#ifndef ABSL_HAVE_THREAD_SANITIZER
#error "tsan_absl_shim.cc is only for the ThreadSanitizer build"
#endif

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace {

#define OHFED_STR2(x) #x
#define OHFED_STR(x) OHFED_STR2(x)

// The library's definition of the member whose Itanium mangled name is
// "_ZN4absl" + <inline namespace> + `rest`, e.g. "5Mutex4LockEv"
// ("_ZNK4absl..." for a const member).
void* RealSymbol(const char* rest, bool is_const) {
  const char* ns = OHFED_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  std::string name = std::string(is_const ? "_ZNK" : "_ZN") + "4absl" +
                     std::to_string(std::strlen(ns)) + ns + rest;
  void* fn = dlsym(RTLD_NEXT, name.c_str());
  if (fn == nullptr) {
    std::fprintf(stderr, "tsan_absl_shim: %s not found in the libraries\n",
                 name.c_str());
    std::abort();
  }
  return fn;
}

// The library function for `rest`, looked up once into `slot`. The slot
// is a relaxed atomic rather than a function-local static because TSan
// treats a static's initialisation guard as a release/acquire pair: every
// wrapper call would synchronise with the thread that ran the first one,
// hiding races. Two threads resolving at once store the same value.
template <typename Fn>
Fn Real(std::atomic<void*>& slot, const char* rest, bool is_const = false) {
  void* fn = slot.load(std::memory_order_relaxed);
  if (fn == nullptr) {
    fn = RealSymbol(rest, is_const);
    slot.store(fn, std::memory_order_relaxed);
  }
  return reinterpret_cast<Fn>(fn);
}

// OHFED_TSAN_SHIM=off turns the annotations off (the calls still go to
// the library): tests/sanitize.sh uses it to show that TSan then reports
// accesses ordered by an absl::Mutex, i.e. that the annotations are what
// makes the canary clean.
// (A relaxed atomic, not a static, for the reason given at Real().)
bool Enabled() {
  static std::atomic<int> state{0};  // 0 unknown, 1 on, 2 off
  int v = state.load(std::memory_order_relaxed);
  if (v == 0) {
    const char* env = std::getenv("OHFED_TSAN_SHIM");
    v = env != nullptr && std::strcmp(env, "off") == 0 ? 2 : 1;
    state.store(v, std::memory_order_relaxed);
  }
  return v == 1;
}

// The library's members call each other through the same interposed
// symbols (CondVar::WaitWithTimeout calls WaitWithDeadline, Notification
// locks its Mutex): only the outermost wrapper on a thread annotates, so
// one call is one lock or unlock to TSan. Every wrapper holds a Nest.
thread_local int depth = 0;
struct Nest {
  Nest() { ++depth; }
  ~Nest() { --depth; }
  Nest(const Nest&) = delete;
  Nest& operator=(const Nest&) = delete;
};

bool Annotate() { return depth == 1 && Enabled(); }

void PreLock(const void* mu, unsigned flags) {
  if (Annotate()) __tsan_mutex_pre_lock(const_cast<void*>(mu), flags);
}
void PostLock(const void* mu, unsigned flags, int recursion) {
  if (Annotate())
    __tsan_mutex_post_lock(const_cast<void*>(mu), flags, recursion);
}
void PreUnlock(const void* mu, unsigned flags) {
  if (Annotate()) __tsan_mutex_pre_unlock(const_cast<void*>(mu), flags);
}
void PostUnlock(const void* mu, unsigned flags) {
  if (Annotate()) __tsan_mutex_post_unlock(const_cast<void*>(mu), flags);
}
void Release(const void* addr) {
  if (Annotate()) __tsan_release(const_cast<void*>(addr));
}
void Acquire(const void* addr) {
  if (Annotate()) __tsan_acquire(const_cast<void*>(addr));
}

// Whether `mu` is held exclusively (Abseil's kMuWriter bit in the lock
// word, the Mutex's only member), to annotate Await and CondVar::Wait with
// the mode the caller holds.
unsigned HeldFlags(const absl::Mutex* mu) {
  constexpr intptr_t kMuWriter = 0x0008;
  auto word = reinterpret_cast<const std::atomic<intptr_t>*>(mu)->load(
      std::memory_order_relaxed);
  return (word & kMuWriter) != 0 ? 0 : __tsan_mutex_read_lock;
}

// Runs `wait`, which releases `mu` and reacquires it before returning.
template <typename F>
auto AnnotatedWait(absl::Mutex* mu, F wait) {
  unsigned flags = HeldFlags(mu);
  PreUnlock(mu, flags);
  PostUnlock(mu, flags);
  PreLock(mu, flags);
  auto result = wait();
  PostLock(mu, flags, 0);
  return result;
}

// Runs `lock`, which acquires `mu` in the mode `flags` says.
template <typename F>
auto AnnotatedLock(absl::Mutex* mu, unsigned flags, F lock) {
  PreLock(mu, flags);
  auto result = lock();
  PostLock(mu, flags, 0);
  return result;
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

using MuFn = void (*)(Mutex*);
using MuTryFn = bool (*)(Mutex*);
using MuCondFn = void (*)(Mutex*, const Condition&);
using MuCondTimeoutFn = bool (*)(Mutex*, const Condition&, Duration);
using MuCondDeadlineFn = bool (*)(Mutex*, const Condition&, Time);

// Not annotated as a destroy: gRPC frees its own mutexes once reference
// counts in its uninstrumented code reach zero, on whichever thread, so
// TSan would see the annotation as racing with the last lock. TSan forgets
// a heap mutex when its memory is freed anyway.
Mutex::~Mutex() {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<MuFn>(slot, "5MutexD1Ev");
  real(this);
}

void Mutex::Lock() {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<MuFn>(slot, "5Mutex4LockEv");
  AnnotatedLock(this, 0, [&] { return real(this), 0; });
}

void Mutex::ReaderLock() {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<MuFn>(slot, "5Mutex10ReaderLockEv");
  AnnotatedLock(this, __tsan_mutex_read_lock, [&] { return real(this), 0; });
}

bool Mutex::TryLock() {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<MuTryFn>(slot, "5Mutex7TryLockEv");
  PreLock(this, __tsan_mutex_try_lock);
  bool ok = real(this);
  PostLock(this,
           __tsan_mutex_try_lock | (ok ? 0 : __tsan_mutex_try_lock_failed), 0);
  return ok;
}

bool Mutex::ReaderTryLock() {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<MuTryFn>(slot, "5Mutex13ReaderTryLockEv");
  unsigned flags = __tsan_mutex_read_lock | __tsan_mutex_try_lock;
  PreLock(this, flags);
  bool ok = real(this);
  PostLock(this, flags | (ok ? 0 : __tsan_mutex_try_lock_failed), 0);
  return ok;
}

void Mutex::Unlock() {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<MuFn>(slot, "5Mutex6UnlockEv");
  PreUnlock(this, 0);
  real(this);
  PostUnlock(this, 0);
}

void Mutex::ReaderUnlock() {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<MuFn>(slot, "5Mutex12ReaderUnlockEv");
  PreUnlock(this, __tsan_mutex_read_lock);
  real(this);
  PostUnlock(this, __tsan_mutex_read_lock);
}

void Mutex::LockWhen(const Condition& cond) {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<MuCondFn>(slot, "5Mutex8LockWhenERKNS0_9ConditionE");
  AnnotatedLock(this, 0, [&] { return real(this, cond), 0; });
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<MuCondFn>(slot, "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  AnnotatedLock(this, __tsan_mutex_read_lock,
                [&] { return real(this, cond), 0; });
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<MuCondTimeoutFn>(
      slot, "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return AnnotatedLock(this, 0, [&] { return real(this, cond, timeout); });
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<MuCondTimeoutFn>(
      slot,
      "5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return AnnotatedLock(this, __tsan_mutex_read_lock,
                       [&] { return real(this, cond, timeout); });
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<MuCondDeadlineFn>(
      slot, "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return AnnotatedLock(this, 0, [&] { return real(this, cond, deadline); });
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<MuCondDeadlineFn>(
      slot, "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return AnnotatedLock(this, __tsan_mutex_read_lock,
                       [&] { return real(this, cond, deadline); });
}

void Mutex::Await(const Condition& cond) {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<MuCondFn>(slot, "5Mutex5AwaitERKNS0_9ConditionE");
  AnnotatedWait(this, [&] { return real(this, cond), 0; });
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<MuCondTimeoutFn>(
      slot, "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return AnnotatedWait(this, [&] { return real(this, cond, timeout); });
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<MuCondDeadlineFn>(
      slot, "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return AnnotatedWait(this, [&] { return real(this, cond, deadline); });
}

void CondVar::Wait(Mutex* mu) {
  Nest nest;
  static std::atomic<void*> slot;
  auto real =
      Real<void (*)(CondVar*, Mutex*)>(slot, "7CondVar4WaitEPNS0_5MutexE");
  AnnotatedWait(mu, [&] { return real(this, mu), 0; });
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<bool (*)(CondVar*, Mutex*, Duration)>(
      slot, "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  return AnnotatedWait(mu, [&] { return real(this, mu, timeout); });
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<bool (*)(CondVar*, Mutex*, Time)>(
      slot, "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  return AnnotatedWait(mu, [&] { return real(this, mu, deadline); });
}

// Notification: Notify releases, a wait that saw the notification
// acquires. (The library's fast path reads its flag without the mutex,
// so the Mutex annotations alone would miss that edge.) HasBeenNotified()
// is inline in the header and not covered: ohfed does not call it.
void Notification::Notify() {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<void (*)(Notification*)>(slot, "12Notification6NotifyEv");
  Release(this);
  real(this);
}

void Notification::WaitForNotification() const {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<void (*)(const Notification*)>(
      slot, "12Notification19WaitForNotificationEv", true);
  real(this);
  Acquire(this);
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<bool (*)(const Notification*, Duration)>(
      slot, "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE",
      true);
  bool notified = real(this, timeout);
  if (notified) Acquire(this);
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  Nest nest;
  static std::atomic<void*> slot;
  auto real = Real<bool (*)(const Notification*, Time)>(
      slot, "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE", true);
  bool notified = real(this, deadline);
  if (notified) Acquire(this);
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
