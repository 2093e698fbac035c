import t from 'tap';
import { join } from 'node:path';
import { RabbitEngine } from '../../core/rabbitmq';
import type { ConsumeMessage } from '../../core/rabbitmq';
import { must, settle, storageUnavailable, tempDir } from './helpers';


const skip = storageUnavailable();

t.test('durable definitions and unacked persistent messages survive a restart', { skip }, async (t) => {
  const dir = tempDir(t);
  let engine = RabbitEngine.open(dir);
  let ch = await engine.createConfirmChannel();
  await ch.assertExchange('orders', 'topic');
  await ch.assertQueue('eu', { deadLetterExchange: 'dead', deliveryLimit: 5 });
  await ch.assertQueue('transient-q', { durable: false });
  await ch.bindQueue('eu', 'orders', 'eu.#');
  await ch.bindQueue('transient-q', 'orders', '#');
  for (let i = 0; i < 10; i++) ch.publish('orders', `eu.${i}`, Buffer.from(`p${i}`), { persistent: true, headers: { i } });
  ch.publish('orders', 'eu.t', Buffer.from('transient'));
  await ch.waitForConfirms();
  // Ack 0-2, hold 3-4 unacked, leave the rest ready.
  const held: ConsumeMessage[] = [];
  await ch.prefetch(5);
  await ch.consume('eu', (m) => held.push(m!));
  await settle();
  t.equal(held.length, 5);
  for (const m of held.slice(0, 3)) ch.ack(m);
  await settle();
  t.equal(held.length, 8, 'three acks made room for p5..p7 (delivered, unacked at the crash)');
  engine.crash();

  engine = RabbitEngine.open(dir);
  t.teardown(() => engine.close());
  ch = await engine.createConfirmChannel();
  t.ok(engine.exchanges.get('orders'), 'durable exchange recovered');
  await t.rejects(ch.checkQueue('transient-q'), { code: 'NOT_FOUND' }, 'transient queue gone');
  const info = await ch.checkQueue('eu');
  t.equal(info.messageCount, 7, 'unacked (5) + ready persistent (2); the transient message is gone');
  const got: Array<[string, boolean]> = [];
  for (;;) {
    const m = await ch.get('eu', { noAck: true });
    if (!m) break;
    got.push([m.content.toString(), m.fields.redelivered]);
    t.equal(m.properties.headers?.['i'], Number(m.content.toString().slice(1)), 'headers kept');
  }
  t.same(got, [
    ['p3', true],
    ['p4', true],
    ['p5', true],
    ['p6', true],
    ['p7', true],
    ['p8', false],
    ['p9', false],
  ]);
  // Binding recovered: routing still works.
  ch.publish('orders', 'eu.x', Buffer.from('again'), { persistent: true });
  await ch.waitForConfirms();
  t.equal((await ch.checkQueue('eu')).messageCount, 1);
  // Redeclaring with the same arguments is fine; with others it is not.
  await ch.assertQueue('eu', { deadLetterExchange: 'dead', deliveryLimit: 5 });
  await t.rejects(ch.assertQueue('eu'), { code: 'PRECONDITION_FAILED' });
});

t.test('a clean close requeues unacked deliveries and keeps delivery counts', { skip }, async (t) => {
  const dir = tempDir(t);
  let engine = RabbitEngine.open(dir);
  let ch = await engine.createChannel();
  await ch.assertQueue('jobs', { deliveryLimit: 3 });
  ch.sendToQueue('jobs', Buffer.from('j'), { persistent: true });
  await settle();
  const m = must(await ch.get('jobs'));
  ch.nack(m, false, true);
  must(await ch.get('jobs'));
  await engine.close();

  engine = RabbitEngine.open(dir);
  t.teardown(() => engine.close());
  ch = await engine.createChannel();
  const again = must(await ch.get('jobs'));
  t.equal(again.fields.redelivered, true);
  t.equal(again.properties.headers?.['x-delivery-count'], 2, 'one nack + one close-return');
  ch.ack(again);
  await engine.close();
  engine = RabbitEngine.open(dir);
  ch = await engine.createChannel();
  t.equal((await ch.checkQueue('jobs')).messageCount, 0, 'acked message stays acked after restart');
});

