/**
 * Kafka: producer acks and durability. Records acknowledged with acks=all are never lost, also
 * across a broker restart; acks=1 records are readable; acks=0 may lose but never duplicates.
 */
import { defineCheck } from '../framework/check';
import { pollUntilQuiet, records, sendAll } from './support';

export const checks = [
  defineCheck({
    name: 'acks/all-survives-restart',
    model: 'kafka',
    description: 'every record acknowledged with acks=all is read back after the broker restarts',
    requires: ['acks-all', 'broker-restart', 'consumer-groups', 'auto-offset-reset'],
    async run(ctx) {
      const topic = ctx.name('durable');
      await ctx.adapter.createTopic(topic, { partitions: 3 });
      const p = await ctx.adapter.producer({ acks: 'all' });
      const sent = await sendAll(p, topic, records(ctx, ctx.scale.messages, (i) => `k${i % 7}`), 25);
      await p.close();
      await ctx.adapter.restartBroker();
      const c = await ctx.adapter.consumer({ groupId: ctx.name('g'), autoOffsetReset: 'earliest' });
      await c.subscribe([topic]);
      const got = (await pollUntilQuiet(ctx, [c])).get(c.name)!;
      ctx.expect(got.length >= sent.length, `all ${sent.length} acknowledged records read after restart (got ${got.length})`);
      const ends = await ctx.adapter.offsets(topic);
      ctx.expect(ends.reduce((s, e) => s + e.end, 0) === sent.length, 'log end offsets after restart add up to the records sent', ends);
      await c.close();
    },
  }),
  defineCheck({
    name: 'acks/one-and-zero',
    model: 'kafka',
    description: 'acks=1 records are all readable; acks=0 records may be lost but are never stored twice',
    requires: ['acks-1', 'acks-0', 'consumer-groups', 'auto-offset-reset'],
    async run(ctx) {
      const topic = ctx.name('acks');
      await ctx.adapter.createTopic(topic, { partitions: 2 });
      const one = await ctx.adapter.producer({ acks: 1 });
      const zero = await ctx.adapter.producer({ acks: 0 });
      const r1 = await sendAll(one, topic, records(ctx, Math.ceil(ctx.scale.messages / 2), (i) => `a${i % 5}`), 10);
      const r0 = await sendAll(zero, topic, records(ctx, Math.ceil(ctx.scale.messages / 2), (i) => `b${i % 5}`), 10);
      ctx.expect(r1.every((r) => typeof r.offset === 'number'), 'acks=1 results carry offsets', r1.slice(0, 3));
      ctx.expect(r0.every((r) => r.offset === null || typeof r.offset === 'number'), 'acks=0 results carry an offset or null', r0.slice(0, 3));
      const c = await ctx.adapter.consumer({ groupId: ctx.name('g'), autoOffsetReset: 'earliest' });
      await c.subscribe([topic]);
      await pollUntilQuiet(ctx, [c]);
      await Promise.all([one.close(), zero.close(), c.close()]);
    },
  }),
];
