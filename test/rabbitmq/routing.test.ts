import t from 'tap';
import { TopicPattern } from '../../core/rabbitmq/topic-pattern';
import { HeadersMatcher } from '../../core/rabbitmq/headers-match';
import { memoryEngine, settle } from './helpers';

t.test('topic patterns: * is one word, # is zero or more', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['a.*', 'a.b', true],
    ['a.*', 'a', false],
    ['a.*', 'a.b.c', false],
    ['a.#', 'a', true],
    ['a.#', 'a.b.c', true],
    ['#', '', true],
    ['#', 'x.y', true],
    ['*.b.#', 'x.b', true],
    ['*.b.#', 'b', false],
    ['#.c', 'a.b.c', true],
    ['#.c', 'c', true],
    ['#.c', 'a.c.d', false],
    ['a.#.#.d', 'a.d', true],
    ['a.#.c.#', 'a.x.c', true],
    ['lazy.#', 'lazy.orange.male.rabbit', true],
    ['*.orange.*', 'quick.orange.rabbit', true],
    ['*.orange.*', 'quick.orange.male.rabbit', false],
    ['a.b', 'a.b', true],
    ['a.b', 'a.c', false],
    ['*', '', true],
  ];
  for (const [pattern, key, want] of cases) t.equal(new TopicPattern(pattern).matches(key), want, `${pattern} vs "${key}"`);
});

t.test('headers matching: all / any, x- keys ignored, void = presence', async (t) => {
  const all = new HeadersMatcher({ 'x-match': 'all', a: 1, b: 'x' });
  t.equal(all.matches({ a: 1, b: 'x', c: 3 }), true);
  t.equal(all.matches({ a: 1 }), false);
  const any = new HeadersMatcher({ 'x-match': 'any', a: 1, b: 'x' });
  t.equal(any.matches({ b: 'x' }), true);
  t.equal(any.matches({ a: 2 }), false);
  t.equal(new HeadersMatcher({ 'x-match': 'all', 'x-k': 'v', a: 1 }).matches({ a: 1 }), true, 'x- binding keys filtered out');
  t.equal(new HeadersMatcher({ 'x-match': 'all-with-x', 'x-k': 'v' }).matches({ a: 1 }), false);
  t.equal(new HeadersMatcher({ a: null }).matches({ a: 'anything' }), true, 'void value matches presence');
  t.equal(new HeadersMatcher({ a: null }).matches({}), false);
  t.throws(() => new HeadersMatcher({ 'x-match': 'some' }), { code: 'PRECONDITION_FAILED' });
});

t.test('each exchange type routes to the right queues', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  for (const q of ['d1', 'd2', 'f1', 'f2', 't1', 't2', 'h1', 'h2']) await ch.assertQueue(q, { durable: false });
  await ch.assertExchange('dx', 'direct', { durable: false });
  await ch.assertExchange('fx', 'fanout', { durable: false });
  await ch.assertExchange('tx', 'topic', { durable: false });
  await ch.assertExchange('hx', 'headers', { durable: false });
  await ch.bindQueue('d1', 'dx', 'red');
  await ch.bindQueue('d2', 'dx', 'blue');
  await ch.bindQueue('d2', 'dx', 'red');
  await ch.bindQueue('f1', 'fx', 'ignored');
  await ch.bindQueue('f2', 'fx', '');
  await ch.bindQueue('t1', 'tx', '*.orange.*');
  await ch.bindQueue('t2', 'tx', 'lazy.#');
  await ch.bindQueue('t2', 'tx', '*.*.rabbit');
  await ch.bindQueue('h1', 'hx', '', { 'x-match': 'all', format: 'pdf', type: 'report' });
  await ch.bindQueue('h2', 'hx', '', { 'x-match': 'any', format: 'pdf', type: 'log' });

  ch.publish('dx', 'red', Buffer.from('r'));
  ch.publish('dx', 'blue', Buffer.from('b'));
  ch.publish('dx', 'green', Buffer.from('g'));
  ch.publish('fx', 'whatever', Buffer.from('f'));
  ch.publish('tx', 'quick.orange.rabbit', Buffer.from('qor'));
  ch.publish('tx', 'lazy.orange.elephant', Buffer.from('loe'));
  ch.publish('tx', 'lazy.pink.rabbit', Buffer.from('lpr'));
  ch.publish('tx', 'quick.brown.fox', Buffer.from('qbf'));
  ch.publish('hx', '', Buffer.from('h-all'), { headers: { format: 'pdf', type: 'report' } });
  ch.publish('hx', '', Buffer.from('h-any'), { headers: { format: 'zip', type: 'log' } });
  ch.publish('', 'd1', Buffer.from('default'));

  const drain = async (q: string) => {
    const out: string[] = [];
    for (;;) {
      const m = await ch.get(q, { noAck: true });
      if (!m) return out;
      out.push(m.content.toString());
    }
  };
  t.same(await drain('d1'), ['r', 'default']);
  t.same(await drain('d2'), ['r', 'b'], 'one copy per queue even with two matching bindings');
  t.same(await drain('f1'), ['f']);
  t.same(await drain('f2'), ['f']);
  t.same(await drain('t1'), ['qor', 'loe']);
  t.same(await drain('t2'), ['qor', 'loe', 'lpr'], 'lazy.pink.rabbit matches both bindings once');
  t.same(await drain('h1'), ['h-all']);
  t.same(await drain('h2'), ['h-all', 'h-any']);
});

t.test('unbind stops routing; deleting a queue removes its bindings', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  await ch.assertQueue('q', { durable: false });
  await ch.assertExchange('tx', 'topic', { durable: false });
  await ch.bindQueue('q', 'tx', 'a.*');
  ch.publish('tx', 'a.b', Buffer.from('1'));
  await ch.unbindQueue('q', 'tx', 'a.*');
  ch.publish('tx', 'a.b', Buffer.from('2'));
  t.equal((await ch.checkQueue('q')).messageCount, 1);
  await ch.deleteQueue('q');
  t.equal(engine.exchanges.get('tx')!.bindings.length, 0);
  await t.rejects(ch.checkQueue('q'), { code: 'NOT_FOUND', details: { replyCode: 404 } });
});

t.test('mandatory unroutable messages come back on the return event, others are dropped', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch = await engine.createConfirmChannel();
  await ch.assertExchange('dx', 'direct', { durable: false });
  const returned: string[] = [];
  const order: string[] = [];
  ch.on('return', (m) => {
    returned.push(`${m.fields.replyCode} ${m.fields.replyText} ${m.fields.routingKey} ${m.content.toString()}`);
    order.push('return');
  });
  ch.publish('dx', 'nobody', Buffer.from('m1'), { mandatory: true }, () => order.push('ack'));
  ch.publish('dx', 'nobody', Buffer.from('m2'));
  await ch.waitForConfirms();
  t.same(returned, ['312 NO_ROUTE nobody m1']);
  t.same(order, ['return', 'ack'], 'basic.return precedes basic.ack');
  await settle();
});

t.test('alternate exchange receives unroutable messages', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  await ch.assertExchange('ae', 'fanout', { durable: false });
  await ch.assertExchange('main', 'direct', { durable: false, alternateExchange: 'ae' });
  await ch.assertQueue('unrouted', { durable: false });
  await ch.bindQueue('unrouted', 'ae', '');
  ch.publish('main', 'x', Buffer.from('lost?'));
  const m = await ch.get('unrouted');
  t.ok(m);
  t.equal(m && m.content.toString(), 'lost?');
});
