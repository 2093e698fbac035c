#include "js-latency-probe.h"

#include <errno.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <climits>
#include <cmath>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#endif

#include "js-common.h"

namespace mqlab {

namespace {

int64_t monoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Sleeps until `word` != expected, a wake, or the absolute CLOCK_MONOTONIC deadline: the kernel
// path of V8's Atomics.wait (pthread_cond_timedwait on the monotonic clock), timer slack included.
void waitUntil(std::atomic<int32_t>* word, int32_t expected, int64_t deadlineNs) {
#ifdef __linux__
  timespec ts;
  ts.tv_sec = static_cast<time_t>(deadlineNs / 1000000000);
  ts.tv_nsec = static_cast<long>(deadlineNs % 1000000000);
  syscall(SYS_futex, reinterpret_cast<int32_t*>(word), FUTEX_WAIT_BITSET_PRIVATE, expected, &ts, nullptr,
          FUTEX_BITSET_MATCH_ANY);
#else
  while (word->load(std::memory_order_acquire) == expected && monoNs() < deadlineNs) std::this_thread::yield();
#endif
}

void wakeAll(std::atomic<int32_t>* word) {
#ifdef __linux__
  syscall(SYS_futex, reinterpret_cast<int32_t*>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
#else
  (void)word;
#endif
}

void setSlack(double ns) {
#ifdef __linux__
  if (ns >= 1) prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(ns), 0, 0, 0);
#else
  (void)ns;
#endif
}

struct ProbeConfig {
  double rate = 100000;       // messages per second
  double durationMs = 5000;   // measured time (after warm-up)
  double warmupMs = 500;      // messages due before this are not recorded
  double minSleepUs = 20;     // the producer's shortest pacing sleep (workload-worker's PACE_MIN_MS)
  double consumerWaitMs = 5;  // the consumer's futex wait before it looks again (blockingWaitMs)
  double consumerSpinUs = 0;  // the consumer spins this long on the counter before sleeping
  double timerSlackNs = -1;   // prctl(PR_SET_TIMERSLACK) in both threads; -1 = leave the default
  double lateWakeUs = 300;    // a producer wake-up this late after its deadline counts as late
  double sharedLock = 0;      // 1: both threads take one process-wide mutex around each wait and wake,
                              // as V8's Atomics.wait / Atomics.notify do (FutexEmulation's global mutex)
};

constexpr size_t kRing = 1 << 16;

struct Probe {
  ProbeConfig cfg;
  napi_deferred deferred = nullptr;
  napi_async_work work = nullptr;
  std::string error;
  // Shared between the two threads.
  std::vector<int64_t> ring = std::vector<int64_t>(kRing);
  alignas(64) std::atomic<uint64_t> head{0};
  alignas(64) std::atomic<uint64_t> tail{0};
  alignas(64) std::atomic<int32_t> changes{0};
  alignas(64) std::atomic<int32_t> pacer{0};
  std::atomic<bool> done{false};
  std::mutex lock;
  std::condition_variable pacerCv, changesCv;
  // Results.
  std::vector<uint32_t> latNs;
  uint64_t wakeups = 0;
  uint64_t lateWakeups = 0;
  int64_t maxWakeLateNs = 0;
  uint64_t consumerWakeups = 0;
  uint64_t sent = 0;
  double slackNsSeen = -1;

  void produce(int64_t start, uint64_t total) {
    setSlack(cfg.timerSlackNs);
#ifdef __linux__
    slackNsSeen = static_cast<double>(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
#endif
    const double interval = 1e9 / cfg.rate;
    const int64_t minSleep = static_cast<int64_t>(cfg.minSleepUs * 1000);
    const int64_t lateNs = static_cast<int64_t>(cfg.lateWakeUs * 1000);
    uint64_t s = 0;
    while (s < total) {
      const int64_t now = monoNs();
      const double elapsed = static_cast<double>(now - start);
      const uint64_t dueTotal = elapsed < 0 ? 0 : std::min<uint64_t>(total, static_cast<uint64_t>(elapsed / interval) + 1);
      if (dueTotal <= s) {
        // As the benchmark's producer: sleep on a futex until the next message is due, at least minSleep.
        const int64_t gap = start + static_cast<int64_t>(static_cast<double>(s) * interval) - now;
        const int64_t deadline = now + std::max(minSleep, gap);
        if (cfg.sharedLock != 0) {
          std::unique_lock<std::mutex> g(lock);
          pacerCv.wait_until(g, std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline)));
        } else {
          waitUntil(&pacer, 0, deadline);
        }
        const int64_t late = monoNs() - deadline;
        wakeups++;
        if (late > lateNs) lateWakeups++;
        if (late > maxWakeLateNs) maxWakeLateNs = late;
        continue;
      }
      // Stamp each due message with its intended send time (coordinated omission corrected).
      uint64_t h = head.load(std::memory_order_relaxed);
      while (h - tail.load(std::memory_order_acquire) + (dueTotal - s) > kRing) std::this_thread::yield();
      for (; s < dueTotal; s++, h++) ring[h & (kRing - 1)] = start + static_cast<int64_t>(static_cast<double>(s) * interval);
      head.store(h, std::memory_order_release);
      changes.fetch_add(1, std::memory_order_acq_rel);
      if (cfg.sharedLock != 0) {
        std::lock_guard<std::mutex> g(lock);
        changesCv.notify_all();
      } else {
        wakeAll(&changes);
      }
    }
    sent = s;
    done.store(true, std::memory_order_release);
    changes.fetch_add(1, std::memory_order_acq_rel);
    {
      std::lock_guard<std::mutex> g(lock);
      changesCv.notify_all();
    }
    wakeAll(&changes);
  }

