/**
 * Kafka: seek and offsets by time. A seek moves a consumer's position (reading again from there);
 * offsetsForTimes gives the first offset whose timestamp is at or after the given time.
 */
import { defineCheck } from '../framework/check';
import { pollN, pollUntilQuiet, records, sendAll } from './support';

export const checks = [
  defineCheck({
    name: 'seek/replay',
    model: 'kafka',
    description: 'a seek back to an earlier offset reads the records from there again, in order',
    requires: ['acks-all', 'consumer-groups', 'seek', 'auto-offset-reset'],
    async run(ctx) {
      const topic = ctx.name('seek');
      await ctx.adapter.createTopic(topic, { partitions: 1 });
      const p = await ctx.adapter.producer({ acks: 'all' });
      await sendAll(p, topic, records(ctx, 40));
      const c = await ctx.adapter.consumer({ groupId: ctx.name('g'), autoOffsetReset: 'earliest' });
      await c.subscribe([topic]);
      const first = await pollN(ctx, c, 40);
      ctx.expect(first.length === 40, `read all 40 (got ${first.length})`);
      await c.seek({ topic, partition: 0, offset: 25 });
      const again = await pollN(ctx, c, 15);
      ctx.expect(again.map((r) => r.offset).join() === Array.from({ length: 15 }, (_, i) => 25 + i).join(), 'after seek(25): offsets 25..39 again', again.map((r) => r.offset));
      ctx.expect(again.every((r, i) => r.id === first[25 + i]!.id), 'the same records as before');
      await c.seek({ topic, partition: 0, offset: 40 });
      await pollUntilQuiet(ctx, [c]);
      await Promise.all([p.close(), c.close()]);
    },
  }),
  defineCheck({
    name: 'seek/offsets-for-times',
    model: 'kafka',
    description: 'offsetsForTimes returns, per partition, the first offset with timestamp >= t, or null past the newest',
    requires: ['acks-all', 'consumer-groups', 'offsets-for-times', 'explicit-partition', 'auto-offset-reset'],
    async run(ctx) {
      const topic = ctx.name('times');
      await ctx.adapter.createTopic(topic, { partitions: 2 });
      const p = await ctx.adapter.producer({ acks: 'all' });
      const base = Date.now() - 3600_000;
      // Partition 0: timestamps base + 1000*i; partition 1: base + 500 + 2000*i.
      await sendAll(p, topic, records(ctx, 20, undefined, (i) => ({ partition: 0, timestamp: base + 1000 * i })));
      await sendAll(p, topic, records(ctx, 10, undefined, (i) => ({ partition: 1, timestamp: base + 500 + 2000 * i })));
      const c = await ctx.adapter.consumer({ groupId: ctx.name('g'), autoOffsetReset: 'earliest' });
      await c.subscribe([topic]);
      const at = async (ts: number) => new Map((await c.offsetsForTime(topic, ts)).map((r) => [r.partition, r.offset]));
      const a = await at(base + 4500);
      ctx.expect(a.get(0) === 5 && a.get(1) === 2, `t=base+4500: p0 → 5, p1 → 2 (got ${a.get(0)}, ${a.get(1)})`);
      const b = await at(base);
      ctx.expect(b.get(0) === 0 && b.get(1) === 0, `t=base: both → 0 (got ${b.get(0)}, ${b.get(1)})`);
      const n = await at(base + 3600_000);
      ctx.expect(n.get(0) === null && n.get(1) === null, 'after the newest record: null');
      const e = await at(base + 19_000);
      ctx.expect(e.get(0) === 19 && e.get(1) === null, `t=base+19000: p0 → 19, p1 → null (got ${e.get(0)}, ${e.get(1)})`);
      await pollUntilQuiet(ctx, [c]);
      await Promise.all([p.close(), c.close()]);
    },
  }),
];
