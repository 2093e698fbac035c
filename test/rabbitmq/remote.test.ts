import t from 'tap';
import { MessageChannel } from 'node:worker_threads';
import { RabbitEngine } from '../../core/rabbitmq';
import { connectRemoteEngine, serveRemoteEngine, type PackedDelivery } from '../../core/rabbitmq/remote';
import { remotePair } from './helpers';

t.test('remote channel: declarations, ordered publishes, errors, confirms, returns', async (t) => {
  const { remote } = remotePair(t);
  const conn = await remote.connect();
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue('q', { durable: false });
  const acks: Array<string> = [];
  for (let i = 0; i < 10; i++) ch.sendToQueue('q', Buffer.from(String(i)), undefined, (err) => acks.push(err ? 'nack' : 'ack'));
  await ch.waitForConfirms();
  t.equal(acks.length, 10);
  t.ok(acks.every((a) => a === 'ack'));
  const returned: string[] = [];
  ch.on('return', (m: { content: Buffer }) => returned.push(m.content.toString()));
  ch.publish('amq.direct', 'nobody', Buffer.from('r'), { mandatory: true });
  await ch.sync();
  t.same(returned, ['r']);
  ch.publish('missing', 'k', Buffer.from('x'));
  await t.rejects(ch.sync(), { code: 'NOT_FOUND', details: { replyCode: 404 } });
  const got: string[] = [];
  for (;;) {
    const m = await ch.get('q', { noAck: true });
    if (!m) break;
    t.ok(Buffer.isBuffer(m.content), 'content is a Buffer again');
    got.push(m.content.toString());
  }
  t.same(got, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  await t.rejects(ch.assertQueue('q', { durable: true }), { code: 'PRECONDITION_FAILED' });
});

t.test('remote packed publish and consume with manual ack', async (t) => {
  const { remote } = remotePair(t);
  const conn = await remote.connect();
  const pub = await conn.createChannel();
  const sub = await conn.createChannel();
  await pub.assertQueue('p', { durable: false });
  await sub.prefetch(16);
  const batches: PackedDelivery[] = [];
  let total = 0;
  await sub.consumePacked('p', (d) => {
    batches.push(d);
    total += d.count;
    sub.ack(d.lastTag, true);
  });
  const size = 8;
  const data = new Uint8Array(100 * size);
  const view = new DataView(data.buffer);
  for (let i = 0; i < 100; i++) view.setFloat64(i * size, i, true);
  await new Promise<void>((resolve, reject) => pub.publishPacked('', 'p', data, 100, size, undefined, (err) => (err ? reject(err) : resolve())));
  const deadline = Date.now() + 5000;
  while (total < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  t.equal(total, 100);
  t.ok(batches.every((b) => b.count <= 16), 'prefetch bounds each batch');
  const values: number[] = [];
  for (const b of batches) {
    const v = new DataView(b.data.buffer, b.data.byteOffset, b.data.byteLength);
    for (let i = 0; i < b.count; i++) values.push(v.getFloat64(i * b.size, true));
  }
  t.same(values, Array.from({ length: 100 }, (_, i) => i), 'in order, intact');
  t.equal((await pub.checkQueue('p')).messageCount, 0);
});

t.test('when the client side of the port goes away, its unacked deliveries are requeued', async (t) => {
  const engine = RabbitEngine.open(null);
  t.teardown(() => engine.close());
  const { port1, port2 } = new MessageChannel();
  serveRemoteEngine(port1, { connect: () => engine.connect() });
  const remote = connectRemoteEngine(port2);
  const conn = await remote.connect();
  const ch = await conn.createChannel();
  await ch.assertQueue('w', { durable: false });
  ch.sendToQueue('w', Buffer.from('held'));
  await ch.sync();
  const got = await ch.get('w');
  t.ok(got, 'delivered to the remote side');
  port2.close();
  const local = await engine.createChannel();
  let back: Awaited<ReturnType<typeof local.get>> = false;
  const deadline = Date.now() + 5000;
  while (!back && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    back = await local.get('w', { noAck: true });
  }
  t.ok(back && back.fields.redelivered, 'requeued and flagged redelivered');
  t.equal(back && back.content.toString(), 'held');
});

t.test('a nacked publish: the remote confirm callback and waitForConfirms see what a local channel sees', async (t) => {
  const { engine, remote } = remotePair(t);
  const local = await engine.createConfirmChannel();
  await local.assertQueue('full', { durable: false, maxLength: 1, arguments: { 'x-overflow': 'reject-publish' } });
  local.sendToQueue('full', Buffer.from('keeps the queue full'));
  await local.waitForConfirms();
  // Wait while the confirm is outstanding: a nack already delivered does not fail a later wait locally.
  const nackedPublish = async (c: { sendToQueue: typeof local.sendToQueue; waitForConfirms(): Promise<void> }, body: string) => {
    let cbError: Error | null | undefined;
    c.sendToQueue('full', Buffer.from(body), undefined, (err) => (cbError = err));
    const waitError = await c.waitForConfirms().then(() => null, (e: unknown) => e as Error);
    return { cbError, waitError };
  };
  const { cbError: localCb, waitError: localWait } = await nackedPublish(local, 'l');
  const ch = await (await remote.connect()).createConfirmChannel();
  const { cbError: remoteCb, waitError: remoteWait } = await nackedPublish(ch, 'r');
  t.ok(localCb instanceof Error && localWait instanceof Error, 'the local channel nacks');
  t.same(describe(remoteCb), describe(localCb), "callback: amqplib's untyped 'message nacked', as locally");
  t.same(describe(remoteWait), describe(localWait), 'waitForConfirms: the same PRECONDITION_FAILED as locally');
  t.equal((remoteWait as { code?: string }).code, 'PRECONDITION_FAILED');
  const nackedAgain = new Promise<Error | null>((resolve) => ch.sendToQueue('full', Buffer.from('r1'), undefined, resolve));
  await t.resolves(ch.sync(), 'sync() does not reject for a nack: only for an operation that threw');
  t.ok((await nackedAgain) instanceof Error, 'the callback is what reports that nack');
  await ch.purgeQueue('full');
  ch.sendToQueue('full', Buffer.from('r2'));
  await t.resolves(ch.waitForConfirms(), 'the error was reported once; later confirms start clean');
});

function describe(e: unknown): object {
  const x = e as { name?: string; code?: string; message?: string; details?: unknown };
  return { name: x?.name, code: x?.code, message: x?.message, details: x?.details };
}
