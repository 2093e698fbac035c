/**
 * Stress (reliability campaign): publishers with confirms on worker threads fill a queue while
 * competing consumers with manual ack and prefetch take from it; every round one consumer's
 * channel crashes holding unacked deliveries and a new consumer starts. The conformance checker
 * judges the history: nothing lost, every message that was delivered and not acked comes back
 * flagged as redelivered.
 */
import { defineCheck } from '../../../../conformance/suites/framework/check';
import { drainPush } from '../../../../conformance/suites/framework/drain';
import type { RecordingQueueChannel } from '../../../../conformance/suites/recording/recording-queue';

export const checks = [
  defineCheck({
    name: 'stress/publishers-on-workers-consumers-crash-and-rejoin',
    model: 'rabbitmq',
    description: 'worker-thread publishers and competing consumers that crash and rejoin: nothing lost, unacked deliveries redelivered',
    requires: ['publisher-confirms', 'prefetch', 'consumer-crash'],
    timeoutMs: 120_000,
    async run(ctx) {
      const queue = ctx.name('stress');
      const admin = await ctx.adapter.openChannel({ confirms: true });
      await admin.assertQueue(queue, { durable: false });
      let seen = 0;
      let consumers: RecordingQueueChannel[] = [];
      const start = async () => {
        const ch = await ctx.adapter.openChannel();
        await ch.prefetch(10);
        await ch.consume(queue, (d) => {
          seen++;
          // Ack most deliveries at once; leave some unacked for a while, so a crash holds some.
          if (ctx.rng.int(5) !== 0) void ch.ack(d.deliveryTag).catch(() => undefined);
          else setTimeout(() => void ch.ack(d.deliveryTag).catch(() => undefined), 30);
        });
        consumers.push(ch);
      };
      for (let i = 0; i < 3; i++) await start();
      const perTask = Math.ceil(ctx.scale.messages / 2);
      for (let round = 0; round < 4; round++) {
        const msgs = () => Array.from({ length: perTask }, () => ({ id: ctx.id(), body: 'x' }));
        const producing = ctx.workers
          ? Promise.all([0, 1].map(() => ctx.workers!.run({ kind: 'queue-publish', exchange: '', routingKey: queue, messages: msgs(), confirms: true })))
          : Promise.all([0, 1].map(async () => {
            for (const m of msgs()) await admin.publish('', queue, m);
          }));
        await ctx.sleep(20);
        const victim = consumers[ctx.rng.int(consumers.length)]!;
        await victim.crash();
        consumers = consumers.filter((c) => c !== victim);
        await start();
        await producing;
      }
      await drainPush(ctx, [queue], () => seen);
      await Promise.all(consumers.map((c) => c.close()));
      await admin.close();
    },
  }),
];
