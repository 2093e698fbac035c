/**
 * Broadcast: a fanout exchange with one queue per consumer gives every consumer every message
 * (pub/sub), while each queue's own consumers would still compete.
 */
import type { QueueDelivery } from '../../adapters/queue-model';
import { defineCheck } from '../framework/check';
import { drainPush } from '../framework/drain';
import { count, ids, sameSet, waitFor } from './support';

export const checks = [
  defineCheck({
    name: 'broadcast/fanout-queue-per-consumer',
    model: 'rabbitmq',
    description: 'With a fanout exchange and one queue per consumer, every consumer receives every message.',
    requires: ['exchange-fanout'],
    async run(ctx) {
      const admin = await ctx.adapter.openChannel();
      const x = ctx.name('news');
      await admin.assertExchange(x, 'fanout');
      const queues = [ctx.name('sub1'), ctx.name('sub2'), ctx.name('sub3')];
      const got = new Map<string, QueueDelivery[]>();
      for (const q of queues) {
        await admin.assertQueue(q, { exclusive: false });
        await admin.bindQueue(q, x, '');
        const ch = await ctx.adapter.openChannel();
        got.set(q, []);
        await ch.consume(q, (d) => got.get(q)!.push(d), { noAck: true });
      }
      const n = count(ctx, 500);
      const sent: string[] = [];
      for (let i = 0; i < n; i++) {
        const id = ctx.id();
        sent.push(id);
        await admin.publish(x, '', { id }, {}, { expect: queues });
      }
      const total = () => [...got.values()].reduce((a, l) => a + l.length, 0);
      await waitFor(ctx, () => total() >= n * queues.length, 10_000);
      await drainPush(ctx, queues, total);
      for (const q of queues) ctx.expect(sameSet(ids(got.get(q)!), sent), `${q} got every message`, { got: got.get(q)!.length, sent: n });
    },
  }),
];
