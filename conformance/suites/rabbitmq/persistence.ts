/**
 * Persistence: durable exchanges, queues and bindings and persistent messages in durable queues
 * survive a broker restart — including messages that were delivered but not acked (they come
 * back flagged redelivered). Transient queues do not survive.
 */
import type { QueueDelivery } from '../../adapters/queue-model';
import { defineCheck } from '../framework/check';
import { ids, pullAll, sameSet, waitFor } from './support';

export const checks = [
  defineCheck({
    name: 'persistence/durable-survives-restart',
    model: 'rabbitmq',
    description: 'After a broker restart a durable queue still holds every persistent message not acked before it, and its bindings still route.',
    requires: ['durable', 'broker-restart', 'publisher-confirms', 'exchange-direct', 'get'],
    async run(ctx) {
      let ch = await ctx.adapter.openChannel({ confirms: true });
      const x = ctx.name('orders');
      const q = ctx.name('durable');
      const tq = ctx.name('transient');
      await ch.assertExchange(x, 'direct', { durable: true });
      await ch.assertQueue(q, { durable: true });
      await ch.assertQueue(tq, { durable: false });
      await ch.bindQueue(q, x, 'k');
      const sent: string[] = [];
      for (let i = 0; i < 30; i++) {
        const id = ctx.id();
        sent.push(id);
        const r = await ch.publish(x, 'k', { id, persistent: true }, {}, { expect: [q] });
        ctx.expect(r.confirmed === true, 'confirmed', r);
      }
      const consumer = await ctx.adapter.openChannel();
      await consumer.prefetch(10);
      const got: QueueDelivery[] = [];
      await consumer.consume(q, (d) => got.push(d));
      await waitFor(ctx, () => got.length >= 10);
      const acked = got.slice(0, 5);
      for (const d of acked) await consumer.ack(d.deliveryTag);
      await waitFor(ctx, () => got.length >= 15);
      const unacked = got.filter((d) => !acked.includes(d)).map((d) => d.id);
      await ctx.adapter.restartBroker();
      ch = await ctx.adapter.openChannel({ confirms: true });
      let transientGone = false;
      try {
        await ch.checkQueue(tq);
      } catch {
        transientGone = true;
      }
      ctx.expect(transientGone, 'the transient queue is gone after the restart');
      ch = await ctx.adapter.openChannel({ confirms: true });
      const after = sent[sent.length - 1]!;
      const extra = ctx.id();
      await ch.publish(x, 'k', { id: extra, persistent: true }, {}, { expect: [q] });
      const back = await pullAll(ctx, ch, q);
      const ackedIds = new Set(ids(acked));
      const expected = [...sent.filter((id) => !ackedIds.has(id)), extra];
      ctx.expect(sameSet(ids(back), expected), 'every unacked persistent message is back, plus the new one', { back: back.length, expected: expected.length, last: after });
      const flagged = back.filter((d) => unacked.includes(d.id));
      ctx.expect(flagged.every((d) => d.redelivered), 'messages delivered before the restart come back redelivered', ids(flagged.filter((d) => !d.redelivered)));
    },
  }),
];
