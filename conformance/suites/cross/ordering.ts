/**
 * Cross-model: ordering. Messages sent to one stream (partition, queue) are first delivered in
 * send order; none is lost or duplicated on a healthy run. Several producers send
 * concurrently on worker threads when the adapter supports them, and the consumer reads on a
 * worker thread too when the adapter's worker side can consume (`workers.consumers()`); the
 * sends then name their target (`expect`), since the worker's subscribe may come after some.
 */
import type { ProduceRecord } from '../../adapters/log-model';
import { defineCheck } from '../framework/check';
import { drainBroker, drainLog, drainPush } from '../framework/drain';

const PRODUCERS = 3;

export const checks = [
  defineCheck({
    name: 'ordering/per-partition-fifo',
    model: 'kafka',
    description: 'keyed records from concurrent producers are read back in per-partition send order, none lost or duplicated',
    requires: ['acks-all', 'keyed-partitioning', 'consumer-groups', 'manual-commit', 'auto-offset-reset'],
    async run(ctx) {
      const topic = ctx.name('orders');
      await ctx.adapter.createTopic(topic, { partitions: 3 });
      const group = ctx.name('g');
      const onWorker = ctx.workers !== null && (await ctx.workers.consumers());
      const consumer = onWorker ? null : await ctx.adapter.consumer({ groupId: group, autoOffsetReset: 'earliest' });
      await consumer?.subscribe([topic]);
      const meta = onWorker ? { expect: [group] } : undefined;
      const per = Math.ceil(ctx.scale.messages / PRODUCERS);
      const batches: ProduceRecord[][] = [];
      for (let p = 0; p < PRODUCERS; p++) {
        batches.push(Array.from({ length: per }, (_, i) => ({ id: ctx.id(), key: `k${ctx.rng.int(16)}`, value: `p${p}-${i}` })));
      }
      const reading = onWorker ? ctx.workers!.run({ kind: 'log-consume', topics: [topic], groupId: group, expect: per * PRODUCERS, idleMs: ctx.scale.idleMs, giveUpMs: 5_000 }) : null;
      await Promise.all(
        batches.map(async (records) => {
          if (ctx.workers) return void (await ctx.workers.run({ kind: 'log-send', topic, records, acks: 'all', batchSize: 10, ...(meta ? { meta } : {}) }));
          const producer = await ctx.adapter.producer({ acks: 'all' });
          for (let i = 0; i < records.length; i += 10) await producer.send(topic, records.slice(i, i + 10), meta);
          await producer.close();
        }),
      );
      if (reading) {
        ctx.log(`consumer on a worker thread read ${await reading}`);
        ctx.drained([group]);
      } else {
        await drainLog(ctx, [consumer!]);
        await consumer!.close();
      }
    },
  }),
  defineCheck({
    name: 'ordering/queue-fifo',
    model: 'rabbitmq',
    description: 'messages published to one queue are first delivered in publish order (per channel; across channels once confirmed), none lost or duplicated',
    async run(ctx) {
      // With confirms, a publish confirmed before another channel's publish was invoked orders the two;
      // without, only each channel's own publishes are ordered (checker/order.ts).
      const confirms = ctx.has('publisher-confirms');
      const queue = ctx.name('q');
      const ch = await ctx.adapter.openChannel();
      await ch.assertQueue(queue, { durable: false });
      const per = Math.ceil(ctx.scale.messages / PRODUCERS);
      const onWorker = ctx.workers !== null && (await ctx.workers.consumers());
      let seen = 0;
      const consumerCh = onWorker ? null : await ctx.adapter.openChannel();
      await consumerCh?.consume(queue, (d) => {
        seen++;
        void consumerCh.ack(d.deliveryTag);
      });
      // Default-exchange publishes name their queue as the target already.
      const reading = onWorker ? ctx.workers!.run({ kind: 'queue-consume', queue, expect: per * PRODUCERS, idleMs: ctx.scale.idleMs, giveUpMs: 5_000 }) : null;
      await Promise.all(
        Array.from({ length: PRODUCERS }, async () => {
          const messages = Array.from({ length: per }, () => ({ id: ctx.id(), body: 'x' }));
          if (ctx.workers) return void (await ctx.workers.run({ kind: 'queue-publish', exchange: '', routingKey: queue, messages, confirms }));
          const pch = await ctx.adapter.openChannel({ confirms });
          for (const m of messages) await pch.publish('', queue, m);
          await pch.close();
        }),
      );
      if (reading) {
        ctx.log(`consumer on a worker thread read ${await reading}`);
        ctx.drained([queue]);
      } else {
        await drainPush(ctx, [queue], () => seen);
        await consumerCh!.close();
      }
      await ch.close();
    },
  }),
  defineCheck({
    name: 'ordering/per-queue-fifo',
    model: 'rocketmq',
    description: 'messages sent to a topic are first delivered in per-queue send order, none lost or duplicated',
    requires: ['clustering'],
    async run(ctx) {
      const topic = ctx.name('orders');
      await ctx.adapter.createTopic(topic, { queues: 4 });
      const group = ctx.name('g');
      const per = Math.ceil(ctx.scale.messages / PRODUCERS);
      const onWorker = ctx.workers !== null && (await ctx.workers.consumers());
      const consumer = onWorker ? null : await ctx.adapter.consumer({ group, model: 'CLUSTERING', instanceName: 'c1', consumeFrom: { from: 'first' } });
      if (consumer) {
        await consumer.subscribe(topic, '*');
        await consumer.start();
      }
      const meta = onWorker ? { expect: [group] } : undefined;
      const reading = onWorker ? ctx.workers!.run({ kind: 'broker-consume', group, topic, expression: '*', instanceName: 'c1', expect: per * PRODUCERS, idleMs: ctx.scale.idleMs, giveUpMs: 5_000 }) : null;
      await Promise.all(
        Array.from({ length: PRODUCERS }, async (_, p) => {
          const messages = Array.from({ length: per }, () => ({ id: ctx.id(), topic, body: 'x' }));
          if (ctx.workers) return void (await ctx.workers.run({ kind: 'broker-send', group: ctx.name(`pg${p}`), messages, ...(meta ? { meta } : {}) }));
          const producer = await ctx.adapter.producer({ group: ctx.name(`pg${p}`) });
          for (const m of messages) await producer.send(m, {}, meta);
          await producer.close();
        }),
      );
      if (reading) {
        ctx.log(`consumer on a worker thread read ${await reading}`);
        ctx.drained([group]);
      } else {
        await drainBroker(ctx, [consumer!]);
        await consumer!.shutdown();
      }
    },
  }),
];
