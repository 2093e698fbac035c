/**
 * The Kafka adapter against the real broker: produce offsets, keyed partitioning, poll/commit/
 * resume, seek, offsets by time, crash without commit, group split, clear error when down.
 */
import type { Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { createAdapter } from '../../conformance/adapters/real/kafka';
import type { ConsumedRecord, LogConsumer } from '../../conformance/adapters/log-model';
import { isMqlabError } from '../../core/errors';
import { peerSkipReason, PEERS } from './reachable';

const ns = `t-${randomUUID().slice(0, 8)}`;

async function pollAll(c: LogConsumer, n: number, ms = 15_000): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  const end = Date.now() + ms;
  while (out.length < n && Date.now() < end) out.push(...(await c.poll({ maxRecords: n - out.length, timeoutMs: 500 })));
  return out;
}

/** Registers the adapter tests on `t` (run before the suites, in the same file: the suites restart the broker). */
export function kafkaAdapterTests(t: Test): void {
  t.test('unreachable broker: a clear error naming broker and address', async (t) => {
    const err = await createAdapter({ url: 'kafka://127.0.0.1:1', params: { requestTimeoutMs: '2000' } }).then(() => null, (e: unknown) => e);
    t.ok(isMqlabError(err, 'ERR_BROKER_UNREACHABLE'), 'ERR_BROKER_UNREACHABLE');
    t.match((err as Error).message, /Kafka at kafka:\/\/127\.0\.0\.1:1 is not reachable/);
  });

  t.test('kafka adapter on the real broker', async (t) => {
    const skip = await peerSkipReason('kafka');
    if (skip) { t.plan(0, skip); return; }
    const adapter = await createAdapter({ url: PEERS.kafka.url });
    t.teardown(() => adapter.close());

    await t.test('produce, poll, commit, resume after restart of the consumer', async (t) => {
      const topic = `${ns}.a`;
      await adapter.createTopic(topic, { partitions: 3 });
      const p = await adapter.producer({ acks: 'all' });
      const res = await p.send(topic, Array.from({ length: 30 }, (_, i) => ({ id: `r${i}`, key: `k${i % 5}`, value: `v${i}` })));
      t.equal(res.length, 30);
      const byKey = new Map<string, number>();
      for (const [i, r] of res.entries()) {
        const k = `k${i % 5}`;
        if (byKey.has(k)) t.equal(r.partition, byKey.get(k), `key ${k} stays in one partition`); else byKey.set(k, r.partition);
      }
      const offs = await adapter.offsets(topic);
      t.equal(offs.reduce((s, o) => s + o.end - o.start, 0), 30, 'end offsets add up to 30');
      const perPart = new Map<number, number[]>();
      for (const r of res) perPart.set(r.partition, [...(perPart.get(r.partition) ?? []), r.offset!]);
      for (const list of perPart.values()) t.same(list, list.map((_, i) => i), 'offsets contiguous from 0');

      const group = `${ns}.g1`;
      const c1 = await adapter.consumer({ groupId: group, autoOffsetReset: 'earliest', sessionTimeoutMs: 6000 });
      await c1.subscribe([topic]);
      const first = await pollAll(c1, 30);
      t.equal(first.length, 30, 'all 30 records polled');
      t.same(new Set(first.map((r) => r.id)).size, 30);
      t.equal((await c1.assignment()).length, 3);
      await c1.commit();
      const committed = await c1.committed([0, 1, 2].map((partition) => ({ topic, partition })));
      t.same(committed.map((c) => c.offset).sort(), offs.map((o) => o.end).sort(), 'committed = end offsets');
      await c1.close();

      await p.send(topic, [{ id: 'late', key: 'k1', value: 'x' }]);
      const c2 = await adapter.consumer({ groupId: group, autoOffsetReset: 'earliest' });
      await c2.subscribe([topic]);
      const next = await pollAll(c2, 1);
      t.same(next.map((r) => r.id), ['late'], 'resumes at the committed offset');
      await c2.close();
      await p.close();
    });

    await t.test('seek and offsets for time', async (t) => {
      const topic = `${ns}.b`;
      await adapter.createTopic(topic, { partitions: 1 });
      const p = await adapter.producer({ acks: 1 });
      const t0 = Date.now() - 10_000;
      await p.send(topic, Array.from({ length: 10 }, (_, i) => ({ id: `s${i}`, value: 'x', timestamp: t0 + i * 1000 })));
      const c = await adapter.consumer({ groupId: `${ns}.g2`, autoOffsetReset: 'earliest' });
      await c.subscribe([topic]);
      t.equal((await pollAll(c, 10)).length, 10);
      await c.seek({ topic, partition: 0, offset: 7 });
      t.same((await pollAll(c, 3)).map((r) => r.offset), [7, 8, 9], 'seek back to 7');
      t.same(await c.offsetsForTime(topic, t0 + 4500), [{ partition: 0, offset: 5 }]);
      t.same(await c.offsetsForTime(topic, Date.now() + 60_000), [{ partition: 0, offset: null }], 'none after the last record');
      await c.close();
      await p.close();
    });

    await t.test('crash without commit: records come again to the next member', async (t) => {
      const topic = `${ns}.c`;
      await adapter.createTopic(topic, { partitions: 2 });
      const p = await adapter.producer({ acks: 'all' });
      await p.send(topic, Array.from({ length: 10 }, (_, i) => ({ id: `c${i}`, value: 'x' })));
      const group = `${ns}.g3`;
      const a = await adapter.consumer({ groupId: group, autoOffsetReset: 'earliest', sessionTimeoutMs: 2000 });
      await a.subscribe([topic]);
      t.equal((await pollAll(a, 10)).length, 10);
      await a.crash();
      const b = await adapter.consumer({ groupId: group, autoOffsetReset: 'earliest', sessionTimeoutMs: 2000 });
      await b.subscribe([topic]);
      const again = await pollAll(b, 10, 20_000);
      t.same(again.map((r) => r.id).sort(), Array.from({ length: 10 }, (_, i) => `c${i}`).sort(), 'uncommitted records delivered again');
      await b.close();
      await p.close();
    });
  });
}
