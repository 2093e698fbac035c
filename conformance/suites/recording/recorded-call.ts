/**
 * The one way a wrapper calls into an adapter: record the invocation, run the call under its
 * timeout, record ok / fail / info, rethrow failures. Calls whose effect may have happened
 * despite an error (sends) are recorded `info` on error; other failures are `fail`; a timeout is
 * always `info` (the call may still complete).
 */
import type { OperationTimeouts } from '../../adapters/common';
import type { HistoryRecorder } from '../../history/recorder';
import { errorOf, withTimeout } from '../framework/timeout';

export interface CallSpec<T> {
  process: string;
  f: string;
  value: unknown;
  timeoutMs: number;
  /** What the ok op records; default null. */
  okValue?: (result: T) => unknown;
  /** Record errors as info (the effect may have happened). */
  uncertain?: boolean;
}

export async function recordedCall<T>(rec: HistoryRecorder, spec: CallSpec<T>, fn: () => Promise<T>): Promise<T> {
  const h = rec.invoke(spec.process, spec.f, spec.value);
  let result: T;
  try {
    result = await withTimeout(fn, spec.timeoutMs, `${spec.f} by ${spec.process}`);
  } catch (e) {
    const err = errorOf(e);
    if (spec.uncertain || err.code === 'ERR_TIMEOUT') rec.info(h, null, err);
    else rec.fail(h, null, err);
    throw e;
  }
  rec.ok(h, spec.okValue ? spec.okValue(result) : null);
  return result;
}

/** The lifecycle calls every model's adapter may offer, both optional (capabilities). */
export interface BrokerLifecycle {
  restartBroker?(): Promise<void>;
  advanceTime?(ms: number): Promise<void>;
}

/** `restartBroker` through a recording wrapper: recorded as the suite's `restart`. */
export function recordedRestart(rec: HistoryRecorder, timeouts: OperationTimeouts, inner: BrokerLifecycle): Promise<void> {
  if (!inner.restartBroker) return Promise.reject(new Error('adapter has no restartBroker'));
  return recordedCall(rec, { process: 'suite', f: 'restart', value: {}, timeoutMs: timeouts.lifecycle }, () => inner.restartBroker!());
}

/** `advanceTime` through a recording wrapper: recorded as the suite's `advance-time`. */
export function recordedAdvanceTime(rec: HistoryRecorder, timeouts: OperationTimeouts, inner: BrokerLifecycle, ms: number): Promise<void> {
  if (!inner.advanceTime) return Promise.reject(new Error('adapter has no advanceTime'));
  return recordedCall(rec, { process: 'suite', f: 'advance-time', value: { ms }, timeoutMs: timeouts.admin }, () => inner.advanceTime!(ms));
}

/** Names are created per run; a counter per prefix keeps them short and unique. */
export class NameCounter {
  private readonly counts = new Map<string, number>();
  /** `scope` keeps names from different recorders (worker threads) apart. */
  constructor(private readonly scope = '') {}
  next(prefix: string): string {
    const n = (this.counts.get(prefix) ?? 0) + 1;
    this.counts.set(prefix, n);
    return `${this.scope}${prefix}${n}`;
  }
}
