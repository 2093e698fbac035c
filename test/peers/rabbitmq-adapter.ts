/**
 * The RabbitMQ adapter against the real broker: what each operation does on the wire (confirms,
 * mandatory returns, redelivery after a crash, quorum delivery limit, dead-lettering).
 */
import type { Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { createAdapter } from '../../conformance/adapters/real/rabbitmq';
import type { QueueDelivery } from '../../conformance/adapters/queue-model';
import { isMqlabError } from '../../core/errors';
import { peerSkipReason, PEERS } from './reachable';

const ns = `t-${randomUUID().slice(0, 8)}`;

/** Registers the adapter tests on `t` (run before the suites, in the same file: the suites restart the broker). */
export function rabbitmqAdapterTests(t: Test): void {
  t.test('unreachable broker: a clear error naming broker and address', async (t) => {
    const err = await createAdapter({ url: 'amqp://127.0.0.1:1', params: { connectTimeoutMs: '2000' } }).then(() => null, (e: unknown) => e);
    t.ok(isMqlabError(err, 'ERR_BROKER_UNREACHABLE'), 'ERR_BROKER_UNREACHABLE');
    t.match((err as Error).message, /RabbitMQ at amqp:\/\/127\.0\.0\.1:1 is not reachable/);
  });

  t.test('rabbitmq adapter on the real broker', async (t) => {
    const skip = await peerSkipReason('rabbitmq');
    if (skip) { t.plan(0, skip); return; }
    const adapter = await createAdapter({ url: PEERS.rabbitmq.url });
    t.teardown(() => adapter.close());
    t.equal(adapter.info.model, 'rabbitmq');

    await t.test('confirms, mandatory return, pull', async (t) => {
      const ch = await adapter.openChannel({ confirms: true });
      const q = `${ns}.q1`;
      await ch.assertQueue(q, { autoDelete: false });
      const ok = await ch.publish('', q, { id: 'm1', body: 'hello' });
      t.same(ok, { id: 'm1', confirmed: true, returned: false });
      const lost = await ch.publish('', `${ns}.nowhere`, { id: 'm2', body: 'x' }, { mandatory: true });
      t.same(lost, { id: 'm2', confirmed: true, returned: true });
      const d = await ch.get(q);
      t.equal(d?.id, 'm1');
      t.equal(Buffer.from(d!.body as Uint8Array).toString(), 'hello');
      await ch.ack(d!.deliveryTag);
      t.equal(await ch.get(q), null);
      const plain = await adapter.openChannel();
      const lost2 = await plain.publish('', `${ns}.nowhere`, { id: 'm3' }, { mandatory: true });
      t.same(lost2, { id: 'm3', confirmed: null, returned: true }, 'return seen without confirms too');
      await ch.deleteQueue(q);
      await ch.close();
      await plain.close();
    });

    await t.test('a failed declaration does not kill the channel', async (t) => {
      const ch = await adapter.openChannel();
      const q = `${ns}.q2`;
      await ch.assertQueue(q, { messageTtlMs: 60_000 });
      const err = await ch.assertQueue(q, { messageTtlMs: 1000 }).then(() => null, (e: unknown) => e);
      t.ok(isMqlabError(err, 'PRECONDITION_FAILED'), 'redeclare with other args: PRECONDITION_FAILED');
      const err2 = await ch.checkQueue(`${ns}.absent`).then(() => null, (e: unknown) => e);
      t.ok(isMqlabError(err2, 'NOT_FOUND'), 'checkQueue of a missing queue: NOT_FOUND');
      await ch.publish('', q, { id: 'after' });
      t.equal((await ch.get(q, { noAck: true }))?.id, 'after', 'channel still works');
      await ch.deleteQueue(q);
      await ch.close();
    });

    await t.test('crash requeues unacked deliveries with redelivered=true', async (t) => {
      const a = await adapter.openChannel({ confirms: true });
      const q = `${ns}.q3`;
      await a.assertQueue(q);
      for (const id of ['c1', 'c2']) await a.publish('', q, { id });
      const b = await adapter.openChannel();
      const got: QueueDelivery[] = [];
      await b.consume(q, (d) => got.push(d));
      while (got.length < 2) await new Promise((r) => setTimeout(r, 20));
      await b.crash();
      const again: QueueDelivery[] = [];
      for (let i = 0; i < 100 && again.length < 2; i++) {
        const d = await a.get(q);
        if (d) again.push(d); else await new Promise((r) => setTimeout(r, 50));
      }
      t.same(again.map((d) => [d.id, d.redelivered]), [['c1', true], ['c2', true]]);
      await a.deleteQueue(q);
      await a.close();
    });

    await t.test('quorum delivery limit dead-letters after limit + 1 deliveries', async (t) => {
      const ch = await adapter.openChannel({ confirms: true });
      const q = `${ns}.q4`, dlq = `${ns}.q4.dlq`;
      await ch.assertQueue(dlq);
      await ch.assertQueue(q, { deliveryLimit: 2, deadLetterExchange: '', deadLetterRoutingKey: dlq });
      await ch.publish('', q, { id: 'p1' });
      let deliveries = 0;
      for (let i = 0; i < 200; i++) {
        const d = await ch.get(q);
        if (!d) { if ((await ch.checkQueue(dlq)).messageCount > 0) break; await new Promise((r) => setTimeout(r, 20)); continue; }
        deliveries++;
        await ch.nack(d.deliveryTag, { requeue: true });
      }
      t.equal(deliveries, 3, 'deliveryLimit 2 -> 3 deliveries');
      const dead = await ch.get(dlq, { noAck: true });
      t.equal(dead?.id, 'p1');
      t.equal(dead?.death?.[0]?.reason, 'delivery_limit');
      await ch.deleteQueue(q);
      await ch.deleteQueue(dlq);
      await ch.close();
    });
  });
}
