/** A tiny DSL for hand-written histories in the checker tests: each call appends ops and returns the index of its last op. */
import type { Delivered, Op, OpType, Subscription } from '../../conformance/history/ops';

export class HistoryBuilder {
  readonly ops: Op[] = [];

  add(process: string, type: OpType, f: string, value: unknown): number {
    const index = this.ops.length;
    this.ops.push({ index, time: index * 1000, process, type, f, value });
    return index;
  }

  observe(process: string, f: string, value: unknown): number {
    this.add(process, 'invoke', f, null);
    return this.add(process, 'ok', f, value);
  }

  subscribe(consumer: string, group: string, topic: string, extra: Partial<Subscription> = {}): number {
    return this.observe(consumer, 'subscribe', { consumer, group, mode: 'cluster', topic, ack: 'manual', ...extra });
  }

  /** Returns [invoke index, ok index]. */
  send(process: string, id: string, topic: string, result: { stream?: string; offset?: number; returned?: boolean; unconfirmed?: boolean } = {}, extra: Record<string, unknown> = {}, outcome: OpType = 'ok'): [number, number] {
    const inv = this.add(process, 'invoke', 'send', { messages: [{ id, topic, ...extra }] });
    const done = this.add(process, outcome, 'send', outcome === 'ok' ? { messages: [{ id, ...result }] } : null);
    return [inv, done];
  }

  poll(consumer: string, messages: Delivered[]): number {
    this.add(consumer, 'invoke', 'poll', { consumer });
    return this.add(consumer, 'ok', 'poll', { consumer, messages });
  }

  ack(consumer: string, ids: string[]): number {
    const i = this.add(consumer, 'invoke', 'ack', { consumer, ids });
    this.add(consumer, 'ok', 'ack', null);
    return i;
  }

  nack(consumer: string, ids: string[], requeue = true): number {
    const i = this.add(consumer, 'invoke', 'nack', { consumer, ids, requeue });
    this.add(consumer, 'ok', 'nack', null);
    return i;
  }

  commit(consumer: string, group: string, offsets: { stream: string; offset: number }[]): number {
    this.add(consumer, 'invoke', 'commit', { consumer, group });
    return this.add(consumer, 'ok', 'commit', { consumer, group, offsets });
  }

  seek(consumer: string, group: string, stream: string, offset: number): number {
    this.add(consumer, 'invoke', 'seek', { consumer, group, stream, offset });
    return this.add(consumer, 'ok', 'seek', { consumer, group, stream, offset });
  }

  crash(consumer: string): number {
    const i = this.add(consumer, 'invoke', 'crash', { consumer });
    this.add(consumer, 'ok', 'crash', null);
    return i;
  }

  drain(targets: string[]): number {
    return this.observe('suite', 'drain', { targets });
  }
}
