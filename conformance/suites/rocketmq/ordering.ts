/**
 * RocketMQ: ordered messages. A selector by sharding key puts equal keys in one queue; an
 * orderly consumer consumes each queue in send order, and a suspended message holds its queue
 * until it succeeds.
 */
import { defineCheck } from '../framework/check';
import { drainBroker } from '../framework/drain';
import { count, messages, sendAll, startConsumer } from './support';

export const checks = [
  defineCheck({
    name: 'ordering/sharding-key-fifo',
    model: 'rocketmq',
    description: 'messages with one sharding key land in one queue and an orderly consumer gets them in send order, even when some are suspended and retried',
    requires: ['ordered-selector', 'clustering', 'consume-from'],
    async run(ctx) {
      const topic = ctx.name('orders');
      await ctx.adapter.createTopic(topic, { queues: 4 });
      const n = count(ctx, 300);
      const keys = ['order-1', 'order-2', 'order-3', 'order-4', 'order-5'];
      const msgs = messages(ctx, topic, n, (i) => ({ keys: [keys[i % keys.length]!], body: `${keys[i % keys.length]}:${i}` }));
      const p = await ctx.adapter.producer({ group: ctx.name('pg') });
      const results = await sendAll(p, msgs, (m) => ({ shardingKey: m.keys![0]! }));
      const queueOf = new Map<string, Set<string>>();
      results.forEach((r, i) => {
        const k = msgs[i]!.keys![0]!;
        if (!queueOf.has(k)) queueOf.set(k, new Set());
        queueOf.get(k)!.add(`${r.broker}/${r.queueId}`);
      });
      ctx.expect([...queueOf.values()].every((s) => s.size === 1), 'each sharding key used exactly one queue', Object.fromEntries([...queueOf].map(([k, s]) => [k, [...s]])));
      const c = await startConsumer(ctx, topic, '*', { group: ctx.name('g'), model: 'CLUSTERING', instanceName: 'o', orderly: true, consumeFrom: { from: 'first' } });
      const suspended = new Set<string>();
      const got = await drainBroker(ctx, [c], {
        settle: (_c, m) => {
          if (ctx.rng.int(10) === 0 && !suspended.has(m.id)) {
            suspended.add(m.id);
            return 'RECONSUME_LATER';
          }
          return 'CONSUME_SUCCESS';
        },
      });
      const firstSeen: string[] = [];
      const done = new Set<string>();
      for (const m of got.get(c.name)!) {
        if (done.has(m.id)) continue;
        if (!suspended.has(m.id) || m.reconsumeTimes > 0) done.add(m.id);
        firstSeen.push(String(m.body instanceof Uint8Array ? Buffer.from(m.body).toString() : m.body));
      }
      const perKey = new Map<string, number[]>();
      for (const b of firstSeen) {
        const [k, i] = b.split(':');
        const list = perKey.get(k!) ?? [];
        if (list[list.length - 1] !== Number(i)) list.push(Number(i));
        perKey.set(k!, list);
      }
      for (const [k, seq] of perKey) ctx.expect(seq.every((x, j) => j === 0 || x > seq[j - 1]!), `${k} consumed in send order`, seq.slice(0, 20));
      ctx.expect(done.size === n, 'every message consumed', { got: done.size, expected: n });
      await c.shutdown();
      await p.close();
    },
  }),
];
