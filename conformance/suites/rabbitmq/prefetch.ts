/**
 * Prefetch and competing consumers: prefetch bounds the unacked push deliveries of a consumer;
 * consumers of one queue compete — each message goes to exactly one of them (the checker flags
 * cluster double deliveries), and the work is spread over all of them.
 */
import type { QueueDelivery } from '../../adapters/queue-model';
import { defineCheck } from '../framework/check';
import { drainPush } from '../framework/drain';
import { count, waitFor } from './support';

export const checks = [
  defineCheck({
    name: 'prefetch/bounds-unacked',
    model: 'rabbitmq',
    description: 'A consumer with prefetch N never holds more than N unacked deliveries; each ack lets exactly one more in.',
    requires: ['prefetch'],
    async run(ctx) {
      const admin = await ctx.adapter.openChannel();
      const q = ctx.name('pf');
      await admin.assertQueue(q);
      for (let i = 0; i < 50; i++) await admin.publish('', q, { id: ctx.id() });
      const ch = await ctx.adapter.openChannel();
      await ch.prefetch(5);
      const got: QueueDelivery[] = [];
      await ch.consume(q, (d) => got.push(d));
      await waitFor(ctx, () => got.length >= 5);
      await ctx.sleep(ctx.scale.idleMs);
      ctx.expect(got.length === 5, 'exactly 5 in flight', { got: got.length });
      await ch.ack(got[0]!.deliveryTag);
      await waitFor(ctx, () => got.length >= 6);
      await ctx.sleep(ctx.scale.idleMs);
      ctx.expect(got.length === 6, 'one ack, one more delivery', { got: got.length });
      let acked = 1;
      while (acked < got.length) await ch.ack(got[acked++]!.deliveryTag);
      // Now keep acking until the queue is empty; the bound must hold throughout.
      let maxInFlight = 0;
      const done = await waitFor(
        ctx,
        () => {
          maxInFlight = Math.max(maxInFlight, got.length - acked);
          while (acked < got.length) void ch.ack(got[acked++]!.deliveryTag);
          return got.length === 50;
        },
        10_000,
      );
      ctx.expect(done, 'all 50 delivered', { got: got.length });
      ctx.expect(maxInFlight <= 5, 'never more than 5 unacked', { maxInFlight });
      await drainPush(ctx, [q], () => got.length);
    },
  }),
  defineCheck({
    name: 'competing/each-message-to-one-consumer',
    model: 'rabbitmq',
    description: 'Consumers of one queue share its messages: each message goes to exactly one of them, and every consumer gets some.',
    requires: ['prefetch'],
    async run(ctx) {
      const admin = await ctx.adapter.openChannel();
      const q = ctx.name('work');
      await admin.assertQueue(q);
      const consumers = 3;
      const per = new Map<number, QueueDelivery[]>();
      let total = 0;
      for (let c = 0; c < consumers; c++) {
        const ch = await ctx.adapter.openChannel();
        await ch.prefetch(10);
        per.set(c, []);
        await ch.consume(q, (d) => {
          per.get(c)!.push(d);
          total++;
          void ch.ack(d.deliveryTag);
        });
      }
      const n = count(ctx, 2_000);
      for (let i = 0; i < n; i++) await admin.publish('', q, { id: ctx.id() });
      await waitFor(ctx, () => total >= n, 20_000);
      await drainPush(ctx, [q], () => total);
      const all = [...per.values()].flat().map((d) => d.id);
      ctx.expect(new Set(all).size === n && all.length === n, 'each message exactly once over all consumers', { delivered: all.length, distinct: new Set(all).size, n });
      ctx.expect([...per.values()].every((l) => l.length > 0), 'every consumer got a share', [...per.values()].map((l) => l.length));
    },
  }),
];
