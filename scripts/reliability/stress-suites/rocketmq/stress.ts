/**
 * Stress (reliability campaign): producers on worker threads send to a 4-queue topic while a
 * CLUSTERING group consumes; every round one consumer crashes (its queues are reallocated once
 * the broker notices) and a new instance joins. The conformance checker judges the history
 * against the engine's guarantee: nothing lost, duplicates only where the guarantee allows them.
 */
import { defineCheck } from '../../../../conformance/suites/framework/check';
import { drainBroker } from '../../../../conformance/suites/framework/drain';
import type { RecordingBrokerConsumer } from '../../../../conformance/suites/recording/recording-broker';

export const checks = [
  defineCheck({
    name: 'stress/producers-on-workers-consumers-crash-and-rejoin',
    model: 'rocketmq',
    description: 'worker-thread producers and a CLUSTERING group whose consumers crash and rejoin: nothing lost',
    requires: ['clustering', 'consume-from', 'consumer-crash'],
    timeoutMs: 120_000,
    async run(ctx) {
      const topic = ctx.name('stress');
      await ctx.adapter.createTopic(topic, { queues: 4 });
      const group = ctx.name('g');
      let serial = 0;
      let consumers: RecordingBrokerConsumer[] = [];
      const join = async () => {
        const c = await ctx.adapter.consumer({ group, model: 'CLUSTERING', instanceName: `c${serial++}`, consumeFrom: { from: 'first' } });
        await c.subscribe(topic, '*');
        await c.start();
        consumers.push(c);
      };
      for (let i = 0; i < 3; i++) await join();
      const producer = ctx.workers ? null : await ctx.adapter.producer({ group: ctx.name('pg') });
      const perTask = Math.ceil(ctx.scale.messages / 2);
      for (let round = 0; round < 4; round++) {
        const msgs = () => Array.from({ length: perTask }, () => ({ id: ctx.id(), topic, body: 'x' }));
        const producing = ctx.workers
          ? Promise.all([0, 1].map(() => ctx.workers!.run({ kind: 'broker-send', group: ctx.name('pg'), messages: msgs() })))
          : Promise.all([0, 1].map(async () => {
            for (const m of msgs()) await producer!.send(m);
          }));
        let done = false;
        void producing.finally(() => (done = true));
        let steps = 0;
        while (!done || steps < 3) {
          for (const c of consumers) {
            const ms = await c.receive({ maxMessages: 32, timeoutMs: 10 });
            for (const m of ms) await c.settle(m, 'CONSUME_SUCCESS');
          }
          if (++steps === 3) {
            const victim = consumers[ctx.rng.int(consumers.length)]!;
            await victim.crash();
            consumers = consumers.filter((c) => c !== victim);
            await join();
          }
        }
        await producing;
        if (ctx.has('virtual-time')) await ctx.adapter.advanceTime(130_000);
      }
      await drainBroker(ctx, consumers, { advanceMs: 30_000 });
      await producer?.close();
      await Promise.all(consumers.map((c) => c.shutdown()));
    },
  }),
];
