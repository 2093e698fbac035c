import t from 'tap';
import { fakeClock, memoryEngine, settle } from './helpers';
import { RabbitEngine } from '../../core/rabbitmq';

t.test('per-queue TTL expires messages into the DLX with reason expired', async (t) => {
  const clock = fakeClock();
  const engine = memoryEngine(clock.now);
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  await ch.assertExchange('dlx', 'direct', { durable: false });
  await ch.assertQueue('expired', { durable: false });
  await ch.bindQueue('expired', 'dlx', 'late');
  await ch.assertQueue('q', { durable: false, messageTtl: 1000, deadLetterExchange: 'dlx', deadLetterRoutingKey: 'late' });
  ch.sendToQueue('q', Buffer.from('a'));
  clock.advance(500);
  ch.sendToQueue('q', Buffer.from('b'));
  clock.advance(501);
  t.equal(engine.sweepExpired(), 1);
  t.equal((await ch.checkQueue('q')).messageCount, 1);
  const m = await ch.get('expired', { noAck: true });
  t.ok(m);
  if (!m) return;
  t.equal(m.content.toString(), 'a');
  t.equal(m.fields.routingKey, 'late');
  t.equal(m.fields.exchange, 'dlx');
  const d = (m.properties.headers!['x-death'] as Array<Record<string, unknown>>)[0]!;
  t.same({ reason: d['reason'], queue: d['queue'], exchange: d['exchange'], keys: d['routing-keys'], count: d['count'] }, { reason: 'expired', queue: 'q', exchange: '', keys: ['q'], count: 1 });
  t.equal(d['time'], Math.floor((clock.now() - 0) / 1000));
});

t.test('per-message expiration; get skips expired heads', async (t) => {
  const clock = fakeClock();
  const engine = memoryEngine(clock.now);
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  await ch.assertQueue('q', { durable: false });
  ch.sendToQueue('q', Buffer.from('short'), { expiration: '100' });
  ch.sendToQueue('q', Buffer.from('long'), { expiration: 10_000 });
  ch.sendToQueue('q', Buffer.from('forever'));
  clock.advance(101);
  const m = await ch.get('q', { noAck: true });
  t.equal(m && m.content.toString(), 'long');
  t.equal(m && m.properties.expiration, '10000');
  t.throws(() => ch.sendToQueue('q', Buffer.from('x'), { expiration: '-5' }), { code: 'PRECONDITION_FAILED' });
});

t.test('reject without requeue dead-letters with reason rejected; x-death counts repeat deaths', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  // q → (reject) → retry (TTL 0 wait) → back to q: a classic retry loop through a DLX.
  await ch.assertExchange('retry-x', 'fanout', { durable: false });
  await ch.assertExchange('main-x', 'fanout', { durable: false });
  await ch.assertQueue('q', { durable: false, deadLetterExchange: 'retry-x' });
  await ch.assertQueue('retry', { durable: false, deadLetterExchange: 'main-x', messageTtl: 0 });
  await ch.bindQueue('q', 'main-x', '');
  await ch.bindQueue('retry', 'retry-x', '');
  ch.sendToQueue('q', Buffer.from('m'), { headers: { trace: 'x' } });
  for (let round = 1; round <= 3; round++) {
    const m = await ch.get('q');
    t.ok(m, `round ${round}: back in q`);
    if (!m) return;
    if (round > 1) {
      const deaths = m.properties.headers!['x-death'] as Array<Record<string, unknown>>;
      const rejected = deaths.find((d) => d['reason'] === 'rejected')!;
      t.equal(rejected['count'], round - 1);
      t.equal(m.properties.headers!['trace'], 'x', 'user headers kept');
    }
    ch.reject(m, false);
    await new Promise((r) => setTimeout(r, 3));
    engine.sweepExpired();
  }
});

t.test('x-max-length drop-head dead-letters with maxlen; reject-publish nacks', async (t) => {
  const engine = RabbitEngine.open();
  t.teardown(() => engine.close());
  const ch = await engine.createConfirmChannel();
  await ch.assertQueue('dead', { durable: false });
  await ch.assertQueue('small', { durable: false, maxLength: 2, deadLetterExchange: '', deadLetterRoutingKey: 'dead' });
  for (const b of ['1', '2', '3']) ch.sendToQueue('small', Buffer.from(b));
  await ch.waitForConfirms();
  t.equal((await ch.checkQueue('small')).messageCount, 2);
  const d = await ch.get('dead', { noAck: true });
  t.equal(d && d.content.toString(), '1');
  t.equal(d && (d.properties.headers!['x-death'] as Array<Record<string, unknown>>)[0]!['reason'], 'maxlen');

  await ch.assertQueue('strict', { durable: false, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
  const results: Array<string> = [];
  ch.sendToQueue('strict', Buffer.from('a'), {}, (err) => results.push(err ? 'nack' : 'ack'));
  ch.sendToQueue('strict', Buffer.from('b'), {}, (err) => results.push(err ? 'nack' : 'ack'));
  await t.rejects(ch.waitForConfirms(), { code: 'PRECONDITION_FAILED' });
  t.same(results, ['ack', 'nack']);
  await settle();
});

t.test('real-time expiry timer fires without an explicit sweep', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  await ch.assertQueue('dead', { durable: false });
  await ch.assertQueue('q', { durable: false, messageTtl: 5, deadLetterExchange: '', deadLetterRoutingKey: 'dead' });
  ch.sendToQueue('q', Buffer.from('x'));
  await new Promise((r) => setTimeout(r, 40));
  t.equal((await ch.checkQueue('dead')).messageCount, 1);
});
