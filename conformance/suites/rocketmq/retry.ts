/**
 * RocketMQ: retries. RECONSUME_LATER sends a message to `%RETRY%<group>` with delay level
 * 3 + reconsumeTimes (10 s, 30 s, 1 min, 2 min, ...): it comes back with reconsumeTimes 1, 2, 3 ...
 * and never before its level's delay; after maxReconsumeTimes it goes to `%DLQ%<group>`.
 */
import { DELAY_LEVELS_MS } from '../../adapters/broker-model';
import { defineCheck } from '../framework/check';
import { drainBroker } from '../framework/drain';
import { messages, receiveNothing, receiveUntil, sameSet, sendAll, startConsumer } from './support';

export const checks = [
  defineCheck({
    name: 'retry/increasing-reconsume-times-and-delay',
    model: 'rocketmq',
    description: 'a message answered RECONSUME_LATER returns with reconsumeTimes 1, 2, 3, each time not before delay level 3 + previous reconsumeTimes',
    requires: ['retry', 'clustering', 'virtual-time', 'consume-from'],
    async run(ctx) {
      const topic = ctx.name('flaky');
      await ctx.adapter.createTopic(topic, { queues: 1 });
      const group = ctx.name('g');
      const p = await ctx.adapter.producer({ group: ctx.name('pg') });
      const c = await startConsumer(ctx, topic, '*', { group, model: 'CLUSTERING', instanceName: 'c', consumeFrom: { from: 'first' } });
      const sent = messages(ctx, topic, 5);
      await sendAll(p, sent);
      const first = await receiveUntil([c], 5, 10_000, () => 'RECONSUME_LATER');
      ctx.expect(first.length === 5 && first.every((m) => m.reconsumeTimes === 0), 'first deliveries have reconsumeTimes 0', first.map((m) => m.reconsumeTimes));
      for (let times = 1; times <= 3; times++) {
        const delay = DELAY_LEVELS_MS[3 + (times - 1) - 1]!;
        await ctx.adapter.advanceTime(delay - 1_000);
        const early = await receiveNothing(c, 150);
        ctx.expect(early.length === 0, `no retry ${times} before ${delay} ms`, early.map((m) => ({ id: m.id, reconsumeTimes: m.reconsumeTimes })));
        await ctx.adapter.advanceTime(1_000);
        const back = await receiveUntil([c], 5, 10_000, () => (times < 3 ? 'RECONSUME_LATER' : 'CONSUME_SUCCESS'));
        ctx.expect(sameSet(back.map((m) => m.id), sent.map((m) => m.id)), `all five came back for retry ${times}`, { got: back.length });
        ctx.expect(back.every((m) => m.reconsumeTimes === times), `retry ${times} carries reconsumeTimes ${times}`, back.map((m) => m.reconsumeTimes));
        ctx.expect(back.every((m) => m.topic === topic), 'a retried message shows its original topic', back.map((m) => m.topic));
      }
      await drainBroker(ctx, [c]);
      await c.shutdown();
      await p.close();
    },
  }),
  defineCheck({
    name: 'retry/dead-letter-after-limit',
    model: 'rocketmq',
    description: 'with maxReconsumeTimes 3 a message always answered RECONSUME_LATER is consumed 4 times, then is found in %DLQ%<group> with its body, tags and keys',
    requires: ['retry', 'dead-letter', 'clustering', 'virtual-time', 'consume-from', 'keys'],
    async run(ctx) {
      const topic = ctx.name('doomed');
      await ctx.adapter.createTopic(topic, { queues: 2 });
      const group = ctx.name('g');
      const p = await ctx.adapter.producer({ group: ctx.name('pg') });
      const c = await startConsumer(ctx, topic, '*', { group, model: 'CLUSTERING', instanceName: 'c', consumeFrom: { from: 'first' }, maxReconsumeTimes: 3 });
      const sent = messages(ctx, topic, 6, (i) => ({ tags: 'TagX', keys: [`dead-${i}`] }));
      await sendAll(p, sent);
      const got = (await drainBroker(ctx, [c], { advanceMs: 120_000, settle: () => 'RECONSUME_LATER' })).get(c.name)!;
      const per = new Map<string, number[]>();
      for (const m of got) per.set(m.id, [...(per.get(m.id) ?? []), m.reconsumeTimes]);
      ctx.expect([...per.values()].every((t) => t.join() === '0,1,2,3'), 'each consumed 4 times with reconsumeTimes 0..3', Object.fromEntries([...per].slice(0, 3)));
      const dlq = `%DLQ%${group}`;
      const d = await startConsumer(ctx, dlq, '*', { group: ctx.name('reader'), model: 'CLUSTERING', instanceName: 'd', consumeFrom: { from: 'first' } });
      const dead = (await drainBroker(ctx, [d])).get(d.name)!;
      ctx.expect(sameSet(dead.map((m) => m.id), sent.map((m) => m.id)), `all six in ${dlq}`, { got: dead.length });
      ctx.expect(dead.every((m) => m.tags === 'TagX' && m.keys.length === 1 && m.keys[0]!.startsWith('dead-')), 'tags and keys kept', dead.slice(0, 2));
      const byKey = await ctx.adapter.queryByKey(dlq, 'dead-0');
      ctx.expect(byKey.length === 1 && byKey[0]!.id === sent[0]!.id, 'the dead letter is found by key in the DLQ topic', byKey.map((m) => m.id));
      await d.shutdown();
      await c.shutdown();
      await p.close();
    },
  }),
];