t.test('deleting a durable queue removes it for good; sync durability confirms after fsync', { skip }, async (t) => {
  const dir = tempDir(t);
  let engine = RabbitEngine.open(dir, { durability: 'sync' });
  let ch = await engine.createConfirmChannel();
  await ch.assertQueue('gone');
  await ch.assertQueue('kept');
  ch.sendToQueue('kept', Buffer.from('k'), { persistent: true });
  await ch.waitForConfirms();
  await ch.deleteQueue('gone');
  engine.crash();
  engine = RabbitEngine.open(dir, { durability: 'sync' });
  t.teardown(() => engine.close());
  ch = await engine.createConfirmChannel();
  await t.rejects(ch.checkQueue('gone'), { code: 'NOT_FOUND' });
  t.equal((await ch.checkQueue('kept')).messageCount, 1);
});

t.test('one engine per data directory', { skip }, async (t) => {
  const dir = tempDir(t);
  const engine = RabbitEngine.open(dir);
  t.throws(() => RabbitEngine.open(dir), { code: 'ERR_LOCKED' });
  await engine.close();
  const again = RabbitEngine.open(dir);
  await again.close();
});

function bytesUnder(dir: string): number {
  const { readdirSync, statSync } = require('node:fs') as typeof import('node:fs');
  let n = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    n += st.isDirectory() ? bytesUnder(p) : st.size;
  }
  return n;
}

t.test('a fully acked log is compacted', { skip }, async (t) => {
  const dir = tempDir(t);
  const engine = RabbitEngine.open(dir, { segmentBytes: 64 * 1024 });
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  await ch.assertQueue('busy');
  await ch.consume('busy', (m) => ch.ack(m!));
  const payload = Buffer.alloc(1000);
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 50; i++) ch.sendToQueue('busy', payload, { persistent: true });
    await settle();
    await settle();
  }
  const bytes = bytesUnder(join(dir, 'queues', 'busy'));
  t.ok(bytes < 20 * 50 * 1000, `queue files hold less than everything ever written (${bytes} bytes)`);
});

t.test('a message stuck unacked does not stop compaction; restart recovers exactly the live ones', { skip }, async (t) => {
  const dir = tempDir(t);
  let engine = RabbitEngine.open(dir, { segmentBytes: 64 * 1024 });
  let ch = await engine.createChannel();
  await ch.assertQueue('work');
  ch.sendToQueue('work', Buffer.from('stuck'), { persistent: true, headers: { n: 0 } });
  await settle();
  const stuck = must(await ch.get('work'));
  const worker = await engine.createChannel();
  let acked = 0;
  // A consumer that acks everything except every 100th message (kept unacked, then requeued at close).
  const held: number[] = [];
  await worker.consume('work', (m) => {
    const n = m!.properties.headers!['n'] as number;
    if (n % 100 === 0) held.push(n);
    else {
      worker.ack(m!);
      acked++;
    }
  });
  const payload = Buffer.alloc(900);
  let n = 1;
  for (let round = 0; round < 30; round++) {
    for (let i = 0; i < 50; i++, n++) ch.sendToQueue('work', payload, { persistent: true, headers: { n } });
    await settle();
    await settle();
  }
  const bytes = bytesUnder(join(dir, 'queues', 'work'));
  t.ok(bytes < ((n - 1) * 900) / 2, `compacted despite live messages (${bytes} bytes on disk for ${n - 1} published)`);
  t.ok(held.length > 0 && stuck.content.toString() === 'stuck');
  engine.crash();

  engine = RabbitEngine.open(dir, { segmentBytes: 64 * 1024 });
  t.teardown(() => engine.close());
  ch = await engine.createChannel();
  const back: number[] = [];
  for (;;) {
    const m = await ch.get('work', { noAck: true });
    if (!m) break;
    back.push(m.properties.headers!['n'] as number);
    t.equal(m.fields.redelivered, true, `message ${String(m.properties.headers!['n'])} had been delivered`);
  }
  t.same(back, [0, ...held], 'the stuck message and the held ones, in queue order, nothing acked');
  t.equal(acked + back.length, n, 'every message accounted for');
});
