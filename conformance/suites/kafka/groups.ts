/**
 * Kafka: consumer groups. Each partition goes to exactly one member of a group; distinct groups
 * each see every record; members joining, leaving or crashing (session timeout) rebalance the
 * group without losing records; a member that lost a partition cannot commit for it.
 */
import { defineCheck } from '../framework/check';
import type { RecordingLogConsumer } from '../recording/recording-log';
import { commitOwned, pollUntilQuiet, records, sendAll } from './support';

async function assignments(cs: readonly RecordingLogConsumer[]): Promise<string[][]> {
  return Promise.all(cs.map(async (c) => (await c.assignment()).map((tp) => `${tp.topic}/${tp.partition}`)));
}

/**
 * Polls the consumers round-robin (committing owned positions) until every member has partitions
 * and together they cover `partitions` disjointly, or 15 s pass.
 */
async function settle(cs: readonly RecordingLogConsumer[], partitions: number): Promise<string[][]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    for (const c of cs) {
      const rs = await c.poll({ maxRecords: 50, timeoutMs: 10 });
      if (rs.length > 0) await commitOwned(c, rs);
    }
    const a = await assignments(cs);
    const all = a.flat();
    if ((all.length === partitions && new Set(all).size === partitions && a.every((x) => x.length > 0)) || Date.now() > deadline) return a;
  }
}

