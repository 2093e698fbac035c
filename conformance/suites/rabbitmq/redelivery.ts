/**
 * Redelivery: deliveries held unacked by a consumer whose connection dies, and deliveries nacked
 * or rejected with requeue, come back with redelivered = true; a reject without requeue (and no
 * dead-letter exchange) drops the message.
 */
import type { QueueDelivery } from '../../adapters/queue-model';
import { defineCheck } from '../framework/check';
import { count, ids, pullAll, sameSet, waitFor } from './support';

export const checks = [
  defineCheck({
    name: 'redelivery/after-consumer-crash',
    model: 'rabbitmq',
    description: 'Deliveries a crashed consumer never acked are redelivered to another consumer with redelivered = true; acked ones are not.',
    requires: ['consumer-crash'],
    async run(ctx) {
      const admin = await ctx.adapter.openChannel();
      const q = ctx.name('crash');
      await admin.assertQueue(q);
      const n = count(ctx, 300);
      for (let i = 0; i < n; i++) await admin.publish('', q, { id: ctx.id() });
      const victim = await ctx.adapter.openChannel();
      const held: QueueDelivery[] = [];
      await victim.consume(q, (d) => held.push(d));
      ctx.expect(await waitFor(ctx, () => held.length === n), 'victim received all', { got: held.length });
      const ackedIds = new Set<string>();
      for (const d of held.slice(0, Math.floor(n / 3))) {
        await victim.ack(d.deliveryTag);
        ackedIds.add(d.id);
      }
      await victim.crash();
      const survivor = await ctx.adapter.openChannel();
      const got: QueueDelivery[] = [];
      await survivor.consume(q, (d) => {
        got.push(d);
        void survivor.ack(d.deliveryTag);
      });
      const expected = held.filter((d) => !ackedIds.has(d.id)).map((d) => d.id);
      ctx.expect(await waitFor(ctx, () => got.length >= expected.length), 'survivor got the unacked ones', { got: got.length, expected: expected.length });
      await ctx.sleep(ctx.scale.idleMs);
      ctx.drained([q]);
      ctx.expect(sameSet(ids(got), expected), 'exactly the unacked deliveries came back', { got: got.length, expected: expected.length });
      ctx.expect(got.every((d) => d.redelivered), 'all flagged redelivered', ids(got.filter((d) => !d.redelivered)));
    },
  }),
  defineCheck({
    name: 'redelivery/nack-requeue',
    model: 'rabbitmq',
    description: 'A nack or reject with requeue puts the message back; it is delivered again with redelivered = true.',
    requires: ['nack', 'get'],
    async run(ctx) {
      const ch = await ctx.adapter.openChannel();
      const q = ctx.name('nack');
      await ch.assertQueue(q);
      const sent: string[] = [];
      for (let i = 0; i < 20; i++) {
        const id = ctx.id();
        sent.push(id);
        await ch.publish('', q, { id });
      }
      const first: QueueDelivery[] = [];
      for (let i = 0; i < 20; i++) {
        const d = await ch.get(q);
        if (!d) break;
        first.push(d);
        ctx.expect(!d.redelivered, 'first delivery not flagged', d.id);
      }
      for (const [i, d] of first.entries()) {
        if (i % 2 === 0) await ch.nack(d.deliveryTag, { requeue: true });
        else await ch.reject(d.deliveryTag, true);
      }
      ctx.expect(first.length === 20, 'got all 20 once', { got: first.length });
      const again = await pullAll(ctx, ch, q);
      ctx.expect(sameSet(ids(again), sent), 'all 20 came back', { got: again.length });
      ctx.expect(again.every((d) => d.redelivered), 'flagged redelivered');
    },
  }),
  defineCheck({
    name: 'redelivery/reject-without-requeue-drops',
    model: 'rabbitmq',
    description: 'A reject without requeue on a queue with no dead-letter exchange removes the message for good.',
    requires: ['get'],
    async run(ctx) {
      const ch = await ctx.adapter.openChannel();
      const q = ctx.name('drop');
      await ch.assertQueue(q);
      for (let i = 0; i < 10; i++) await ch.publish('', q, { id: ctx.id() });
      for (let i = 0; i < 10; i++) {
        const d = await ch.get(q);
        if (d) await ch.reject(d.deliveryTag, false);
      }
      const left = await pullAll(ctx, ch, q);
      ctx.expect(left.length === 0, 'queue is empty', { left: ids(left) });
    },
  }),
];
