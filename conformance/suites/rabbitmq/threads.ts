/**
 * Worker threads: producers on worker threads publish into the same broker the main thread
 * consumes from; nothing is lost or duplicated on the way.
 */
import type { QueueDelivery } from '../../adapters/queue-model';
import { defineCheck } from '../framework/check';
import { drainPush } from '../framework/drain';
import { waitFor } from './support';

export const checks = [
  defineCheck({
    name: 'threads/worker-producers',
    model: 'rabbitmq',
    description: 'Messages published from worker threads (with confirms) all reach a consumer on the main thread, once each.',
    requires: ['worker-threads', 'publisher-confirms'],
    async run(ctx) {
      if (!ctx.workers) {
        // Not a pass: the statement was not tested.
        ctx.expect(false, 'this check needs worker threads; run with --threads 1 or more');
        return;
      }
      const ch = await ctx.adapter.openChannel();
      const q = ctx.name('from-workers');
      await ch.assertQueue(q);
      const got: QueueDelivery[] = [];
      await ch.consume(q, (d) => {
        got.push(d);
        void ch.ack(d.deliveryTag);
      });
      const per = 100;
      const tasks = [0, 1].map(() =>
        ctx.workers!.run({ kind: 'queue-publish', exchange: '', routingKey: q, confirms: true, messages: Array.from({ length: per }, () => ({ id: ctx.id() })) }),
      );
      const sent = (await Promise.all(tasks)).reduce((a, b) => a + b, 0);
      await waitFor(ctx, () => got.length >= sent, 10_000);
      await drainPush(ctx, [q], () => got.length);
      ctx.expect(sent === 2 * per && got.length === sent && new Set(got.map((d) => d.id)).size === sent, 'every worker message arrived once', { sent, got: got.length });
    },
  }),
];
