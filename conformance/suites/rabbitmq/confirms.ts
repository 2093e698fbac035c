/**
 * Publisher confirms: on a confirm channel every publish is acknowledged by the broker; a
 * confirmed message is in its queues (the checker flags a confirmed message missing from a
 * drained queue as lost).
 */
import { defineCheck } from '../framework/check';
import { count, pullAll } from './support';

export const checks = [
  defineCheck({
    name: 'confirms/every-publish-confirmed',
    model: 'rabbitmq',
    description: 'On a confirm channel each publish resolves confirmed, and every confirmed message is in its queue.',
    requires: ['publisher-confirms', 'get'],
    async run(ctx) {
      const ch = await ctx.adapter.openChannel({ confirms: true });
      const q = ctx.name('confirmed');
      await ch.assertQueue(q);
      const n = count(ctx, 500);
      const results = await Promise.all(Array.from({ length: n }, () => ch.publish('', q, { id: ctx.id() })));
      const notConfirmed = results.filter((r) => r.confirmed !== true);
      ctx.expect(notConfirmed.length === 0, 'all confirmed', notConfirmed.slice(0, 5));
      const got = await pullAll(ctx, ch, q);
      ctx.expect(got.length === n, 'all in the queue', { got: got.length, n });
    },
  }),
  defineCheck({
    name: 'queue-length/max-length-drops-oldest',
    model: 'rabbitmq',
    description: 'A queue at its x-max-length drops its oldest ready message to make room (overflow drop-head, the default).',
    requires: ['get'],
    async run(ctx) {
      const ch = await ctx.adapter.openChannel({ confirms: ctx.has('publisher-confirms') });
      const q = ctx.name('bounded');
      await ch.assertQueue(q, { maxLength: 5 });
      const sent: string[] = [];
      for (let i = 0; i < 8; i++) {
        const id = ctx.id();
        sent.push(id);
        // The first three are pushed out by the last three.
        await ch.publish('', q, { id }, {}, { expect: i < 3 ? [] : [q] });
      }
      const got = await pullAll(ctx, ch, q);
      ctx.expect(JSON.stringify(got.map((d) => d.id)) === JSON.stringify(sent.slice(3)), 'the newest five remain, in order', { got: got.map((d) => d.id), sent });
    },
  }),
];
