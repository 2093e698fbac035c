/**
 * The machine's own latency floor for the fixed-rate e2e benchmarks, and the per-thread
 * scheduling knobs their workers may use. Both live in the C++ addon
 * (native/js-latency-probe.cc), outside V8:
 *
 *   bareFloor(options)   two bare threads, no JS: one paces at `rate` with the producer worker's
 *                        sleep (a futex wait until the next message is due, at least minSleepUs),
 *                        stamps each message with its intended send time and wakes the other,
 *                        which waits on a futex as the direct consumer does (blockingWaitMs) and
 *                        records now − intended. Resolves with p50 / p99 / p99.9 / max in µs and
 *                        how often the pacing thread woke late. What no engine can beat on this
 *                        machine at this moment, whatever its code.
 *   setThreadTimerSlack  prctl(PR_SET_TIMERSLACK) for the calling thread (Linux; the default
 *                        50 µs lets the kernel wake a sleeper that much after its deadline).
 *   setThreadNice        setpriority on the calling thread only (raising nice needs no privilege).
 */
import { nativeAddon } from '../../core/log/native';
import { Errors } from '../../core/errors';

export interface BareFloorOptions {
  /** Messages per second (default 100 000). */
  rate?: number;
  /** Measured milliseconds after warm-up (default 5000). */
  durationMs?: number;
  /** Milliseconds not recorded at the start (default 500). */
  warmupMs?: number;
  /** Shortest pacing sleep in µs (default 20: the producer worker's PACE_MIN_MS). */
  minSleepUs?: number;
  /** The consumer's futex wait per look in ms (default 5: the direct consumer's blockingWaitMs). */
  consumerWaitMs?: number;
  /** The consumer spins this many µs on the counter before it sleeps (default 0). */
  consumerSpinUs?: number;
  /** Timer slack of both threads in ns (default -1: the system's, normally 50 000). */
  timerSlackNs?: number;
  /** A pacing wake-up this many µs after its deadline counts as late (default 300). */
  lateWakeUs?: number;
  /**
   * 1: both threads wait and wake through one process-wide mutex and condition variables, as V8's
   * Atomics.wait / Atomics.notify do (FutexEmulation's global mutex); default 0, raw futexes.
   */
  sharedLock?: 0 | 1;
}

export interface BareFloorResult {
  /** Messages recorded (due after warm-up). */
  count: number;
  sent: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  /** The pacing thread's sleeps, those that ended more than lateWakeUs after their deadline, and the worst. */
  wakeups: number;
  lateWakeups: number;
  maxWakeLateUs: number;
  consumerWakeups: number;
  /** The pacing thread's timer slack during the run (ns; -1 where unknown). */
  timerSlackNs: number;
}

interface ProbeAddon {
  latencyProbe(options?: BareFloorOptions): Promise<BareFloorResult>;
  setThreadTimerSlack(ns: number): number;
  threadTimerSlack(): number;
  setThreadNice(nice: number): boolean;
  threadNice(): number;
}

function probeAddon(): ProbeAddon {
  return nativeAddon() as unknown as ProbeAddon;
}

/** Runs the bare two-thread probe (on its own threads; this thread stays free). */
export function bareFloor(options: BareFloorOptions = {}): Promise<BareFloorResult> {
  if (options === null || typeof options !== 'object') return Promise.reject(Errors.invalidArg('bareFloor(options)', 'an object'));
  try {
    return probeAddon().latencyProbe(options);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Sets the calling thread's timer slack (ns, ≥ 1); returns the previous value (-1 off Linux). */
export function setThreadTimerSlack(ns: number): number {
  return probeAddon().setThreadTimerSlack(ns);
}

export function threadTimerSlack(): number {
  return probeAddon().threadTimerSlack();
}

/** Sets the calling thread's nice value; false when not allowed (lowering it needs privilege). */
export function setThreadNice(nice: number): boolean {
  return probeAddon().setThreadNice(nice);
}

export function threadNice(): number {
  return probeAddon().threadNice();
}
