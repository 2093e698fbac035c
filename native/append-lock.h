// The lock appends take. Its critical section is a copy of one frame (tens of nanoseconds), so a
// thread that finds it held spins briefly before sleeping: with std::mutex alone, two threads
// appending at full speed would mostly meet a held lock and pay a futex sleep and wake-up (a few
// microseconds) each time. A roll, which may hold it longer, still puts waiters to sleep.
#pragma once
#include <mutex>

namespace mqlab {

class AppendLock {
 public:
  void lock() {
    for (int i = 0; i < 256; i++) {
      if (m_.try_lock()) return;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    m_.lock();
  }
  bool try_lock() { return m_.try_lock(); }
  void unlock() { m_.unlock(); }

 private:
  std::mutex m_;
};

}  // namespace mqlab
