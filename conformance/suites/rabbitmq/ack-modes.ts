/**
 * Auto-ack vs manual ack: with auto-ack a message counts as acked when it is sent to the
 * consumer, so closing the consumer brings nothing back; with manual ack only acked messages are
 * gone, and the rest return to the queue when the channel closes.
 */
import type { QueueDelivery } from '../../adapters/queue-model';
import { defineCheck } from '../framework/check';
import { count, ids, pullAll, sameSet, waitFor } from './support';

export const checks = [
  defineCheck({
    name: 'ack/auto-ack-gone-on-delivery',
    model: 'rabbitmq',
    description: 'A message delivered to an auto-ack (noAck) consumer is removed at once: closing that consumer brings nothing back.',
    requires: ['get'],
    async run(ctx) {
      const admin = await ctx.adapter.openChannel();
      const q = ctx.name('auto');
      await admin.assertQueue(q);
      const n = count(ctx, 200);
      for (let i = 0; i < n; i++) await admin.publish('', q, { id: ctx.id() });
      const ch = await ctx.adapter.openChannel();
      const got: QueueDelivery[] = [];
      await ch.consume(q, (d) => got.push(d), { noAck: true });
      ctx.expect(await waitFor(ctx, () => got.length === n), `all ${n} delivered`, { got: got.length });
      await ch.close();
      const left = await admin.checkQueue(q);
      ctx.expect(left.messageCount === 0, 'nothing returned to the queue after the auto-ack consumer closed', left);
      const after = await pullAll(ctx, admin, q);
      ctx.expect(after.length === 0, 'no redelivery', { after: ids(after) });
    },
  }),
  defineCheck({
    name: 'ack/manual-ack-keeps-until-acked',
    model: 'rabbitmq',
    description: 'With manual ack, acked messages are gone and unacked ones come back (redelivered) when the channel closes.',
    requires: ['get'],
    async run(ctx) {
      const admin = await ctx.adapter.openChannel();
      const q = ctx.name('manual');
      await admin.assertQueue(q);
      const n = count(ctx, 200);
      for (let i = 0; i < n; i++) await admin.publish('', q, { id: ctx.id() });
      const ch = await ctx.adapter.openChannel();
      const got: QueueDelivery[] = [];
      await ch.consume(q, (d) => got.push(d));
      ctx.expect(await waitFor(ctx, () => got.length === n), `all ${n} delivered`, { got: got.length });
      const acked = got.filter((_, i) => i % 2 === 0);
      for (const d of acked) await ch.ack(d.deliveryTag);
      await ch.close();
      const back = await pullAll(ctx, admin, q);
      const unacked = got.filter((_, i) => i % 2 === 1).map((d) => d.id);
      ctx.expect(sameSet(ids(back), unacked), 'exactly the unacked half came back', { back: back.length, unacked: unacked.length });
      ctx.expect(back.every((d) => d.redelivered), 'each with redelivered = true', ids(back.filter((d) => !d.redelivered)));
    },
  }),
];
