/**
 * RocketMQ: offsets kept by the broker survive a broker restart: a CLUSTERING group that
 * consumed part of a topic resumes after the restart with the rest, not from the start.
 */
import { defineCheck } from '../framework/check';
import { drainBroker } from '../framework/drain';
import { count, messages, receiveUntil, sameSet, sendAll, startConsumer } from './support';

export const checks = [
  defineCheck({
    name: 'resume/after-broker-restart',
    model: 'rocketmq',
    description: 'a group that consumed some messages, then the brokers restart: the group resumes with exactly the messages it had not consumed, and the messages are all still there',
    requires: ['clustering', 'broker-restart', 'consume-from', 'query-by-id'],
    async run(ctx) {
      const topic = ctx.name('durable');
      await ctx.adapter.createTopic(topic, { queues: 4 });
      const group = ctx.name('g');
      const p = await ctx.adapter.producer({ group: ctx.name('pg') });
      const n = count(ctx, 200);
      const sent = messages(ctx, topic, n);
      const results = await sendAll(p, sent);
      const c = await startConsumer(ctx, topic, '*', { group, model: 'CLUSTERING', instanceName: 'c', consumeFrom: { from: 'first' } });
      const before = await receiveUntil([c], Math.floor(n / 2));
      await c.shutdown();
      await p.close();
      await ctx.adapter.restartBroker!();
      const probe = await ctx.adapter.queryById(topic, results[0]!.msgId);
      ctx.expect(probe?.id === sent[0]!.id, 'a message is found by msgId after the restart', probe);
      const c2 = await startConsumer(ctx, topic, '*', { group, model: 'CLUSTERING', instanceName: 'c', consumeFrom: { from: 'last' } });
      const after = (await drainBroker(ctx, [c2])).get(c2.name)!;
      const seen = new Set(before.map((m) => m.id));
      const rest = sent.filter((m) => !seen.has(m.id)).map((m) => m.id);
      ctx.expect(sameSet(after.map((m) => m.id), rest), 'resumed with exactly the unconsumed messages (the stored offsets, not consumeFrom, decide)', { got: after.length, expected: rest.length });
      await c2.shutdown();
    },
  }),
];
