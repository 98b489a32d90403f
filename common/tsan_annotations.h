// Happens-before edges that ThreadSanitizer cannot see, stated by hand.
//
// gRPC's core library is not instrumented (Debian builds it without TSan),
// so when it runs a callback reactor's OnReadDone, OnWriteDone or OnDone on
// another thread than the one that started the operation (StartRead,
// StartWrite, Finish), the ordering gRPC guarantees between them is
// invisible to TSan and every field of the reactor looks raced. A reactor
// calls HandOver(this) just before starting an operation and at the end of
// each callback, and TakeOver(this) first in each callback: the release and
// acquire TSan would have seen had gRPC been instrumented. Outside a TSan
// build both are empty inline functions.
#ifndef OHFED_COMMON_TSAN_ANNOTATIONS_H_
#define OHFED_COMMON_TSAN_ANNOTATIONS_H_

#if defined(__SANITIZE_THREAD__)
#define OHFED_TSAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define OHFED_TSAN_BUILD 1
#endif
#endif

#ifdef OHFED_TSAN_BUILD
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace ohfed {

// Everything this thread did so far happens before what a thread does after
// TakeOver(object).
inline void HandOver(const void* object) {
#ifdef OHFED_TSAN_BUILD
  __tsan_release(const_cast<void*>(object));
#else
  (void)object;
#endif
}

inline void TakeOver(const void* object) {
#ifdef OHFED_TSAN_BUILD
  __tsan_acquire(const_cast<void*>(object));
#else
  (void)object;
#endif
}

}  // namespace ohfed

#endif  // OHFED_COMMON_TSAN_ANNOTATIONS_H_
