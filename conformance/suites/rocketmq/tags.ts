/**
 * RocketMQ: tag filtering. A subscription `A || B` receives only messages tagged A or B; the
 * messages it skips still move the group's offset, so the group never sees them later.
 */
import { defineCheck } from '../framework/check';
import { drainBroker } from '../framework/drain';
import { count, messages, sameSet, sendAll, startConsumer } from './support';

export const checks = [
  defineCheck({
    name: 'tags/filter-without-leak-offsets-advance',
    model: 'rocketmq',
    description: 'a consumer subscribed with `TagA || TagB` gets exactly the A and B messages; after a restart with `*` the group sees only newer messages (skipped ones advanced the offset)',
    requires: ['tags', 'clustering', 'consume-from'],
    async run(ctx) {
      const topic = ctx.name('tagged');
      await ctx.adapter.createTopic(topic, { queues: 2 });
      const group = ctx.name('g');
      const tags = ['TagA', 'TagB', 'TagC', 'TagD'];
      const n = count(ctx, 200);
      const sent = messages(ctx, topic, n, (i) => ({ tags: tags[i % tags.length]! }));
      const p = await ctx.adapter.producer({ group: ctx.name('pg') });
      const c = await startConsumer(ctx, topic, 'TagA || TagB', { group, model: 'CLUSTERING', instanceName: 'c', consumeFrom: { from: 'first' } });
      await sendAll(p, sent);
      const got = (await drainBroker(ctx, [c])).get(c.name)!;
      const wanted = sent.filter((m) => m.tags === 'TagA' || m.tags === 'TagB').map((m) => m.id);
      ctx.expect(sameSet(got.map((m) => m.id), wanted), 'exactly the TagA and TagB messages', { got: got.length, wanted: wanted.length });
      ctx.expect(got.every((m) => m.tags === 'TagA' || m.tags === 'TagB'), 'no other tag leaked', got.filter((m) => m.tags !== 'TagA' && m.tags !== 'TagB').slice(0, 5));
      await c.shutdown();
      const later = messages(ctx, topic, 10, () => ({ tags: 'TagC' }));
      await sendAll(p, later);
      const all = await startConsumer(ctx, topic, '*', { group, model: 'CLUSTERING', instanceName: 'c2', consumeFrom: { from: 'first' } });
      const after = (await drainBroker(ctx, [all])).get(all.name)!;
      ctx.expect(sameSet(after.map((m) => m.id), later.map((m) => m.id)), 'the group resumed after every skipped message: only the 10 newer ones', { got: after.length });
      await all.shutdown();
      await p.close();
    },
  }),
];