  void consume(int64_t warmEnd) {
    setSlack(cfg.timerSlackNs);
    const int64_t waitNs = static_cast<int64_t>(cfg.consumerWaitMs * 1e6);
    const int64_t spinNs = static_cast<int64_t>(cfg.consumerSpinUs * 1000);
    uint64_t t = 0;
    for (;;) {
      const int32_t mark = changes.load(std::memory_order_acquire);
      const uint64_t h = head.load(std::memory_order_acquire);
      if (t < h) {
        const int64_t now = monoNs();
        for (; t < h; t++) {
          const int64_t stamp = ring[t & (kRing - 1)];
          if (stamp < warmEnd) continue;
          const int64_t lat = now - stamp;
          latNs.push_back(static_cast<uint32_t>(std::min<int64_t>(std::max<int64_t>(lat, 1), UINT32_MAX)));
        }
        tail.store(t, std::memory_order_release);
        continue;
      }
      if (done.load(std::memory_order_acquire)) break;
      if (spinNs > 0) {
        const int64_t until = monoNs() + spinNs;
        while (changes.load(std::memory_order_acquire) == mark && monoNs() < until) {
        }
        if (changes.load(std::memory_order_acquire) != mark) continue;
      }
      if (cfg.sharedLock != 0) {
        std::unique_lock<std::mutex> g(lock);
        const auto until = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(monoNs() + waitNs));
        changesCv.wait_until(g, until, [&] { return changes.load(std::memory_order_acquire) != mark; });
      } else {
        waitUntil(&changes, mark, monoNs() + waitNs);
      }
      consumerWakeups++;
    }
  }

  void run() {
    const double total = std::floor(cfg.rate * (cfg.warmupMs + cfg.durationMs) / 1000);
    latNs.reserve(static_cast<size_t>(cfg.rate * cfg.durationMs / 1000) + 16);
    const int64_t start = monoNs() + 2000000;  // both threads running before message 0 is due
    const int64_t warmEnd = start + static_cast<int64_t>(cfg.warmupMs * 1e6);
    try {
      std::thread consumer([this, warmEnd] { consume(warmEnd); });
      std::thread producer([this, start, total] { produce(start, static_cast<uint64_t>(total)); });
      producer.join();
      consumer.join();
    } catch (const std::exception& e) {
      error = std::string("latencyProbe could not start its threads: ") + e.what();
    }
  }
};

void setNumber(napi_env env, napi_value obj, const char* name, double v) {
  napi_set_named_property(env, obj, name, makeNumber(env, v));
}

double percentileUs(const std::vector<uint32_t>& sorted, double p) {
  // The smallest value with at least p of the samples at or below it (as HdrHistogram reports).
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  if (rank < 1) rank = 1;
  return std::round(static_cast<double>(sorted[rank - 1]) / 100) / 10;
}

void Execute(napi_env, void* data) { static_cast<Probe*>(data)->run(); }

void Complete(napi_env env, napi_status status, void* data) {
  Probe* p = static_cast<Probe*>(data);
  if (status != napi_ok && p->error.empty()) p->error = "latencyProbe was cancelled";
  if (!p->error.empty()) {
    throwError(env, "ERR_IO", p->error);
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_reject_deferred(env, p->deferred, err);
  } else {
    std::sort(p->latNs.begin(), p->latNs.end());
    napi_value out;
    napi_create_object(env, &out);
    const auto& v = p->latNs;
    setNumber(env, out, "count", static_cast<double>(v.size()));
    setNumber(env, out, "sent", static_cast<double>(p->sent));
    if (!v.empty()) {
      setNumber(env, out, "p50Us", percentileUs(v, 0.5));
      setNumber(env, out, "p99Us", percentileUs(v, 0.99));
      setNumber(env, out, "p999Us", percentileUs(v, 0.999));
      setNumber(env, out, "maxUs", percentileUs(v, 1));
    }
    setNumber(env, out, "wakeups", static_cast<double>(p->wakeups));
    setNumber(env, out, "lateWakeups", static_cast<double>(p->lateWakeups));
    setNumber(env, out, "maxWakeLateUs", std::round(static_cast<double>(p->maxWakeLateNs) / 100) / 10);
    setNumber(env, out, "consumerWakeups", static_cast<double>(p->consumerWakeups));
    setNumber(env, out, "timerSlackNs", p->slackNsSeen);
    napi_resolve_deferred(env, p->deferred, out);
  }
  napi_delete_async_work(env, p->work);
  delete p;
}