export const checks = [
  defineCheck({
    name: 'groups/exclusive-assignment',
    model: 'kafka',
    description: 'each partition is assigned to exactly one member of a group, and the group reads every record once',
    requires: ['acks-all', 'consumer-groups', 'manual-commit', 'auto-offset-reset'],
    async run(ctx) {
      const topic = ctx.name('split');
      await ctx.adapter.createTopic(topic, { partitions: 6 });
      const group = ctx.name('g');
      const cs = await Promise.all(['a', 'b', 'c'].map((id) => ctx.adapter.consumer({ groupId: group, clientId: id, autoOffsetReset: 'earliest' })));
      for (const c of cs) await c.subscribe([topic]);
      const a = await settle(cs, 6);
      const all = a.flat();
      ctx.expect(all.length === 6 && new Set(all).size === 6, 'the 6 partitions are split over the members, none twice', a);
      ctx.expect(a.every((x) => x.length === 2), 'three members get two partitions each', a);
      const p = await ctx.adapter.producer({ acks: 'all' });
      await sendAll(p, topic, records(ctx, ctx.scale.messages, (i) => `k${i}`), 20);
      const got = await pollUntilQuiet(ctx, cs);
      cs.forEach((c, i) => {
        const mine = new Set(a[i]);
        for (const r of got.get(c.name)!) ctx.expect(mine.has(`${r.topic}/${r.partition}`), `${c.name} read only its own partitions`, r);
      });
      await Promise.all([p.close(), ...cs.map((c) => c.close())]);
    },
  }),
  defineCheck({
    name: 'groups/every-group-sees-every-record',
    model: 'kafka',
    description: 'two groups subscribed to one topic each receive every record (publish-subscribe between groups)',
    requires: ['acks-all', 'consumer-groups', 'manual-commit', 'auto-offset-reset'],
    async run(ctx) {
      const topic = ctx.name('fanout');
      await ctx.adapter.createTopic(topic, { partitions: 3 });
      const g1 = [await ctx.adapter.consumer({ groupId: ctx.name('g1'), clientId: 'x', autoOffsetReset: 'earliest' }), await ctx.adapter.consumer({ groupId: ctx.name('g1'), clientId: 'y', autoOffsetReset: 'earliest' })];
      const g2 = await ctx.adapter.consumer({ groupId: ctx.name('g2'), clientId: 'z', autoOffsetReset: 'earliest' });
      for (const c of [...g1, g2]) await c.subscribe([topic]);
      await settle(g1, 3);
      const p = await ctx.adapter.producer({ acks: 'all' });
      const sent = await sendAll(p, topic, records(ctx, ctx.scale.messages, (i) => `k${i % 11}`), 20);
      const got = await pollUntilQuiet(ctx, [...g1, g2]);
      const n1 = new Set([...got.get(g1[0]!.name)!, ...got.get(g1[1]!.name)!].map((r) => r.id)).size;
      const n2 = new Set(got.get(g2.name)!.map((r) => r.id)).size;
      ctx.expect(n1 === sent.length && n2 === sent.length, `each group got all ${sent.length} records (g1 ${n1}, g2 ${n2})`);
      await Promise.all([p.close(), ...g1.map((c) => c.close()), g2.close()]);
    },
  }),
  defineCheck({
    name: 'groups/rebalance-join-leave-crash',
    model: 'kafka',
    description: 'members joining, leaving and crashing mid-stream rebalance the group without losing a record',
    requires: ['acks-all', 'consumer-groups', 'manual-commit', 'auto-offset-reset', 'consumer-crash'],
    async run(ctx) {
      const topic = ctx.name('rebalance');
      await ctx.adapter.createTopic(topic, { partitions: 4 });
      const group = ctx.name('g');
      const opts = { groupId: group, autoOffsetReset: 'earliest' as const, sessionTimeoutMs: 6000 };
      const p = await ctx.adapter.producer({ acks: 'all' });
      const chunk = Math.ceil(ctx.scale.messages / 4);
      const a = await ctx.adapter.consumer({ ...opts, clientId: 'a' });
      await a.subscribe([topic]);
      await sendAll(p, topic, records(ctx, chunk, (i) => `k${i % 17}`), 10);
      await pollUntilQuiet(ctx, [a]);
      // b joins
      const b = await ctx.adapter.consumer({ ...opts, clientId: 'b' });
      await b.subscribe([topic]);
      await sendAll(p, topic, records(ctx, chunk, (i) => `k${i % 17}`), 10);
      await settle([a, b], 4);
      await pollUntilQuiet(ctx, [a, b]);
      // c joins, then crashes holding uncommitted records
      const c = await ctx.adapter.consumer({ ...opts, clientId: 'c' });
      await c.subscribe([topic]);
      await settle([a, b, c], 4);
      await sendAll(p, topic, records(ctx, chunk, (i) => `k${i % 17}`), 10);
      await c.poll({ maxRecords: 20, timeoutMs: 50 });
      await c.crash();
      if (ctx.has('virtual-time')) await ctx.adapter.advanceTime(7000);
      else await ctx.sleep(6500);
      await settle([a, b], 4);
      await pollUntilQuiet(ctx, [a, b]);
      // b leaves cleanly
      await b.close();
      await sendAll(p, topic, records(ctx, chunk, (i) => `k${i % 17}`), 10);
      await settle([a], 4);
      await pollUntilQuiet(ctx, [a]);
      const [owned] = await assignments([a]);
      ctx.expect(owned!.length === 4, 'the last member owns all partitions', owned);
      await Promise.all([p.close(), a.close()]);
    },
  }),
  defineCheck({
    name: 'groups/stale-commit-rejected',
    model: 'kafka',
    description: 'after a rebalance moved a partition away, a commit for it from its former owner is rejected',
    requires: ['acks-all', 'consumer-groups', 'manual-commit', 'auto-offset-reset'],
    async run(ctx) {
      const topic = ctx.name('stale');
      await ctx.adapter.createTopic(topic, { partitions: 2 });
      const group = ctx.name('g');
      const a = await ctx.adapter.consumer({ groupId: group, clientId: 'a', autoOffsetReset: 'earliest' });
      await a.subscribe([topic]);
      await settle([a], 2);
      const before = (await a.assignment()).map((tp) => tp.partition);
      const b = await ctx.adapter.consumer({ groupId: group, clientId: 'b', autoOffsetReset: 'earliest' });
      await b.subscribe([topic]);
      const [, bParts] = await settle([a, b], 2);
      const lost = before.find((p) => bParts!.includes(`${topic}/${p}`));
      ctx.expect(lost !== undefined, 'a partition moved from a to b', { before, b: bParts });
      if (lost !== undefined) {
        let rejected = false;
        try {
          await a.commit([{ topic, partition: lost, offset: 0 }]);
        } catch {
          rejected = true;
        }
        ctx.expect(rejected, `a's commit for ${topic}/${lost}, now b's, was rejected`);
      }
      await Promise.all([a.close(), b.close()]);
    },
  }),
];
