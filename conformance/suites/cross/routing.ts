/**
 * Routing rules the faulty-adapter self-test leans on (the model suites test routing in depth):
 * an unroutable mandatory publish is returned and never delivered; a tag filter lets through
 * only the tags it names.
 */
import { defineCheck } from '../framework/check';
import { drainBroker, drainPush } from '../framework/drain';

export const checks = [
  defineCheck({
    name: 'routing/unroutable-returned-not-delivered',
    model: 'rabbitmq',
    description: 'a mandatory publish no binding matches is returned and delivered nowhere; matching ones reach their queue',
    requires: ['exchange-direct', 'mandatory'],
    async run(ctx) {
      const ex = ctx.name('direct');
      const queue = ctx.name('q');
      const ch = await ctx.adapter.openChannel();
      await ch.assertExchange(ex, 'direct', { durable: false });
      await ch.assertQueue(queue, { durable: false });
      await ch.bindQueue(queue, ex, 'bound');
      let seen = 0;
      const consumer = await ctx.adapter.openChannel();
      await consumer.consume(queue, (d) => {
        seen++;
        void consumer.ack(d.deliveryTag);
      });
      const notReturned: string[] = [];
      const n = Math.min(100, ctx.scale.messages);
      for (let i = 0; i < n; i++) {
        const unroutable = i % 2 === 1;
        const id = ctx.id();
        const r = await ch.publish(ex, unroutable ? 'nobody' : 'bound', { id, body: 'x' }, { mandatory: true }, unroutable ? { unroutable: true } : { expect: [queue] });
        if (unroutable && !r.returned) notReturned.push(id);
      }
      await drainPush(ctx, [queue], () => seen);
      ctx.expect(notReturned.length === 0, 'unroutable mandatory publishes must come back as returned', { ids: notReturned.slice(0, 10) });
      await consumer.close();
      await ch.close();
    },
  }),
  defineCheck({
    name: 'routing/tag-filter',
    model: 'rocketmq',
    description: "a subscription 'A || B' receives exactly the messages tagged A or B; '*' receives all",
    requires: ['tags', 'clustering'],
    async run(ctx) {
      const topic = ctx.name('t');
      await ctx.adapter.createTopic(topic, { queues: 2 });
      const filtered = await ctx.adapter.consumer({ group: ctx.name('ab'), model: 'CLUSTERING', instanceName: 'f', consumeFrom: { from: 'first' } });
      await filtered.subscribe(topic, 'A || B');
      await filtered.start();
      const all = await ctx.adapter.consumer({ group: ctx.name('all'), model: 'CLUSTERING', instanceName: 'a', consumeFrom: { from: 'first' } });
      await all.subscribe(topic, '*');
      await all.start();
      const producer = await ctx.adapter.producer({ group: ctx.name('pg') });
      const tags = ['A', 'B', 'C'];
      for (let i = 0; i < ctx.scale.messages; i++) await producer.send({ id: ctx.id(), topic, tags: tags[i % 3]!, body: 'x' });
      await producer.close();
      await drainBroker(ctx, [filtered, all]);
      await filtered.shutdown();
      await all.shutdown();
    },
  }),
];
