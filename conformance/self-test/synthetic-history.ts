/**
 * A large, healthy, Kafka-shaped history for measuring the checker: producers append batches of
 * ten records round-robin over partitions; two groups (one with two members splitting the
 * partitions, one with a single member) poll batches and commit after each; every target is
 * drained at the end. `faults` plants a few known anomalies so a run also proves detection.
 */
import type { Op, OpType } from '../history/ops';

export interface SyntheticOptions {
  /** Approximate number of operations (events) to generate. */
  ops: number;
  partitions?: number;
  /** Drop this many deliveries (each becomes a `lost` case and a poll-skip). */
  dropped?: number;
}

export function syntheticHistory(o: SyntheticOptions): Op[] {
  const partitions = o.partitions ?? 8;
  const ops: Op[] = [];
  const add = (process: string, type: OpType, f: string, value: unknown) => {
    ops.push({ index: ops.length, time: ops.length * 250, process, type, f, value });
  };
  const consumers = [
    { name: 'g1-a', group: 'g1', parts: [] as number[] },
    { name: 'g1-b', group: 'g1', parts: [] as number[] },
    { name: 'g2-a', group: 'g2', parts: [] as number[] },
  ];
  for (let p = 0; p < partitions; p++) {
    consumers[p % 2]!.parts.push(p);
    consumers[2]!.parts.push(p);
  }
  for (const c of consumers) {
    add(c.name, 'invoke', 'subscribe', null);
    add(c.name, 'ok', 'subscribe', { consumer: c.name, group: c.group, mode: 'cluster', topic: 't', ack: 'offset' });
  }
  const written: string[][] = Array.from({ length: partitions }, () => []);
  const read = consumers.map(() => new Array<number>(partitions).fill(0));
  let next = 0;
  let rr = 0;
  let dropsLeft = o.dropped ?? 0;
  const budget = o.ops - 2 * consumers.length - 2;
  while (ops.length < budget) {
    // One producer batch of ten to one partition.
    const producer = `p${rr % 4}`;
    const p = rr++ % partitions;
    const msgs = Array.from({ length: 10 }, () => `m${next++}`);
    add(producer, 'invoke', 'send', { messages: msgs.map((id) => ({ id, topic: 't' })) });
    add(producer, 'ok', 'send', { messages: msgs.map((id, i) => ({ id, stream: `t/${p}`, offset: written[p]!.length + i })) });
    written[p]!.push(...msgs);
    // Every consumer owning p polls what is new there and commits.
    consumers.forEach((c, ci) => {
      if (!c.parts.includes(p)) return;
      const from = read[ci]![p]!;
      const to = written[p]!.length;
      const messages: { id: string; stream: string; offset: number }[] = [];
      for (let off = from; off < to; off++) {
        if (dropsLeft > 0 && ci === 0 && off % 997 === 5) {
          dropsLeft--;
          continue;
        }
        messages.push({ id: written[p]![off]!, stream: `t/${p}`, offset: off });
      }
      read[ci]![p] = to;
      add(c.name, 'invoke', 'poll', { consumer: c.name });
      add(c.name, 'ok', 'poll', { consumer: c.name, messages });
      add(c.name, 'invoke', 'commit', { consumer: c.name, group: c.group });
      add(c.name, 'ok', 'commit', { consumer: c.name, group: c.group, offsets: [{ stream: `t/${p}`, offset: to }] });
    });
  }
  add('suite', 'invoke', 'drain', null);
  add('suite', 'ok', 'drain', { targets: ['g1', 'g2'] });
  return ops;
}

/** Messages in the history (deliveries counted once per group). */
export function messageCount(ops: readonly Op[]): number {
  let n = 0;
  for (const op of ops) if (op.f === 'send' && op.type === 'ok') n += (op.value as { messages: unknown[] }).messages.length;
  return n;
}
