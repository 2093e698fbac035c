import t from 'tap';
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { createAdapter } from '../../conformance/adapters/builtin/rabbitmq';
import { assertAdapter } from '../../conformance/adapters/guard';
import type { QueueDelivery } from '../../conformance/adapters/queue-model';
import { workerEntry } from '../../core/threads';

t.test('built-in adapter: publish / consume / ack, returns, confirms, restart', async (t) => {
  const a = await createAdapter({});
  t.teardown(() => a.close());
  t.doesNotThrow(() => assertAdapter('rabbitmq', a, 'builtin'), 'passes the runtime guard');
  const ch = await a.openChannel({ confirms: true });
  await ch.assertExchange('x', 'direct', { durable: true });
  await ch.assertQueue('q', { durable: true });
  await ch.bindQueue('q', 'x', 'k');
  const r1 = await ch.publish('x', 'k', { id: 'm1', body: 'hello', persistent: true });
  t.same(r1, { id: 'm1', confirmed: true, returned: false });
  const r2 = await ch.publish('x', 'none', { id: 'm2' }, { mandatory: true });
  t.same(r2, { id: 'm2', confirmed: true, returned: true });
  await t.rejects(ch.publish('missing', 'k', { id: 'm3' }), { code: 'NOT_FOUND' });
  const plain = await a.openChannel();
  const r4 = await plain.publish('x', 'none', { id: 'm4' }, { mandatory: true });
  t.same(r4, { id: 'm4', confirmed: null, returned: true });

  const skip = a.info.capabilities.includes('broker-restart') ? false : `restart not checked: ${a.info.name}`;
  await t.test('the persistent message survives restartBroker', { skip }, async (t) => {
    await a.restartBroker!();
    const ch2 = await a.openChannel();
    const got: QueueDelivery[] = [];
    await ch2.consume('q', (d) => got.push(d));
    await new Promise((r) => setTimeout(r, 20));
    t.equal(got.length, 1);
    t.equal(got[0]!.id, 'm1');
    t.equal(Buffer.from(got[0]!.body as Uint8Array).toString(), 'hello');
    await ch2.ack(got[0]!.deliveryTag);
    await t.rejects(ch2.ack(got[0]!.deliveryTag), { code: 'PRECONDITION_FAILED' });
  });
});

t.test('built-in adapter: crash requeues, advanceTime expires', async (t) => {
  const a = await createAdapter({});
  t.teardown(() => a.close());
  const admin = await a.openChannel();
  await admin.assertQueue('dead');
  await admin.assertQueue('q', { messageTtlMs: 1000, deadLetterExchange: '', deadLetterRoutingKey: 'dead' });
  await admin.publish('', 'q', { id: 'a' });
  const c1 = await a.openChannel();
  const d = await c1.get('q');
  t.equal(d?.id, 'a');
  await c1.crash();
  const again = await admin.get('q');
  t.equal(again?.redelivered, true);
  await admin.reject(again!.deliveryTag, true);
  await a.advanceTime!(1001);
  const dead = await admin.get('dead');
  t.equal(dead?.id, 'a');
  t.equal(dead?.death?.[0]?.reason, 'expired');
});

t.test('a worker thread publishes and consumes against the main thread engine', async (t) => {
  const a = await createAdapter({});
  t.teardown(() => a.close());
  const ch = await a.openChannel();
  await ch.assertQueue('from-worker');
  await ch.assertQueue('to-worker');
  for (let i = 0; i < 50; i++) await ch.publish('', 'to-worker', { id: `in-${i}` });
  const spec = await a.workerSpec!();
  const fixture = path.join(__dirname, '..', 'fixtures', 'rabbitmq-worker.ts');
  const { filename, argv } = workerEntry(fixture);
  const worker = new Worker(filename, { argv, workerData: { spec: { modulePath: spec.modulePath, options: spec.options, data: spec.data } }, transferList: spec.transferList as never });
  const result = await new Promise<{ consumed: string[]; error?: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  t.equal(result.error, undefined);
  t.same(result.consumed, Array.from({ length: 50 }, (_, i) => `in-${i}`), 'worker consumed in FIFO order');
  const got: string[] = [];
  for (;;) {
    const d = await ch.get('from-worker', { noAck: true });
    if (!d) break;
    got.push(d.id);
  }
  t.same(got, Array.from({ length: 100 }, (_, i) => `w-${i}`), 'worker publishes arrived in order');
  t.equal((await ch.checkQueue('to-worker')).messageCount, 0, 'worker acks reached the engine');
});
