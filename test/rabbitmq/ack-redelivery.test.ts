import t from 'tap';
import type { ConsumeMessage } from '../../core/rabbitmq';
import { memoryEngine, must, settle } from './helpers';

t.test('auto-ack removes on delivery; manual ack keeps until acked', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  await ch.assertQueue('q', { durable: false });
  ch.sendToQueue('q', Buffer.from('a'));
  ch.sendToQueue('q', Buffer.from('b'));
  const auto = await ch.get('q', { noAck: true });
  t.ok(auto);
  t.equal(ch.unackedCount, 0);
  const manual = await ch.get('q');
  t.ok(manual);
  if (!manual) return;
  t.equal(manual.fields.messageCount, 0);
  t.equal(ch.unackedCount, 1);
  ch.ack(manual);
  t.equal(ch.unackedCount, 0);
  t.throws(() => ch.ack(manual), { code: 'PRECONDITION_FAILED', details: { replyCode: 406 } }, 'double ack is an unknown tag');
  t.throws(() => ch.ack(999), { code: 'PRECONDITION_FAILED' });
  t.equal((await ch.checkQueue('q')).messageCount, 0);
});

t.test('nack with requeue redelivers at the original position with redelivered=true', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  await ch.assertQueue('q', { durable: false });
  for (const b of ['1', '2', '3', '4']) ch.sendToQueue('q', Buffer.from(b));
  const m1 = must(await ch.get('q'));
  const m2 = must(await ch.get('q'));
  ch.nack(m2, false, true);
  ch.nack(m1, false, true);
  const order: string[] = [];
  for (;;) {
    const m = await ch.get('q', { noAck: true });
    if (!m) break;
    order.push(`${m.content.toString()}${m.fields.redelivered ? '*' : ''}`);
  }
  t.same(order, ['1*', '2*', '3', '4']);
});

t.test('ack / nack multiple settle every tag up to the given one', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  await ch.assertQueue('q', { durable: false });
  for (let i = 0; i < 6; i++) ch.sendToQueue('q', Buffer.from(String(i)));
  const got = [];
  for (let i = 0; i < 6; i++) got.push(must(await ch.get('q')));
  ch.ack(got[2]!, true);
  t.equal(ch.unackedCount, 3);
  ch.nack(got[4]!, true, true);
  t.equal(ch.unackedCount, 1);
  t.equal((await ch.checkQueue('q')).messageCount, 2);
  ch.nackAll(false);
  t.equal(ch.unackedCount, 0);
  t.equal((await ch.checkQueue('q')).messageCount, 2, 'nack without requeue drops (no DLX)');
});

t.test('closing a channel requeues its unacked deliveries to other consumers', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const a = await engine.createChannel();
  const b = await engine.createChannel();
  await a.assertQueue('q', { durable: false });
  const gotA: ConsumeMessage[] = [];
  await a.consume('q', (m) => gotA.push(m!));
  for (let i = 0; i < 3; i++) a.sendToQueue('q', Buffer.from(String(i)));
  await settle();
  t.equal(gotA.length, 3);
  const gotB: ConsumeMessage[] = [];
  await b.consume('q', (m) => {
    gotB.push(m!);
    b.ack(m!);
  });
  await a.close();
  await settle();
  t.same(
    gotB.map((m) => [m.content.toString(), m.fields.redelivered]),
    [
      ['0', true],
      ['1', true],
      ['2', true],
    ],
  );
  t.throws(() => a.ack(gotA[0]!), { code: 'CHANNEL_ERROR' });
});

