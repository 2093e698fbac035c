/**
 * Stress (reliability campaign, not part of the default conformance suites): producers on
 * worker threads write to a 6-partition topic while a group of consumers polls and commits;
 * every round one member crashes (session timeout) and a fresh one joins. The history goes to
 * the conformance checker, which judges it against the engine's stated guarantee.
 */
import { defineCheck } from '../../../../conformance/suites/framework/check';
import { commitOwned, pollUntilQuiet, records, sendAll } from '../../../../conformance/suites/kafka/support';
import type { RecordingLogConsumer } from '../../../../conformance/suites/recording/recording-log';

export const checks = [
  defineCheck({
    name: 'stress/producers-on-workers-consumers-crash-and-rejoin',
    model: 'kafka',
    description: 'worker-thread producers and a group whose members crash and rejoin mid-stream: nothing lost, order kept per partition',
    requires: ['acks-all', 'consumer-groups', 'manual-commit', 'auto-offset-reset', 'consumer-crash'],
    timeoutMs: 120_000,
    async run(ctx) {
      const topic = ctx.name('stress');
      await ctx.adapter.createTopic(topic, { partitions: 6 });
      const group = ctx.name('g');
      const opts = { groupId: group, autoOffsetReset: 'earliest' as const, sessionTimeoutMs: 6000 };
      let members: RecordingLogConsumer[] = [];
      let serial = 0;
      const join = async () => {
        const c = await ctx.adapter.consumer({ ...opts, clientId: `m${serial++}` });
        await c.subscribe([topic]);
        members.push(c);
      };
      for (let i = 0; i < 3; i++) await join();
      const rounds = 4;
      const perTask = Math.ceil(ctx.scale.messages / 2);
      const inlineProducer = ctx.workers ? null : await ctx.adapter.producer({ acks: 'all' });
      for (let round = 0; round < rounds; round++) {
        const batch = records(ctx, perTask * 2, (i) => `k${i % 23}`);
        const halves = [batch.slice(0, perTask), batch.slice(perTask)];
        const producing = ctx.workers
          ? Promise.all(halves.map((recs) => ctx.workers!.run({ kind: 'log-send', topic, records: recs, acks: 'all', batchSize: 10 })))
          : Promise.all(halves.map((recs) => sendAll(inlineProducer!, topic, recs, 10)));
        let done = false;
        void producing.finally(() => (done = true));
        // Consume while the producers run; halfway, one member crashes holding uncommitted records.
        let polls = 0;
        while (!done || polls < 3) {
          for (const c of members) {
            const rs = await c.poll({ maxRecords: 50, timeoutMs: 10 });
            if (rs.length > 0) await commitOwned(c, rs);
          }
          polls++;
          if (polls === 3) {
            const victim = members[ctx.rng.int(members.length)]!;
            await victim.crash();
            members = members.filter((m) => m !== victim);
            await join();
          }
        }
        await producing;
        if (ctx.has('virtual-time')) await ctx.adapter.advanceTime(7000);
        else await ctx.sleep(6500);
      }
      await pollUntilQuiet(ctx, members);
      await inlineProducer?.close();
      await Promise.all(members.map((c) => c.close()));
    },
  }),
];
