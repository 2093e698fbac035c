/**
 * The seed's "retry a few times, then let it go": a queue with a delivery limit redelivers a
 * failing message at most limit + 1 times, then dead-letters it (reason delivery_limit) or,
 * without a dead-letter exchange, drops it. The checker flags any delivery past the limit.
 */
import type { QueueDelivery } from '../../adapters/queue-model';
import { defineCheck } from '../framework/check';
import { deadLetterTarget, pullAll, waitFor } from './support';

const LIMIT = 3;

export const checks = [
  defineCheck({
    name: 'delivery-limit/retry-then-dead-letter',
    model: 'rabbitmq',
    description: `A message nacked with requeue on every delivery is delivered at most limit + 1 times, then dead-lettered with reason delivery_limit.`,
    requires: ['delivery-limit', 'dead-letter', 'nack'],
    async run(ctx) {
      const ch = await ctx.adapter.openChannel();
      const { dlx, dead } = await deadLetterTarget(ctx, ch);
      const q = ctx.name('jobs');
      await ch.assertQueue(q, { durable: true, deliveryLimit: LIMIT, deadLetterExchange: dlx });
      const n = 10;
      for (let i = 0; i < n; i++) await ch.publish('', q, { id: ctx.id() }, {}, { expect: [q, dead] });
      const worker = await ctx.adapter.openChannel();
      const seen: QueueDelivery[] = [];
      await worker.consume(q, (d) => {
        seen.push(d);
        void worker.nack(d.deliveryTag, { requeue: true });
      });
      ctx.expect(await waitFor(ctx, () => seen.length >= n * (LIMIT + 1), 10_000), 'every message retried up to the limit', { deliveries: seen.length });
      await ctx.sleep(ctx.scale.idleMs);
      ctx.drained([q]);
      const perId = new Map<string, number>();
      for (const d of seen) perId.set(d.id, (perId.get(d.id) ?? 0) + 1);
      ctx.expect([...perId.values()].every((c) => c === LIMIT + 1), `each delivered exactly ${LIMIT + 1} times`, Object.fromEntries(perId));
      if (ctx.has('delivery-count')) {
        const counts = seen.filter((d) => d.id === seen[0]!.id).map((d) => d.deliveryCount);
        ctx.expect(JSON.stringify(counts) === JSON.stringify([0, 1, 2, 3]), 'delivery count 0,1,2,3', counts);
      }
      const deadMsgs = await pullAll(ctx, ch, dead);
      ctx.expect(deadMsgs.length === n, 'all dead-lettered', { dead: deadMsgs.length });
      ctx.expect(deadMsgs.every((d) => d.death?.[0]?.reason === 'delivery_limit' && d.death[0].queue === q), 'x-death reason delivery_limit, queue named', deadMsgs.map((d) => d.death));
    },
  }),
  defineCheck({
    name: 'delivery-limit/retry-then-drop',
    model: 'rabbitmq',
    description: 'Without a dead-letter exchange, a message past its delivery limit is dropped: the queue ends empty.',
    requires: ['delivery-limit', 'nack', 'get'],
    async run(ctx) {
      const ch = await ctx.adapter.openChannel();
      const q = ctx.name('retry');
      await ch.assertQueue(q, { durable: true, deliveryLimit: 1 });
      await ch.publish('', q, { id: ctx.id() });
      let deliveries = 0;
      for (let i = 0; i < 5; i++) {
        const d = await ch.get(q);
        if (!d) break;
        deliveries++;
        await ch.nack(d.deliveryTag, { requeue: true });
      }
      ctx.expect(deliveries === 2, 'delivered limit + 1 = 2 times', { deliveries });
      const left = await pullAll(ctx, ch, q);
      ctx.expect(left.length === 0, 'then gone', { left: left.length });
    },
  }),
];
