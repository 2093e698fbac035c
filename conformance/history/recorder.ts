/**
 * Records operations as they happen. Each call takes its time from the process-wide monotonic
 * clock (`process.hrtime.bigint()`, shared by worker threads), so events recorded on workers can
 * be merged in later and the whole history ordered by time; indexes are assigned by `finish()`.
 */
import type { Op, OpType } from './ops';

export type PendingOp = Omit<Op, 'index'>;

export interface InvocationHandle {
  process: string;
  f: string;
}

export class HistoryRecorder {
  private readonly origin: bigint;
  private readonly events: PendingOp[] = [];
  private finished: Op[] | null = null;
  /** Set once `limit` events were recorded; later events are not kept (a runaway loop must not eat all memory). */
  overflowed = false;

  /** `origin` lets worker-thread recorders share the main recorder's time zero. */
  constructor(origin: bigint = process.hrtime.bigint(), readonly limit = 5_000_000) {
    this.origin = origin;
  }

  get originNs(): bigint {
    return this.origin;
  }

  get size(): number {
    return this.events.length;
  }

  now(): number {
    return Number(process.hrtime.bigint() - this.origin);
  }

  private push(process: string, type: OpType, f: string, value: unknown, error?: { code: string; message: string }): void {
    if (this.finished) this.finished = null;
    if (this.events.length >= this.limit) {
      this.overflowed = true;
      return;
    }
    const op: PendingOp = { time: this.now(), process, type, f, value };
    if (error) op.error = error;
    this.events.push(op);
  }

  invoke(process: string, f: string, value: unknown): InvocationHandle {
    this.push(process, 'invoke', f, value);
    return { process, f };
  }

  ok(h: InvocationHandle, value: unknown): void {
    this.push(h.process, 'ok', h.f, value);
  }

  fail(h: InvocationHandle, value: unknown, error: { code: string; message: string }): void {
    this.push(h.process, 'fail', h.f, value, error);
  }

  info(h: InvocationHandle, value: unknown, error: { code: string; message: string }): void {
    this.push(h.process, 'info', h.f, value, error);
  }

  /** An observation with no duration (push delivery, drain mark): invoke and ok at once. */
  observe(process: string, f: string, value: unknown): void {
    this.push(process, 'invoke', f, null);
    this.push(process, 'ok', f, value);
  }

  /** Events recorded elsewhere (a worker thread) with the same origin. */
  merge(events: readonly PendingOp[]): void {
    this.finished = null;
    for (const e of events) this.events.push(e);
  }

  /** Raw events, for shipping from a worker to the main thread. */
  pending(): PendingOp[] {
    return this.events.slice();
  }

  /** The history: events in time order (stable), indexed. */
  finish(): Op[] {
    if (this.finished) return this.finished;
    const order = this.events.map((_, i) => i);
    order.sort((a, b) => this.events[a]!.time - this.events[b]!.time || a - b);
    this.finished = order.map((i, index) => ({ index, ...this.events[i]! }));
    return this.finished;
  }
}
