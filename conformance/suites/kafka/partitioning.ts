/**
 * Kafka: partitioning and offsets. A key always maps to the same partition; an explicit
 * partition is honoured; offsets in a partition are contiguous from the log start and read back
 * in order.
 */
import { defineCheck } from '../framework/check';
import { byPartition, pollUntilQuiet, records, sendAll } from './support';

export const checks = [
  defineCheck({
    name: 'partitioning/key-stable',
    model: 'kafka',
    description: 'every record with the same key lands in the same partition, across sends and producers',
    requires: ['acks-all', 'keyed-partitioning', 'consumer-groups', 'auto-offset-reset'],
    async run(ctx) {
      const topic = ctx.name('keys');
      await ctx.adapter.createTopic(topic, { partitions: 5 });
      const keyOf = (i: number) => `user-${i % 13}`;
      const p1 = await ctx.adapter.producer({ acks: 'all' });
      const p2 = await ctx.adapter.producer({ acks: 'all' });
      const half = Math.ceil(ctx.scale.messages / 2);
      const results = [...(await sendAll(p1, topic, records(ctx, half, keyOf), 7)), ...(await sendAll(p2, topic, records(ctx, half, keyOf), 11))];
      const partitionOfKey = new Map<string, Set<number>>();
      results.forEach((r, i) => {
        const k = keyOf(i % half);
        if (!partitionOfKey.has(k)) partitionOfKey.set(k, new Set());
        partitionOfKey.get(k)!.add(r.partition);
      });
      for (const [k, ps] of partitionOfKey) ctx.expect(ps.size === 1, `key ${k} went to one partition`, { key: k, partitions: [...ps] });
      const c = await ctx.adapter.consumer({ groupId: ctx.name('g'), autoOffsetReset: 'earliest' });
      await c.subscribe([topic]);
      const got = (await pollUntilQuiet(ctx, [c])).get(c.name)!;
      for (const r of got) {
        const ps = partitionOfKey.get(r.key ?? '');
        ctx.expect(!!ps && ps.has(r.partition), `record ${r.id} with key ${r.key} read from the key's partition`, { record: r });
      }
      await Promise.all([p1.close(), p2.close(), c.close()]);
    },
  }),
  defineCheck({
    name: 'partitioning/explicit-partition',
    model: 'kafka',
    description: 'a record sent with an explicit partition is stored in and read from that partition',
    requires: ['acks-all', 'explicit-partition', 'consumer-groups', 'auto-offset-reset'],
    async run(ctx) {
      const topic = ctx.name('explicit');
      await ctx.adapter.createTopic(topic, { partitions: 4 });
      const p = await ctx.adapter.producer({ acks: 'all' });
      const recs = records(ctx, 40, (i) => `k${i}`, (i) => ({ partition: i % 4 }));
      const results = await sendAll(p, topic, recs, 10);
      results.forEach((r, i) => ctx.expect(r.partition === i % 4, `record ${r.id} acknowledged on partition ${i % 4}`, r));
      const c = await ctx.adapter.consumer({ groupId: ctx.name('g'), autoOffsetReset: 'earliest' });
      await c.subscribe([topic]);
      const got = (await pollUntilQuiet(ctx, [c])).get(c.name)!;
      const want = new Map(recs.map((r) => [r.id, r.partition]));
      for (const r of got) ctx.expect(want.get(r.id) === r.partition, `record ${r.id} read from partition ${want.get(r.id)}`, r);
      await Promise.all([p.close(), c.close()]);
    },
  }),
  defineCheck({
    name: 'offsets/contiguous-and-ordered',
    model: 'kafka',
    description: 'offsets of a partition are contiguous from the log start, acknowledged in send order and read back in that order',
    requires: ['acks-all', 'consumer-groups', 'auto-offset-reset'],
    async run(ctx) {
      const topic = ctx.name('contig');
      await ctx.adapter.createTopic(topic, { partitions: 3 });
      const p = await ctx.adapter.producer({ acks: 'all' });
      const results = await sendAll(p, topic, records(ctx, ctx.scale.messages, (i) => `k${i % 9}`), 13);
      for (const [part, offsets] of byPartition(results)) {
        ctx.expect(offsets.every((o, i) => o === i), `partition ${part}: acknowledged offsets are 0..${offsets.length - 1} in send order`, { partition: part, offsets: offsets.slice(0, 50) });
      }
      const c = await ctx.adapter.consumer({ groupId: ctx.name('g'), autoOffsetReset: 'earliest' });
      await c.subscribe([topic]);
      const got = (await pollUntilQuiet(ctx, [c])).get(c.name)!;
      for (const [part, offsets] of byPartition(got)) {
        ctx.expect(offsets.every((o, i) => o === i), `partition ${part}: read back as 0..${offsets.length - 1} in order`, { partition: part, offsets: offsets.slice(0, 50) });
      }
      const ends = await ctx.adapter.offsets(topic);
      const counts = byPartition(results);
      for (const e of ends) ctx.expect(e.start === 0 && e.end === (counts.get(e.partition)?.length ?? 0), `partition ${e.partition}: log start 0, log end = records sent`, e);
      await Promise.all([p.close(), c.close()]);
    },
  }),
];
