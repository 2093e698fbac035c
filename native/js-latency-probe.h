// The machine's own latency floor for the fixed-rate e2e benchmarks, measured without V8: two bare
// threads pace and hand off timestamps the way the benchmark's producer and consumer workers do.
// Also the per-thread scheduling knobs those workers may use (timer slack, nice).
#pragma once
#include <node_api.h>

namespace mqlab {
// latencyProbe(options) -> Promise<{ count, p50Us, p99Us, p999Us, maxUs, wakeups, lateWakeups,
// maxWakeLateUs, ... }>. See js-latency-probe.cc for the options.
napi_value LatencyProbe(napi_env env, napi_callback_info info);
// setThreadTimerSlack(ns) -> the calling thread's previous timer slack in ns (Linux; -1 elsewhere).
napi_value SetThreadTimerSlack(napi_env env, napi_callback_info info);
// threadTimerSlack() -> the calling thread's timer slack in ns (-1 where unknown).
napi_value ThreadTimerSlack(napi_env env, napi_callback_info info);
// setThreadNice(nice) -> whether the calling thread's nice value is now `nice` (raising it needs
// no privilege; lowering it below the current value usually does and returns false).
napi_value SetThreadNice(napi_env env, napi_callback_info info);
// threadNice() -> the calling thread's nice value.
napi_value ThreadNice(napi_env env, napi_callback_info info);
}  // namespace mqlab
