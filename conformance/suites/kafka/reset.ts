/**
 * Kafka: auto.offset.reset for a group with no committed offset — earliest reads from the log
 * start, latest only what is sent after joining, none refuses to guess (an error).
 */
import { defineCheck } from '../framework/check';
import { pollN, pollUntilQuiet, records, sendAll } from './support';

export const checks = [
  defineCheck({
    name: 'reset/earliest-latest-none',
    model: 'kafka',
    description: 'with no commit, earliest starts at the log start, latest at the log end, none fails the poll',
    requires: ['acks-all', 'consumer-groups', 'auto-offset-reset'],
    async run(ctx) {
      const topic = ctx.name('reset');
      await ctx.adapter.createTopic(topic, { partitions: 1 });
      const p = await ctx.adapter.producer({ acks: 'all' });
      const before = await sendAll(p, topic, records(ctx, 30));
      const early = await ctx.adapter.consumer({ groupId: ctx.name('early'), autoOffsetReset: 'earliest' });
      const late = await ctx.adapter.consumer({ groupId: ctx.name('late'), autoOffsetReset: 'latest' });
      await early.subscribe([topic]);
      await late.subscribe([topic]);
      const e = await pollN(ctx, early, 5);
      ctx.expect(e[0]?.offset === 0, `earliest starts at offset 0, got ${e[0]?.offset}`);
      const l0 = await late.poll({ maxRecords: 10, timeoutMs: 200 });
      ctx.expect(l0.length === 0, `latest reads nothing sent before it joined (got ${l0.length})`);
      const after = await sendAll(p, topic, records(ctx, 10));
      const l = (await pollUntilQuiet(ctx, [late])).get(late.name)!;
      ctx.expect(l.length === after.length && l[0]?.offset === before.length, `latest reads exactly the ${after.length} later records from offset ${before.length}`, l.map((r) => r.offset));
      const strict = await ctx.adapter.consumer({ groupId: ctx.name('strict'), autoOffsetReset: 'none' });
      await strict.subscribe([topic]);
      let failed = false;
      try {
        await strict.poll({ maxRecords: 10, timeoutMs: 200 });
      } catch {
        failed = true;
      }
      ctx.expect(failed, 'auto.offset.reset=none with no commit fails the poll');
      await strict.close().catch(() => undefined);
      await pollUntilQuiet(ctx, [early]);
      await Promise.all([p.close(), early.close(), late.close()]);
    },
  }),
];
