/**
 * Bad input gets a typed error with the AMQP reply text — publishing to a missing exchange is
 * NOT_FOUND, redeclaring a queue with other arguments is PRECONDITION_FAILED — and nothing else
 * is disturbed: a consumer on another channel keeps receiving, the channel that hit the error
 * can publish again, and no message is lost.
 */
import type { QueueDelivery } from '../../adapters/queue-model';
import { defineCheck } from '../framework/check';
import { drainPush } from '../framework/drain';
import { waitFor } from './support';

function codeOf(e: unknown): string | undefined {
  return (e as { code?: unknown } | null)?.code as string | undefined;
}

export const checks = [
  defineCheck({
    name: 'errors/typed-and-contained',
    model: 'rabbitmq',
    description: 'NOT_FOUND for a publish to a missing exchange and PRECONDITION_FAILED for an inequivalent redeclaration, while another consumer keeps working and loses nothing.',
    requires: ['publisher-confirms', 'message-ttl'],
    async run(ctx) {
      const admin = await ctx.adapter.openChannel({ confirms: true });
      const q = ctx.name('steady');
      await admin.assertQueue(q, { messageTtlMs: 60_000 });
      const consumerCh = await ctx.adapter.openChannel();
      const got: QueueDelivery[] = [];
      await consumerCh.consume(q, (d) => {
        got.push(d);
        void consumerCh.ack(d.deliveryTag);
      });
      for (let i = 0; i < 5; i++) await admin.publish('', q, { id: ctx.id() });

      const bad = await ctx.adapter.openChannel({ confirms: true });
      let code: string | undefined;
      try {
        await bad.publish(ctx.name('no-such-exchange'), 'k', { id: ctx.id() });
      } catch (e) {
        code = codeOf(e);
      }
      ctx.expect(code === 'NOT_FOUND', 'publish to a missing exchange: NOT_FOUND', code);
      // The broker closed that channel (404); the harness channel goes on with a fresh one.
      await bad.publish('', q, { id: ctx.id() });
      code = undefined;
      try {
        await admin.assertQueue(q, { messageTtlMs: 1_000 });
      } catch (e) {
        code = codeOf(e);
      }
      ctx.expect(code === 'PRECONDITION_FAILED', 'inequivalent redeclaration: PRECONDITION_FAILED', code);

      for (let i = 0; i < 5; i++) await admin.publish('', q, { id: ctx.id() });
      await waitFor(ctx, () => got.length >= 11);
      await drainPush(ctx, [q], () => got.length);
      ctx.expect(got.length === 11, 'the consumer got all eleven, before and after the errors (one through the channel that hit NOT_FOUND)', { got: got.length });
    },
  }),
];
