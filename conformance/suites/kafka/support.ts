/**
 * Helpers shared by the Kafka suites (this file exports no checks, so the registry skips it).
 */
import type { CheckContext } from '../framework/check';
import type { ConsumedRecord, ProduceRecord, ProduceResult } from '../../adapters/log-model';
import type { RecordingLogConsumer, RecordingLogProducer } from '../recording/recording-log';

export type Ctx = CheckContext<'kafka'>;

/** `n` records with fresh ids; `key(i)` and `extra(i)` shape them. */
export function records(ctx: Ctx, n: number, key?: (i: number) => string | null, extra?: (i: number) => Partial<ProduceRecord>): ProduceRecord[] {
  return Array.from({ length: n }, (_, i) => ({ id: ctx.id(), key: key ? key(i) : null, value: `v${i}`, ...(extra ? extra(i) : {}) }));
}

/** Sends in chunks of `chunk`; returns every result. */
export async function sendAll(producer: RecordingLogProducer, topic: string, recs: readonly ProduceRecord[], chunk = 20): Promise<ProduceResult[]> {
  const out: ProduceResult[] = [];
  for (let i = 0; i < recs.length; i += chunk) out.push(...(await producer.send(topic, recs.slice(i, i + chunk))));
  return out;
}

/**
 * Polls every consumer in turn, committing after each non-empty poll the positions of the
 * partitions it owns now (so a rebalance never turns the commit into a stale one), until all stay
 * quiet for the idle time. Marks the consumers' groups drained. Returns records per consumer name.
 */
export async function pollUntilQuiet(ctx: Ctx, consumers: readonly RecordingLogConsumer[], options: { commit?: boolean; idleMs?: number; between?: () => Promise<void> } = {}): Promise<Map<string, ConsumedRecord[]>> {
  const idle = options.idleMs ?? ctx.scale.idleMs;
  const got = new Map<string, ConsumedRecord[]>(consumers.map((c) => [c.name, []]));
  const deadline = Date.now() + (ctx.scale.long ? 600_000 : 30_000);
  let quietSince = Date.now();
  for (;;) {
    let any = false;
    for (const c of consumers) {
      const rs = await c.poll({ maxRecords: 100, timeoutMs: Math.min(30, idle) });
      if (rs.length > 0) {
        any = true;
        got.get(c.name)!.push(...rs);
      }
      if (rs.length > 0 && options.commit !== false) await commitOwned(c, rs);
    }
    if (options.between) await options.between();
    const now = Date.now();
    if (any) quietSince = now;
    else if (now - quietSince >= idle) break;
    if (now > deadline) throw new Error('consumers did not go quiet within the deadline');
  }
  ctx.drained([...new Set(consumers.map((c) => c.target))]);
  return got;
}

/** Commits, for the partitions `c` owns now, the offset after the last of `rs` in each. */
export async function commitOwned(c: RecordingLogConsumer, rs: readonly ConsumedRecord[]): Promise<void> {
  const owned = new Set((await c.assignment()).map((tp) => `${tp.topic}/${tp.partition}`));
  const next = new Map<string, { topic: string; partition: number; offset: number }>();
  for (const r of rs) if (owned.has(`${r.topic}/${r.partition}`)) next.set(`${r.topic}/${r.partition}`, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
  if (next.size > 0) await c.commit([...next.values()]);
}

/** Polls one consumer until it has returned `n` records or stays quiet for the idle time. */
export async function pollN(ctx: Ctx, c: RecordingLogConsumer, n: number): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  let quietSince = Date.now();
  while (out.length < n) {
    const rs = await c.poll({ maxRecords: n - out.length, timeoutMs: 30 });
    if (rs.length > 0) {
      out.push(...rs);
      quietSince = Date.now();
    } else if (Date.now() - quietSince > Math.max(ctx.scale.idleMs, 500)) break;
  }
  return out;
}

export function byPartition(rs: readonly { partition: number; offset: number | null }[]): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (const r of rs) {
    if (!m.has(r.partition)) m.set(r.partition, []);
    m.get(r.partition)!.push(r.offset ?? -1);
  }
  return m;
}
