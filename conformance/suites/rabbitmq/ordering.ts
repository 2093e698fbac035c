/**
 * Queue order: first deliveries leave a queue in publish order, and a message put back (nack
 * with requeue) returns at its original position — ahead of messages never delivered.
 */
import { defineCheck } from '../framework/check';
import { pullAll } from './support';

export const checks = [
  defineCheck({
    name: 'ordering/requeue-keeps-position',
    model: 'rabbitmq',
    description: 'A requeued message goes back to its original place: the next get returns the requeued messages first, in publish order, then the rest.',
    requires: ['get', 'nack'],
    async run(ctx) {
      const ch = await ctx.adapter.openChannel();
      const q = ctx.name('order');
      await ch.assertQueue(q);
      const sent: string[] = [];
      for (let i = 0; i < 10; i++) {
        const id = ctx.id();
        sent.push(id);
        await ch.publish('', q, { id });
      }
      const first = [];
      for (let i = 0; i < 4; i++) {
        const d = await ch.get(q);
        if (d) first.push(d);
      }
      ctx.expect(JSON.stringify(first.map((d) => d.id)) === JSON.stringify(sent.slice(0, 4)), 'first deliveries in publish order', first.map((d) => d.id));
      // Put them back out of order: 3rd, 1st, then 2nd and 4th; ack nothing.
      for (const i of [2, 0, 1, 3]) await ch.nack(first[i]!.deliveryTag, { requeue: true });
      const all = await pullAll(ctx, ch, q);
      ctx.expect(JSON.stringify(all.map((d) => d.id)) === JSON.stringify(sent), 'requeued messages at their original positions, then the rest', all.map((d) => d.id));
      ctx.expect(all.slice(0, 4).every((d) => d.redelivered) && all.slice(4).every((d) => !d.redelivered), 'only the requeued ones are flagged redelivered');
    },
  }),
];
