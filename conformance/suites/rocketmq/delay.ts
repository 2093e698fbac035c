/**
 * RocketMQ: delayed messages. A message sent with delay level L is not delivered before the
 * level's delay (1s 5s 10s 30s 1m ... 2h) and is delivered once it passed.
 */
import { DELAY_LEVELS_MS } from '../../adapters/broker-model';
import { defineCheck } from '../framework/check';
import { drainBroker } from '../framework/drain';
import { messages, receiveNothing, receiveUntil, sameSet, sendAll, startConsumer } from './support';

export const checks = [
  defineCheck({
    name: 'delay/not-before-level',
    model: 'rocketmq',
    description: 'messages with delay levels 2 (5 s), 4 (30 s) and 16 (30 min) arrive only after their delay, each in its turn',
    requires: ['delay-level', 'clustering', 'virtual-time', 'consume-from'],
    async run(ctx) {
      const topic = ctx.name('later');
      await ctx.adapter.createTopic(topic, { queues: 2 });
      const c = await startConsumer(ctx, topic, '*', { group: ctx.name('g'), model: 'CLUSTERING', instanceName: 'c', consumeFrom: { from: 'first' } });
      const p = await ctx.adapter.producer({ group: ctx.name('pg') });
      const levels = [2, 4, 16];
      const byLevel = new Map(levels.map((l) => [l, messages(ctx, topic, 4, () => ({ delayLevel: l }))]));
      const now = messages(ctx, topic, 4);
      for (const l of levels) await sendAll(p, byLevel.get(l)!);
      await sendAll(p, now);
      const immediate = await receiveUntil([c], 4, 5_000);
      ctx.expect(sameSet(immediate.map((m) => m.id), now.map((m) => m.id)), 'only the undelayed messages arrive at once', immediate.map((m) => m.id));
      let elapsed = 0;
      for (const l of levels) {
        const delay = DELAY_LEVELS_MS[l - 1]!;
        await ctx.adapter.advanceTime(delay - 1_000 - elapsed);
        elapsed = delay - 1_000;
        const early = await receiveNothing(c, 150);
        ctx.expect(early.length === 0, `level ${l}: nothing 1 s before ${delay} ms`, early.map((m) => m.id));
        await ctx.adapter.advanceTime(1_000);
        elapsed = delay;
        const due = await receiveUntil([c], 4, 5_000);
        ctx.expect(sameSet(due.map((m) => m.id), byLevel.get(l)!.map((m) => m.id)), `level ${l}: its four messages arrive once due`, due.map((m) => m.id));
        ctx.expect(due.every((m) => m.storeTimestamp - m.bornTimestamp >= delay), `level ${l}: stored on the topic no earlier than the delay`, due.map((m) => m.storeTimestamp - m.bornTimestamp));
      }
      await drainBroker(ctx, [c]);
      await c.shutdown();
      await p.close();
    },
  }),
];
