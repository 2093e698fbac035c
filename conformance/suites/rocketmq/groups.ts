/**
 * RocketMQ: message models. CLUSTERING: a group's queues are split over its members, each
 * message goes to one member, and members joining or leaving while messages flow lose nothing.
 * BROADCASTING: every member gets every message and resumes from its own offsets.
 */
import { defineCheck } from '../framework/check';
import { drainBroker } from '../framework/drain';
import { count, messages, receiveUntil, sameSet, sendAll, startConsumer } from './support';

export const checks = [
  defineCheck({
    name: 'clustering/rebalance-on-join-and-leave',
    model: 'rocketmq',
    description: 'members joining and leaving a CLUSTERING group while messages flow: every message is consumed, none lost; a message is consumed twice only across a join or leave, and only by an at-least-once adapter',
    requires: ['clustering', 'consume-from'],
    // A new queue owner resumes from the last persisted offset (RocketMQ persists offsets every few
    // seconds), so acked messages may come again around a rebalance: allowed for an at-least-once
    // adapter only (verdict.ts); a duplicate without a join or leave between is still an anomaly.
    allow: ['rebalance-duplicate'],
    async run(ctx) {
      const topic = ctx.name('jobs');
      await ctx.adapter.createTopic(topic, { queues: 4 });
      const group = ctx.name('g');
      const p = await ctx.adapter.producer({ group: ctx.name('pg') });
      const opts = (instanceName: string) => ({ group, model: 'CLUSTERING' as const, instanceName, consumeFrom: { from: 'first' as const } });
      const n = count(ctx, 300);
      const third = Math.floor(n / 3);
      const all = messages(ctx, topic, n);
      const a = await startConsumer(ctx, topic, '*', opts('a'));
      await sendAll(p, all.slice(0, third));
      const early = await receiveUntil([a], Math.floor(third / 2));
      const b = await startConsumer(ctx, topic, '*', opts('b'));
      const c = await startConsumer(ctx, topic, '*', opts('c'));
      await sendAll(p, all.slice(third, 2 * third));
      const mid = await receiveUntil([a, b, c], Math.floor(third / 2));
      await b.shutdown();
      await sendAll(p, all.slice(2 * third));
      const rest = await drainBroker(ctx, [a, c]);
      const got = [...early, ...mid, ...rest.get(a.name)!, ...rest.get(c.name)!];
      const ids = got.map((m) => m.id);
      ctx.expect(sameSet([...new Set(ids)], all.map((m) => m.id)), 'every message consumed', { got: new Set(ids).size, expected: n });
      // Duplicates are judged by the checker from the history (rebalance-duplicate vs cluster-double-delivery / duplicate).
      if (ids.length !== new Set(ids).size) ctx.log(`${ids.length - new Set(ids).size} repeated deliveries around joins and leaves`);
      await a.shutdown();
      await c.shutdown();
      await p.close();
    },
  }),
  defineCheck({
    name: 'broadcasting/per-instance-resume',
    model: 'rocketmq',
    description: 'BROADCASTING: every instance gets every message; an instance that stops and comes back resumes from its own offsets while the others keep theirs',
    requires: ['broadcasting', 'consume-from'],
    async run(ctx) {
      const topic = ctx.name('news');
      await ctx.adapter.createTopic(topic, { queues: 2 });
      const group = ctx.name('bg');
      const opts = (instanceName: string) => ({ group, model: 'BROADCASTING' as const, instanceName, consumeFrom: { from: 'first' as const } });
      const p = await ctx.adapter.producer({ group: ctx.name('pg') });
      const n = count(ctx, 200);
      const first = messages(ctx, topic, n);
      const x = await startConsumer(ctx, topic, '*', opts('x'));
      const y = await startConsumer(ctx, topic, '*', opts('y'));
      await sendAll(p, first, () => undefined);
      const gx = await receiveUntil([x], n);
      const gy = await receiveUntil([y], n);
      ctx.expect(sameSet(gx.map((m) => m.id), first.map((m) => m.id)), 'x got every message', { got: gx.length });
      ctx.expect(sameSet(gy.map((m) => m.id), first.map((m) => m.id)), 'y got every message', { got: gy.length });
      await x.shutdown();
      const second = messages(ctx, topic, 20);
      await sendAll(p, second);
      const gy2 = await receiveUntil([y], 20);
      ctx.expect(sameSet(gy2.map((m) => m.id), second.map((m) => m.id)), 'y got the new ones', { got: gy2.length });
      const x2 = await startConsumer(ctx, topic, '*', opts('x'));
      const back = await drainBroker(ctx, [x2, y]);
      const gx2 = back.get(x2.name)!;
      ctx.expect(sameSet(gx2.map((m) => m.id), second.map((m) => m.id)), 'x resumed exactly where it stopped: only the messages it missed', { got: gx2.map((m) => m.id).slice(0, 10), count: gx2.length });
      ctx.expect(back.get(y.name)!.length === 0, 'y had nothing left');
      await x2.shutdown();
      await y.shutdown();
      await p.close();
    },
  }),
];
