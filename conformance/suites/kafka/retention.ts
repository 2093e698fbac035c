/**
 * Kafka: retention. Old segments are deleted whole once older than retention.ms (or past
 * retention.bytes); the log start offset moves forward; a consumer positioned below it is reset
 * by its auto.offset.reset policy (earliest: to the new log start).
 */
import { defineCheck } from '../framework/check';
import { pollN, records, sendAll } from './support';

export const checks = [
  defineCheck({
    name: 'retention/time-moves-log-start',
    model: 'kafka',
    description: 'records older than retention.ms are deleted, the log start moves, and a consumer below it resumes at the new start',
    requires: ['acks-all', 'consumer-groups', 'manual-commit', 'auto-offset-reset', 'retention', 'virtual-time'],
    // Records deleted by retention are never read: not an anomaly here.
    allow: ['lost', 'poll-skip'],
    async run(ctx) {
      const topic = ctx.name('retained');
      const hour = 3600_000;
      await ctx.adapter.createTopic(topic, { partitions: 1, retentionMs: hour });
      const p = await ctx.adapter.producer({ acks: 'all' });
      const big = 'x'.repeat(2000);
      await sendAll(p, topic, records(ctx, 300, undefined, () => ({ value: big })), 10);
      const group = ctx.name('g');
      const slow = await ctx.adapter.consumer({ groupId: group, autoOffsetReset: 'earliest' });
      await slow.subscribe([topic]);
      await pollN(ctx, slow, 5);
      await slow.commit();
      await slow.close();
      await ctx.adapter.advanceTime(2 * hour);
      await sendAll(p, topic, records(ctx, 5), 5);
      await ctx.adapter.advanceTime(60_000);
      const [o] = await ctx.adapter.offsets(topic);
      ctx.expect(!!o && o.start > 5, `the log start moved past the committed offset 5 (start ${o?.start}, end ${o?.end})`, o);
      ctx.expect(!!o && o.end === 305, `the log end is unchanged by retention (${o?.end})`);
      const again = await ctx.adapter.consumer({ groupId: group, autoOffsetReset: 'earliest' });
      await again.subscribe([topic]);
      const got = await pollN(ctx, again, 1000);
      ctx.expect(got[0]?.offset === o?.start, `the group below the log start resumed at the new start ${o?.start} (got ${got[0]?.offset})`);
      ctx.expect(got[got.length - 1]?.offset === 304, 'and read to the end');
      await Promise.all([p.close(), again.close()]);
    },
  }),
];
