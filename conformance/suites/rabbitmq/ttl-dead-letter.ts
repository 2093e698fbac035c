/**
 * TTL and dead-lettering: a message older than the queue's x-message-ttl, or than its own
 * expiration, is expired at the head of the queue and dead-lettered (reason expired); a rejected
 * one is dead-lettered with reason rejected. The copy carries x-death with the queue, reason,
 * count, exchange and routing keys. Time is virtual where the adapter supports it.
 */
import { defineCheck } from '../framework/check';
import { deadLetterTarget, pullAll } from './support';

export const checks = [
  defineCheck({
    name: 'ttl/queue-ttl-expires-to-dlx',
    model: 'rabbitmq',
    description: 'Messages older than the queue TTL are not delivered from the queue; they are dead-lettered with reason expired.',
    requires: ['message-ttl', 'dead-letter', 'virtual-time', 'get'],
    async run(ctx) {
      const ch = await ctx.adapter.openChannel();
      const { dlx, dead } = await deadLetterTarget(ctx, ch, { deadPrefix: 'expired', key: 'late' });
      const q = ctx.name('ttl');
      await ch.assertQueue(q, { messageTtlMs: 1_000, deadLetterExchange: dlx, deadLetterRoutingKey: 'late' });
      const old: string[] = [];
      for (let i = 0; i < 5; i++) {
        const id = ctx.id();
        old.push(id);
        await ch.publish('', q, { id }, {}, { expect: [dead] });
      }
      await ctx.adapter.advanceTime(600);
      const fresh = ctx.id();
      await ch.publish('', q, { id: fresh }, {}, { expect: [q] });
      await ctx.adapter.advanceTime(600);
      const live = await pullAll(ctx, ch, q);
      ctx.expect(live.length === 1 && live[0]!.id === fresh, 'only the fresh message is delivered from the queue', live.map((d) => d.id));
      const expired = await pullAll(ctx, ch, dead);
      ctx.expect(JSON.stringify(expired.map((d) => d.id)) === JSON.stringify(old), 'the old ones are dead-lettered, in order', expired.map((d) => d.id));
      const death = expired[0]?.death?.[0];
      ctx.expect(death?.reason === 'expired' && death.queue === q && death.count === 1 && death.exchange === '' && death.routingKeys[0] === q, 'x-death: expired from the queue, original exchange and key', death);
      ctx.expect(expired.every((d) => d.routingKey === 'late'), 'routed with the dead-letter routing key', expired.map((d) => d.routingKey));
    },
  }),
  defineCheck({
    name: 'ttl/per-message-expiration',
    model: 'rabbitmq',
    description: 'A message whose expiration has passed is not delivered; messages without one, or with a longer one, are.',
    requires: ['queue-ttl-per-message', 'virtual-time', 'get'],
    async run(ctx) {
      const ch = await ctx.adapter.openChannel();
      const q = ctx.name('expiring');
      await ch.assertQueue(q);
      const short = ctx.id();
      const long = ctx.id();
      const none = ctx.id();
      await ch.publish('', q, { id: short, expirationMs: 100 }, {}, { expect: [] });
      await ch.publish('', q, { id: long, expirationMs: 60_000 });
      await ch.publish('', q, { id: none });
      await ctx.adapter.advanceTime(1_000);
      const got = await pullAll(ctx, ch, q);
      ctx.expect(JSON.stringify(got.map((d) => d.id)) === JSON.stringify([long, none]), 'the expired one is gone', got.map((d) => d.id));
    },
  }),
  defineCheck({
    name: 'dead-letter/rejected-x-death',
    model: 'rabbitmq',
    description: 'A message rejected without requeue goes to the dead-letter exchange with an x-death entry (reason rejected, queue, count 1, original routing key).',
    requires: ['dead-letter', 'exchange-fanout', 'get'],
    async run(ctx) {
      const ch = await ctx.adapter.openChannel();
      const { dlx, dead } = await deadLetterTarget(ctx, ch);
      const q = ctx.name('work');
      await ch.assertQueue(q, { deadLetterExchange: dlx });
      const id = ctx.id();
      await ch.publish('', q, { id, headers: { app: 'seed' } }, {}, { expect: [q, dead] });
      const d = await ch.get(q);
      ctx.expect(d?.id === id, 'delivered from the work queue', d?.id);
      if (d) await ch.reject(d.deliveryTag, false);
      await pullAll(ctx, ch, q);
      const got = await pullAll(ctx, ch, dead);
      const m = got[0];
      ctx.expect(got.length === 1 && m?.id === id, 'dead-lettered once', got.map((x) => x.id));
      const death = m?.death?.[0];
      ctx.expect(death?.reason === 'rejected' && death.queue === q && death.count === 1 && death.routingKeys[0] === q, 'x-death names the rejection', death);
      ctx.expect(m?.headers['app'] === 'seed', 'the original headers are kept', m?.headers);
    },
  }),
];
