/**
 * Kafka: committed offsets. The committed offset is the next record to read; a consumer of the
 * same group resumes exactly there after a clean close, after a crash (records after the last
 * commit are delivered again, none skipped) and after a broker restart.
 */
import { defineCheck } from '../framework/check';
import type { Ctx } from './support';
import { pollN, pollUntilQuiet, records, sendAll } from './support';

async function setup(ctx: Ctx, n: number) {
  const topic = ctx.name('resume');
  await ctx.adapter.createTopic(topic, { partitions: 1 });
  const p = await ctx.adapter.producer({ acks: 'all' });
  await sendAll(p, topic, records(ctx, n), 25);
  await p.close();
  return topic;
}

export const checks = [
  defineCheck({
    name: 'resume/after-clean-close',
    model: 'kafka',
    description: 'after commit and close, the next consumer of the group starts at the committed offset',
    requires: ['acks-all', 'consumer-groups', 'manual-commit', 'auto-offset-reset'],
    async run(ctx) {
      const topic = await setup(ctx, 60);
      const group = ctx.name('g');
      const a = await ctx.adapter.consumer({ groupId: group, clientId: 'a', autoOffsetReset: 'earliest' });
      await a.subscribe([topic]);
      const first = await pollN(ctx, a, 20);
      ctx.expect(first.length === 20 && first[19]!.offset === 19, 'first consumer read offsets 0..19', first.map((r) => r.offset));
      await a.commit();
      const [committed] = await a.committed([{ topic, partition: 0 }]);
      ctx.expect(committed?.offset === 20, `committed offset is the next to read (20), got ${committed?.offset}`);
      await a.close();
      const b = await ctx.adapter.consumer({ groupId: group, clientId: 'b', autoOffsetReset: 'earliest' });
      await b.subscribe([topic]);
      const rest = (await pollUntilQuiet(ctx, [b])).get(b.name)!;
      ctx.expect(rest[0]?.offset === 20, `resumed at offset 20, got ${rest[0]?.offset}`);
      ctx.expect(rest.length === 40, `read the remaining 40 records, got ${rest.length}`);
      await b.close();
    },
  }),
  defineCheck({
    name: 'resume/after-crash',
    model: 'kafka',
    description: 'after a consumer crash, the group redelivers every record after the last commit and skips none',
    requires: ['acks-all', 'consumer-groups', 'manual-commit', 'auto-offset-reset', 'consumer-crash'],
    async run(ctx) {
      const topic = await setup(ctx, 60);
      const group = ctx.name('g');
      const a = await ctx.adapter.consumer({ groupId: group, clientId: 'a', autoOffsetReset: 'earliest', sessionTimeoutMs: 6000 });
      await a.subscribe([topic]);
      await pollN(ctx, a, 15);
      await a.commit();
      const uncommitted = await pollN(ctx, a, 10);
      ctx.expect(uncommitted[0]?.offset === 15, 'crashed consumer read past its commit');
      await a.crash();
      if (ctx.has('virtual-time')) await ctx.adapter.advanceTime(7000);
      else await ctx.sleep(6500);
      const b = await ctx.adapter.consumer({ groupId: group, clientId: 'b', autoOffsetReset: 'earliest' });
      await b.subscribe([topic]);
      const got = (await pollUntilQuiet(ctx, [b])).get(b.name)!;
      ctx.expect(got[0]?.offset === 15, `the group resumed at the last commit (15), got ${got[0]?.offset}`);
      const ids = new Set(got.map((r) => r.id));
      ctx.expect(uncommitted.every((r) => ids.has(r.id)), 'every record read after the last commit was delivered again');
      await b.close();
    },
  }),
  defineCheck({
    name: 'resume/after-restart',
    model: 'kafka',
    description: 'committed offsets survive a broker restart; the group resumes at them',
    requires: ['acks-all', 'consumer-groups', 'manual-commit', 'auto-offset-reset', 'broker-restart'],
    async run(ctx) {
      const topic = await setup(ctx, 50);
      const group = ctx.name('g');
      const a = await ctx.adapter.consumer({ groupId: group, clientId: 'a', autoOffsetReset: 'earliest' });
      await a.subscribe([topic]);
      await pollN(ctx, a, 30);
      await a.commit();
      await a.close();
      await ctx.adapter.restartBroker();
      const b = await ctx.adapter.consumer({ groupId: group, clientId: 'b', autoOffsetReset: 'latest' });
      await b.subscribe([topic]);
      const got = (await pollUntilQuiet(ctx, [b])).get(b.name)!;
      ctx.expect(got[0]?.offset === 30 && got.length === 20, `resumed at 30 and read 20 records (got first ${got[0]?.offset}, ${got.length})`);
      await b.close();
    },
  }),
];
