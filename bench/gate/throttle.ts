/**
 * The deliberate regression the gate must catch: an exact slowdown by a wall-clock duty cycle.
 *
 * Every producer and consumer thread of a workload checks in between chunks of work (a send, a
 * delivered batch). 'proportional' (the default): a chunk that took d (wall time since the
 * previous check-in) is followed by a spin of d × f / (1 − f), d / 4 for f = 0.2, so each thread
 * does its work in (1 − f) of its time and runs at 0.8× its own speed whatever the load (a
 * preempted chunk is longer and owes more). The spin burns CPU as slower code would (the gate
 * divides by the CPU share a run got). 'duty-cycle': every thread pauses in the last f of each
 * period of the process-wide clock; simpler, but a pipeline with large buffers loses more than f
 * after each pause (measured on the no-op engine: 0.66×, its rings go cold), so not the default.
 *
 * Injected only through the environment, for the gate's own tests and demonstrations:
 *   MQLAB_BENCH_THROTTLE=0.2                  slow every workload id the CLI runs to 0.8×
 *   MQLAB_BENCH_THROTTLE_FILTER=REGEX         only ids matching (default: all workload ids)
 */
import { MqlabError } from '../../core/errors';

export const THROTTLE_ENV = 'MQLAB_BENCH_THROTTLE';
export const THROTTLE_FILTER_ENV = 'MQLAB_BENCH_THROTTLE_FILTER';
export const DEFAULT_PERIOD_MS = 5;

export interface ThrottleSetting {
  fraction: number;
  filter?: RegExp;
}

/** A throttle fraction from a string (env var, option), checked: 0 ≤ f < 0.95. */
export function parseFraction(raw: unknown, source: string): number {
  const f = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (!Number.isFinite(f) || f < 0 || f >= 0.95) throw new MqlabError('ERR_INVALID_ARG', `${source} must be a fraction from 0 to 0.95 (0.2 = 20% slower), got ${JSON.stringify(raw)}`);
  return f;
}

/** The throttle the environment asks for, or undefined when none (unset, empty or 0). */
export function throttleFromEnv(env: NodeJS.ProcessEnv = process.env): ThrottleSetting | undefined {
  const raw = env[THROTTLE_ENV];
  if (raw === undefined || raw.trim() === '') return undefined;
  const fraction = parseFraction(raw, THROTTLE_ENV);
  if (fraction === 0) return undefined;
  const src = env[THROTTLE_FILTER_ENV];
  if (src === undefined || src === '') return { fraction };
  try {
    return { fraction, filter: new RegExp(src) };
  } catch (e) {
    throw new MqlabError('ERR_INVALID_ARG', `${THROTTLE_FILTER_ENV} ${JSON.stringify(src)} is not a valid regular expression: ${(e as Error).message}`);
  }
}

export function nowNsDefault(): number {
  return Number(process.hrtime.bigint());
}

/** Busy-wait this many nanoseconds of wall time (burns CPU as slower code would). */
export function spinNs(ns: number): void {
  if (!(ns > 0)) return;
  const until = nowNsDefault() + ns;
  while (nowNsDefault() < until);
}

export type ThrottleMode = 'proportional' | 'duty-cycle';

/** Longest stretch between check-ins counted as work (longer ones are idle waits). */
export const MAX_CHUNK_NS = 5e6;

export class Throttle {
  private readonly periodNs: number;
  private readonly workNs: number;
  private readonly perWorkNs: number;
  private last: number | undefined;
  private owedNs = 0;
  /** Nanoseconds spent paused, and chunks seen (for the tests). */
  pausedNs = 0;
  workNsSeen = 0;

  constructor(readonly fraction: number, readonly mode: ThrottleMode = 'proportional', periodMs = DEFAULT_PERIOD_MS, private readonly clock: () => number = nowNsDefault) {
    parseFraction(fraction, 'throttle fraction');
    if (!(periodMs > 0)) throw new MqlabError('ERR_INVALID_ARG', `throttle period must be above 0 ms, got ${periodMs}`);
    this.periodNs = periodMs * 1e6;
    this.workNs = this.periodNs * (1 - fraction);
    this.perWorkNs = fraction / (1 - fraction);
  }

  /** Duty cycle: how long a check-in at time `t` must wait (0 in the work part of a period). */
  waitAt(t: number): number {
    const phase = t % this.periodNs;
    return phase >= this.workNs ? this.periodNs - phase : 0;
  }

  /** Call between chunks of work: returns at once, or spins what this thread owes. */
  checkpoint(): void {
    if (this.fraction <= 0) return;
    const t0 = this.clock();
    let wait: number;
    if (this.mode === 'duty-cycle') wait = this.waitAt(t0);
    else {
      // The chunk since the last check-in took d: owe d × f / (1 − f) (d / 4 for 0.2), so work
      // is (1 − f) of this thread's time. Overshoot of a spin is credited to the next one.
      if (this.last !== undefined) {
        const d = Math.min(MAX_CHUNK_NS, t0 - this.last);
        this.workNsSeen += d;
        this.owedNs += d * this.perWorkNs;
      }
      wait = this.owedNs;
    }
    let t = t0;
    if (wait > 0) {
      const until = t0 + wait;
      while (t < until) t = this.clock();
      this.pausedNs += t - t0;
      if (this.mode === 'proportional') this.owedNs -= t - t0;
    }
    this.last = t;
  }
}