t.test('prefetch bounds unacked deliveries per consumer; competing consumers each get distinct messages', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch1 = await engine.createChannel();
  const ch2 = await engine.createChannel();
  await ch1.assertQueue('work', { durable: false });
  await ch1.prefetch(2);
  await ch2.prefetch(3);
  const seen1: ConsumeMessage[] = [];
  const seen2: ConsumeMessage[] = [];
  await ch1.consume('work', (m) => seen1.push(m!));
  await ch2.consume('work', (m) => seen2.push(m!));
  for (let i = 0; i < 20; i++) ch1.sendToQueue('work', Buffer.from(String(i)));
  await settle();
  t.equal(seen1.length, 2, 'consumer 1 stops at its prefetch');
  t.equal(seen2.length, 3, 'consumer 2 stops at its prefetch');
  t.same(
    [...seen1, ...seen2].map((m) => Number(m.content.toString())).sort((x, y) => x - y),
    [0, 1, 2, 3, 4],
    'FIFO first deliveries, round-robin between consumers',
  );
  // Drain: ack as we go; every message to exactly one consumer.
  const all = new Set<string>();
  const pump = async () => {
    while (seen1.length + seen2.length > 0) {
      for (const [list, ch] of [
        [seen1, ch1],
        [seen2, ch2],
      ] as const) {
        const m = list.shift();
        if (!m) continue;
        t.notOk(all.has(m.content.toString()), `message ${m.content.toString()} delivered once`);
        all.add(m.content.toString());
        ch.ack(m);
      }
      await settle();
    }
  };
  await pump();
  t.equal(all.size, 20);
});

t.test('global prefetch is shared by the channel', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  await ch.assertQueue('a', { durable: false });
  await ch.assertQueue('b', { durable: false });
  await ch.prefetch(3, true);
  let n = 0;
  await ch.consume('a', () => n++);
  await ch.consume('b', () => n++);
  for (let i = 0; i < 5; i++) {
    ch.sendToQueue('a', Buffer.from('x'));
    ch.sendToQueue('b', Buffer.from('y'));
  }
  await settle();
  t.equal(n, 3);
  ch.ackAll();
  await settle();
  t.equal(n, 6);
});

t.test('cancel keeps unacked deliveries ackable; recover requeues them', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  await ch.assertQueue('q', { durable: false });
  const got: ConsumeMessage[] = [];
  const { consumerTag } = await ch.consume('q', (m) => got.push(m!));
  ch.sendToQueue('q', Buffer.from('1'));
  ch.sendToQueue('q', Buffer.from('2'));
  await settle();
  await ch.cancel(consumerTag);
  ch.ack(got[0]!);
  await ch.recover();
  const again = await ch.get('q', { noAck: true });
  t.ok(again && again.fields.redelivered);
  t.equal(again && again.content.toString(), '2');
});

t.test('delivery limit: returned more than the limit → dead-lettered with reason delivery_limit', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  await ch.assertExchange('dlx', 'fanout', { durable: false });
  await ch.assertQueue('dead', { durable: false });
  await ch.bindQueue('dead', 'dlx', '');
  await ch.assertQueue('jobs', { durable: false, deadLetterExchange: 'dlx', deliveryLimit: 2 });
  ch.sendToQueue('jobs', Buffer.from('job'));
  const counts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const m = await ch.get('jobs');
    if (!m) break;
    counts.push(Number(m.properties.headers?.['x-delivery-count'] ?? 0));
    ch.nack(m, false, true);
  }
  t.same(counts, [0, 1, 2], 'limit 2 → 3 deliveries, x-delivery-count 0,1,2');
  const dead = await ch.get('dead', { noAck: true });
  t.ok(dead);
  if (!dead) return;
  const death = (dead.properties.headers!['x-death'] as Array<Record<string, unknown>>)[0]!;
  t.equal(death['reason'], 'delivery_limit');
  t.equal(death['queue'], 'jobs');
  t.equal(death['count'], 1);
  t.same(death['routing-keys'], ['jobs']);
  t.equal(dead.properties.headers!['x-first-death-reason'], 'delivery_limit');
});

t.test('delivery limit without a DLX drops the message (retry then give up)', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  await ch.assertQueue('jobs', { durable: false, deliveryLimit: 1 });
  ch.sendToQueue('jobs', Buffer.from('job'));
  let deliveries = 0;
  await ch.consume('jobs', (m) => {
    deliveries++;
    ch.nack(m!, false, true);
  });
  for (let i = 0; i < 5; i++) await settle();
  t.equal(deliveries, 2);
  t.equal((await ch.checkQueue('jobs')).messageCount, 0);
});