// options.<name>: undefined keeps the default; otherwise an integer in [min, max].
bool option(napi_env env, napi_value obj, const char* name, double min, double max, double* out) {
  if (obj == nullptr) return true;
  napi_value v;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return false;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_undefined) return true;
  return argInteger(env, v, (std::string("options.") + name).c_str(), min, max, out);
}

}  // namespace

// latencyProbe({ rate, durationMs, warmupMs, minSleepUs, consumerWaitMs, consumerSpinUs,
// timerSlackNs, lateWakeUs }): runs a producer and a consumer thread (no JS) for warm-up +
// duration on a libuv pool thread and resolves with the latency percentiles (µs, from the
// intended send time) and the producer's wake-up lateness.
napi_value LatencyProbe(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  napi_value obj = nullptr;
  if (a.argc >= 1) {
    napi_valuetype t;
    napi_typeof(env, a.argv[0], &t);
    if (t == napi_object) obj = a.argv[0];
    else if (t != napi_undefined) {
      throwInvalid(env, "options", "an object or undefined");
      return nullptr;
    }
  }
  ProbeConfig c;
  if (!option(env, obj, "rate", 1, 1e7, &c.rate) || !option(env, obj, "durationMs", 1, 600000, &c.durationMs) ||
      !option(env, obj, "warmupMs", 0, 60000, &c.warmupMs) || !option(env, obj, "minSleepUs", 0, 1e6, &c.minSleepUs) ||
      !option(env, obj, "consumerWaitMs", 1, 60000, &c.consumerWaitMs) ||
      !option(env, obj, "consumerSpinUs", 0, 1e6, &c.consumerSpinUs) ||
      !option(env, obj, "timerSlackNs", -1, 1e9, &c.timerSlackNs) || !option(env, obj, "lateWakeUs", 1, 1e9, &c.lateWakeUs) ||
      !option(env, obj, "sharedLock", 0, 1, &c.sharedLock))
    return nullptr;
  if (c.timerSlackNs == 0) {
    throwInvalid(env, "options.timerSlackNs", "-1 (leave the default) or at least 1 (0 would mean the default to the kernel)");
    return nullptr;
  }
  if (c.rate * c.durationMs / 1000 > 2e7) {
    throwInvalid(env, "options.rate × options.durationMs", "at most 20 million messages");
    return nullptr;
  }
  Probe* p = new Probe();
  p->cfg = c;
  napi_value promise, name;
  napi_create_promise(env, &p->deferred, &promise);
  napi_create_string_utf8(env, "mqlab.latencyProbe", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, nullptr, name, Execute, Complete, p, &p->work) != napi_ok ||
      napi_queue_async_work(env, p->work) != napi_ok) {
    delete p;
    throwError(env, "ERR_IO", "latencyProbe could not queue its work");
    return nullptr;
  }
  return promise;
}

napi_value SetThreadTimerSlack(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  double ns;
  if (!argInteger(env, a.argc > 0 ? a.argv[0] : makeUndefined(env), "ns", 1, 1e9, &ns)) return nullptr;
#ifdef __linux__
  const double before = static_cast<double>(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
  setSlack(ns);
  return makeNumber(env, before);
#else
  return makeNumber(env, -1);
#endif
}

napi_value ThreadTimerSlack(napi_env env, napi_callback_info) {
#ifdef __linux__
  return makeNumber(env, static_cast<double>(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0)));
#else
  return makeNumber(env, -1);
#endif
}

napi_value SetThreadNice(napi_env env, napi_callback_info info) {
  Args<1> a(env, info);
  double nice;
  if (!argInteger(env, a.argc > 0 ? a.argv[0] : makeUndefined(env), "nice", -20, 19, &nice)) return nullptr;
#ifdef __linux__
  // On Linux, setpriority on a thread id changes that thread only.
  const bool ok = setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), static_cast<int>(nice)) == 0;
  napi_value r;
  napi_get_boolean(env, ok, &r);
  return r;
#else
  napi_value r;
  napi_get_boolean(env, false, &r);
  return r;
#endif
}

napi_value ThreadNice(napi_env env, napi_callback_info) {
#ifdef __linux__
  errno = 0;
  const int n = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
  return makeNumber(env, errno != 0 ? 0 : n);
#else
  return makeNumber(env, 0);
#endif
}

}  // namespace mqlab
