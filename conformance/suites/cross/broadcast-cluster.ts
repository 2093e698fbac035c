/**
 * Cross-model: broadcast vs cluster. Members of one cluster group share the messages (each to
 * exactly one of them, absent failures); broadcast delivery gives every member everything:
 * distinct Kafka groups, one RabbitMQ queue per consumer behind a fanout exchange, RocketMQ
 * BROADCASTING groups.
 */
import type { MessageModel } from '../../adapters/broker-model';
import { defineCheck, type CheckContext } from '../framework/check';
import { drainBroker, drainLog, drainPush } from '../framework/drain';

const MEMBERS = 3;

/** RocketMQ: MEMBERS consumers of one group in `model`, messages sent, then drained; the checker judges. */
async function runGroupOfMembers(ctx: CheckContext<'rocketmq'>, model: MessageModel): Promise<void> {
  const topic = ctx.name('t');
  await ctx.adapter.createTopic(topic, { queues: 4 });
  const group = ctx.name('g');
  const members = [];
  for (let i = 0; i < MEMBERS; i++) {
    const c = await ctx.adapter.consumer({ group, model, instanceName: `m${i}`, consumeFrom: { from: 'first' } });
    await c.subscribe(topic, '*');
    await c.start();
    members.push(c);
  }
  const producer = await ctx.adapter.producer({ group: ctx.name('pg') });
  for (let i = 0; i < ctx.scale.messages; i++) await producer.send({ id: ctx.id(), topic, body: 'x' });
  await producer.close();
  await drainBroker(ctx, members);
  for (const c of members) await c.shutdown();
}

export const checks = [
  defineCheck({
    name: 'broadcast-cluster/groups-share-and-each-group-sees-all',
    model: 'kafka',
    description: 'two groups of two members: each record reaches each group once, and within a group only one member',
    requires: ['consumer-groups', 'manual-commit', 'auto-offset-reset'],
    async run(ctx) {
      const topic = ctx.name('t');
      await ctx.adapter.createTopic(topic, { partitions: 4 });
      const consumers = [];
      for (const g of ['g1', 'g2']) {
        for (const m of ['a', 'b']) {
          const c = await ctx.adapter.consumer({ groupId: ctx.name(g), clientId: m, autoOffsetReset: 'earliest' });
          await c.subscribe([topic]);
          consumers.push(c);
        }
      }
      const producer = await ctx.adapter.producer({ acks: 'all' });
      for (let i = 0; i < ctx.scale.messages; i += 20) await producer.send(topic, Array.from({ length: 20 }, () => ({ id: ctx.id(), value: 'v' })));
      await producer.close();
      await drainLog(ctx, consumers);
      for (const c of consumers) await c.close();
    },
  }),
  defineCheck({
    name: 'broadcast-cluster/competing-consumers',
    model: 'rabbitmq',
    description: 'consumers competing on one queue each get a share, every message to exactly one of them',
    async run(ctx) {
      const queue = ctx.name('q');
      const ch = await ctx.adapter.openChannel();
      await ch.assertQueue(queue, { durable: false });
      let seen = 0;
      const chans = [];
      for (let i = 0; i < MEMBERS; i++) {
        const c = await ctx.adapter.openChannel();
        await c.prefetch(10);
        await c.consume(queue, (d) => {
          seen++;
          void c.ack(d.deliveryTag);
        });
        chans.push(c);
      }
      for (let i = 0; i < ctx.scale.messages; i++) await ch.publish('', queue, { id: ctx.id(), body: 'x' });
      await drainPush(ctx, [queue], () => seen);
      for (const c of chans) await c.close();
      await ch.close();
    },
  }),
  defineCheck({
    name: 'broadcast-cluster/fanout-queue-per-consumer',
    model: 'rabbitmq',
    description: 'a fanout exchange with one queue per consumer delivers every message to every consumer',
    requires: ['exchange-fanout'],
    async run(ctx) {
      const ex = ctx.name('fan');
      const ch = await ctx.adapter.openChannel();
      await ch.assertExchange(ex, 'fanout', { durable: false });
      const queues: string[] = [];
      let seen = 0;
      const chans = [];
      for (let i = 0; i < MEMBERS; i++) {
        const q = ctx.name(`member${i}`);
        await ch.assertQueue(q, { durable: false });
        await ch.bindQueue(q, ex, '');
        queues.push(q);
        const c = await ctx.adapter.openChannel();
        await c.consume(q, (d) => {
          seen++;
          void c.ack(d.deliveryTag);
        });
        chans.push(c);
      }
      for (let i = 0; i < ctx.scale.messages; i++) await ch.publish(ex, '', { id: ctx.id(), body: 'x' }, {}, { expect: queues });
      await drainPush(ctx, queues, () => seen);
      for (const c of chans) await c.close();
      await ch.close();
    },
  }),
  defineCheck({
    name: 'broadcast-cluster/clustering-group',
    model: 'rocketmq',
    description: 'members of a CLUSTERING group split the queues: every message to exactly one member',
    requires: ['clustering'],
    run: (ctx) => runGroupOfMembers(ctx, 'CLUSTERING'),
  }),
  defineCheck({
    name: 'broadcast-cluster/broadcasting-group',
    model: 'rocketmq',
    description: 'every member of a BROADCASTING group receives every message',
    requires: ['broadcasting'],
    run: (ctx) => runGroupOfMembers(ctx, 'BROADCASTING'),
  }),
];
