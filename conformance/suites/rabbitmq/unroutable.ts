/**
 * Unroutable messages: a mandatory publish that no binding routes comes back (basic.return,
 * NO_ROUTE) and is never delivered; a non-mandatory one is silently dropped. Queues bound later
 * do not receive them.
 */
import { defineCheck } from '../framework/check';
import { pullAll } from './support';

export const checks = [
  defineCheck({
    name: 'unroutable/mandatory-returned',
    model: 'rabbitmq',
    description: 'A mandatory message with no matching binding is returned to the publisher and delivered nowhere.',
    requires: ['mandatory', 'exchange-direct', 'get'],
    async run(ctx) {
      const ch = await ctx.adapter.openChannel({ confirms: ctx.has('publisher-confirms') });
      const x = ctx.name('x');
      const q = ctx.name('q');
      await ch.assertExchange(x, 'direct');
      await ch.assertQueue(q);
      await ch.bindQueue(q, x, 'bound');
      for (let i = 0; i < 10; i++) {
        const unroutable = i % 2 === 0;
        const r = await ch.publish(x, unroutable ? 'nobody' : 'bound', { id: ctx.id() }, { mandatory: true }, unroutable ? { unroutable: true } : { expect: [q] });
        ctx.expect(r.returned === unroutable, `publish ${i}: returned = ${unroutable}`, r);
      }
      await ch.bindQueue(q, x, 'nobody');
      const got = await pullAll(ctx, ch, q);
      ctx.expect(got.length === 5, 'only the routable half arrived', { got: got.length });
    },
  }),
  defineCheck({
    name: 'unroutable/non-mandatory-dropped',
    model: 'rabbitmq',
    description: 'A non-mandatory message with no matching binding is dropped: not returned, not delivered, and confirmed when confirms are on.',
    requires: ['exchange-fanout', 'get'],
    async run(ctx) {
      const confirms = ctx.has('publisher-confirms');
      const ch = await ctx.adapter.openChannel({ confirms });
      const x = ctx.name('lonely');
      await ch.assertExchange(x, 'fanout');
      for (let i = 0; i < 5; i++) {
        const r = await ch.publish(x, '', { id: ctx.id() }, {}, { unroutable: true });
        ctx.expect(!r.returned, 'not returned', r);
        if (confirms) ctx.expect(r.confirmed === true, 'confirmed', r);
      }
      const q = ctx.name('late');
      await ch.assertQueue(q);
      await ch.bindQueue(q, x, '');
      const got = await pullAll(ctx, ch, q);
      ctx.expect(got.length === 0, 'a queue bound afterwards gets nothing', { got: got.length });
    },
  }),
];
