// What every binding file shares: the per-environment addon state (the JS error class, the
// handles to close when a worker thread's environment goes away) and uniform argument checks.
// Every check throws the JS MqlabError with code ERR_INVALID_ARG and returns false; callers
// return nullptr at once, so an exception is never thrown twice.
#pragma once
#include <node_api.h>

#include <cstdint>
#include <string>

#include "store-error.h"

namespace mqlab {

struct AddonData {
  napi_ref errorClass = nullptr;
};

AddonData* addonData(napi_env env);
void throwError(napi_env env, const char* code, const std::string& message, double position = -1, int sysErrno = 0,
                double next = -1);
void throwStoreError(napi_env env, const StoreError& e);
inline void throwInvalid(napi_env env, const std::string& what, const std::string& expectation) {
  throwError(env, "ERR_INVALID_ARG", what + " must be " + expectation);
}
bool pendingException(napi_env env);

// Uint8Array (Buffer included) -> pointer and length.
bool argBytes(napi_env env, napi_value v, const char* what, const uint8_t** data, size_t* len);
// A safe integer in [min, max].
bool argInteger(napi_env env, napi_value v, const char* what, double min, double max, double* out);
// A log position: an integer in [0, 2^53].
bool argPosition(napi_env env, napi_value v, const char* what, uint64_t* out);
// The wall clock in ms since the epoch, for default timestamps. clock_gettime costs 25-70 ns on
// these VMs, as much as the rest of an append; on x86-64, between calls to it (every 20 ms) the
// time is extrapolated from the TSC, which is also the kernel's clocksource here (constant,
// non-stop): the same result to well under a millisecond. One instance per JS thread, held by
// what reads it (a log handle): a thread_local in a shared library costs a __tls_get_addr call.
class WallClock {
 public:
  // The raw counter, for msAt. RDTSC is slow (~9 ns here) but need not hold anything up: read
  // early in a call, its latency overlaps the argument checks instead of stalling the append
  // lock (~8 ns per append). The price of not ordering it: it may execute while the caller's
  // preceding instructions are still in flight, a fraction of a microsecond before the call, so
  // a stamp can fall 1 ms before a Date.now() taken just before the append when a millisecond
  // boundary lies in between (0-6 in 100k appends of a tight Date.now()/append loop, depending
  // on code layout; the tests allow 1 ms). An LFENCE or RDTSCP here costs the whole gain.
  static uint64_t ticks() {
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return 0;
#endif
  }
  // The time at `t`, a ticks() value read just before.
  int64_t msAt(uint64_t t) {
    const uint64_t dt = t - baseTsc_;
    // windowTicks_ is 0 until calibrated (always, without a TSC); a counter behind the base wraps
    // dt around: both ask the kernel.
    // In integer ns: a double of ms since the epoch steps by 0.24 us, which would put stamps
    // just across a millisecond boundary on the wrong side of it.
    if (dt < windowTicks_) return (baseNs_ + static_cast<int64_t>(static_cast<double>(dt) * nsPerTick_)) / 1000000;
    return resync();
  }
  int64_t nowMs() { return msAt(ticks()); }

 private:
  int64_t resync();
  uint64_t baseTsc_ = 0;
  int64_t baseNs_ = 0;
  double nsPerTick_ = 0;
  uint64_t windowTicks_ = 0;
};

// Optional timestamp in ms (undefined -> clock.nowMs()).
bool argTimestamp(napi_env env, napi_value v, const char* what, WallClock& clock, int64_t* out);
bool argString(napi_env env, napi_value v, const char* what, std::string* out);

// Runs f (which returns the call's napi_value); a StoreError it throws becomes the JS MqlabError.
template <typename F>
napi_value guarded(napi_env env, F f) {
  try {
    return f();
  } catch (const StoreError& e) {
    throwStoreError(env, e);
    return nullptr;
  }
}

napi_value makeNumber(napi_env env, double v);
napi_value makeUndefined(napi_env env);

// Arguments of a callback, up to N.
template <size_t N>
struct Args {
  napi_value argv[N];
  size_t argc = N;
  void* data = nullptr;
  Args(napi_env env, napi_callback_info info) { napi_get_cb_info(env, info, &argc, argv, nullptr, &data); }
};

constexpr double kMaxSafe = 9007199254740992.0;  // 2^53

}  // namespace mqlab
