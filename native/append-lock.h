// The lock appends take. Its critical section is a copy of one frame (tens of nanoseconds), so it
// is a futex word taken with one compare-and-swap and released with one exchange, all inline (a
// pthread mutex costs two library calls per append). A thread that finds it held spins briefly
// before sleeping: two threads appending at full speed would otherwise mostly meet a held lock
// and pay a futex sleep and wake-up (microseconds) each time. A roll, which may hold it longer,
// still puts waiters to sleep.
#pragma once
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace mqlab {

class AppendLock {
 public:
  void lock() {
    uint32_t expected = kFree;
    if (state_.compare_exchange_strong(expected, kHeld, std::memory_order_acquire, std::memory_order_relaxed)) return;
    lockSlow();
  }
  bool try_lock() {
    uint32_t expected = kFree;
    return state_.compare_exchange_strong(expected, kHeld, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void unlock() {
    if (state_.exchange(kFree, std::memory_order_release) == kContended) wake();
  }

 private:
  static constexpr uint32_t kFree = 0, kHeld = 1, kContended = 2;  // kContended: someone may sleep

  void lockSlow() {
    for (int i = 0; i < 256; i++) {
      if (state_.load(std::memory_order_relaxed) == kFree && try_lock()) return;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    // Mark the word contended, then sleep while it stays so; whoever frees it wakes one sleeper.
    while (state_.exchange(kContended, std::memory_order_acquire) != kFree)
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(&state_), FUTEX_WAIT_PRIVATE, kContended, nullptr, nullptr, 0);
  }
  void wake() { syscall(SYS_futex, reinterpret_cast<uint32_t*>(&state_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0); }

  std::atomic<uint32_t> state_{kFree};
  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "futex word");
};

}  // namespace mqlab
