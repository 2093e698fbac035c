/**
 * Cross-model: ack and redelivery. A negatively settled message comes back (flagged as a
 * redelivery, with a growing count), a positively settled one does not, and bounded retries
 * stop at the limit (then dead-letter). The Kafka model has no per-message ack: its form of
 * this rule (uncommitted records come back after a crash) is in offset-resume.ts.
 */
import type { ReceivedMessage } from '../../adapters/broker-model';
import { defineCheck } from '../framework/check';
import { drainBroker, drainPush } from '../framework/drain';

export const checks = [
  defineCheck({
    name: 'ack-redelivery/nack-requeue',
    model: 'rabbitmq',
    description: 'a delivery nacked with requeue is delivered again with redelivered=true; an acked one is not',
    requires: ['nack'],
    async run(ctx) {
      const queue = ctx.name('q');
      const ch = await ctx.adapter.openChannel();
      await ch.assertQueue(queue, { durable: false });
      const n = ctx.scale.messages;
      for (let i = 0; i < n; i++) await ch.publish('', queue, { id: ctx.id(), body: 'x' });
      const nacked = new Set<string>();
      const notFlagged: string[] = [];
      let seen = 0;
      const consumer = await ctx.adapter.openChannel();
      await consumer.consume(queue, (d) => {
        seen++;
        if (nacked.has(d.id) && !d.redelivered) notFlagged.push(d.id);
        if (!nacked.has(d.id) && ctx.rng.int(3) === 0) {
          nacked.add(d.id);
          void consumer.nack(d.deliveryTag, { requeue: true });
        } else void consumer.ack(d.deliveryTag);
      });
      await drainPush(ctx, [queue], () => seen);
      ctx.expect(nacked.size > 0, 'the check nacked nothing (too few messages)');
      ctx.expect(notFlagged.length === 0, 'redeliveries after nack must carry redelivered=true', { ids: notFlagged.slice(0, 10) });
      await consumer.close();
      await ch.close();
    },
  }),
  defineCheck({
    name: 'ack-redelivery/delivery-limit',
    model: 'rabbitmq',
    description: 'with x-delivery-limit N a message always nacked with requeue is delivered N+1 times, then dead-lettered',
    requires: ['nack', 'delivery-limit', 'dead-letter', 'exchange-fanout'],
    async run(ctx) {
      const limit = 2;
      const queue = ctx.name('work');
      const dlx = ctx.name('dlx');
      const dlq = ctx.name('dead');
      const ch = await ctx.adapter.openChannel();
      await ch.assertExchange(dlx, 'fanout', { durable: false });
      await ch.assertQueue(dlq, { durable: false });
      await ch.bindQueue(dlq, dlx, '');
      await ch.assertQueue(queue, { durable: false, deliveryLimit: limit, deadLetterExchange: dlx });
      const n = Math.min(50, ctx.scale.messages);
      for (let i = 0; i < n; i++) await ch.publish('', queue, { id: ctx.id(), body: 'x' }, {}, { expect: [queue, dlq] });
      const counts = new Map<string, number>();
      let seen = 0;
      const consumer = await ctx.adapter.openChannel();
      await consumer.consume(queue, (d) => {
        seen++;
        const k = (counts.get(d.id) ?? 0) + 1;
        counts.set(d.id, k);
        // Stop nacking well past the limit, so a broker that ignores it cannot loop forever.
        if (k > limit + 3) void consumer.ack(d.deliveryTag);
        else void consumer.nack(d.deliveryTag, { requeue: true });
      });
      let dead = 0;
      const deadCh = await ctx.adapter.openChannel();
      await deadCh.consume(dlq, (d) => {
        dead++;
        void deadCh.ack(d.deliveryTag);
      });
      await drainPush(ctx, [queue, dlq], () => seen + dead);
      const wrong = [...counts].filter(([, c]) => c !== limit + 1);
      ctx.expect(wrong.length === 0, `each message must be delivered exactly ${limit + 1} times`, { examples: wrong.slice(0, 5) });
      await consumer.close();
      await deadCh.close();
      await ch.close();
    },
  }),
  defineCheck({
    name: 'ack-redelivery/reconsume-later',
    model: 'rocketmq',
    description: 'RECONSUME_LATER brings a message back with reconsumeTimes + 1; CONSUME_SUCCESS does not',
    requires: ['clustering', 'retry', 'virtual-time', 'consume-from'],
    async run(ctx) {
      const topic = ctx.name('t');
      await ctx.adapter.createTopic(topic, { queues: 2 });
      const producer = await ctx.adapter.producer({ group: ctx.name('pg') });
      const n = Math.min(100, ctx.scale.messages);
      for (let i = 0; i < n; i++) await producer.send({ id: ctx.id(), topic, body: 'x' });
      const c = await ctx.adapter.consumer({ group: ctx.name('g'), model: 'CLUSTERING', instanceName: 'c', consumeFrom: { from: 'first' } });
      await c.subscribe(topic, '*');
      await c.start();
      const retried = new Set<string>();
      const badCount: { id: string; reconsumeTimes: number }[] = [];
      await drainBroker(ctx, [c], {
        advanceMs: 15_000,
        settle: (_c, m: ReceivedMessage) => {
          if (retried.has(m.id) && m.reconsumeTimes !== 1) badCount.push({ id: m.id, reconsumeTimes: m.reconsumeTimes });
          if (m.reconsumeTimes === 0 && ctx.rng.int(3) === 0) {
            retried.add(m.id);
            return 'RECONSUME_LATER';
          }
          return 'CONSUME_SUCCESS';
        },
      });
      ctx.expect(retried.size > 0, 'the check asked for no retry (too few messages)');
      ctx.expect(badCount.length === 0, 'a retried message must come back with reconsumeTimes = 1', { examples: badCount.slice(0, 5) });
      await c.shutdown();
      await producer.close();
    },
  }),
  defineCheck({
    name: 'ack-redelivery/max-reconsume-then-dlq',
    model: 'rocketmq',
    description: 'a message always answered RECONSUME_LATER is consumed maxReconsumeTimes + 1 times, then lands in %DLQ%<group>',
    requires: ['clustering', 'retry', 'dead-letter', 'virtual-time', 'consume-from'],
    async run(ctx) {
      const topic = ctx.name('t');
      await ctx.adapter.createTopic(topic, { queues: 1 });
      const group = ctx.name('g');
      const producer = await ctx.adapter.producer({ group: ctx.name('pg') });
      const n = 20;
      const max = 2;
      for (let i = 0; i < n; i++) await producer.send({ id: ctx.id(), topic, body: 'x' });
      const c = await ctx.adapter.consumer({ group, model: 'CLUSTERING', instanceName: 'c', consumeFrom: { from: 'first' }, maxReconsumeTimes: max });
      await c.subscribe(topic, '*');
      await c.start();
      const counts = new Map<string, number>();
      await drainBroker(ctx, [c], {
        advanceMs: 60_000,
        settle: (_c, m) => {
          const k = (counts.get(m.id) ?? 0) + 1;
          counts.set(m.id, k);
          // Give up well past the limit, so a broker that ignores it cannot loop forever.
          return k > max + 3 ? 'CONSUME_SUCCESS' : 'RECONSUME_LATER';
        },
      });
      const wrong = [...counts].filter(([, k]) => k !== max + 1);
      ctx.expect(counts.size === n && wrong.length === 0, `each message must be consumed exactly ${max + 1} times`, { got: counts.size, examples: wrong.slice(0, 5) });
      const dlqTopic = `%DLQ%${group}`;
      const route = await ctx.adapter.route(dlqTopic).catch(() => null);
      ctx.expect(route !== null, `${dlqTopic} must exist after messages exhausted their retries`);
      if (route) {
        const d = await ctx.adapter.consumer({ group: ctx.name('dlqreader'), model: 'CLUSTERING', instanceName: 'd', consumeFrom: { from: 'first' } });
        await d.subscribe(dlqTopic, '*');
        await d.start();
        const dead = await drainBroker(ctx, [d]);
        const ids = new Set(dead.get(d.name)!.map((m) => m.id));
        ctx.expect(ids.size === n, `every message must reach ${dlqTopic}`, { got: ids.size, expected: n });
        await d.shutdown();
      }
      await c.shutdown();
      await producer.close();
    },
  }),
];
