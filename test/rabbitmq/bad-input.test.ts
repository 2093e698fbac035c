import t from 'tap';
import type { ConsumeMessage } from '../../core/rabbitmq';
import { memoryEngine, settle } from './helpers';

t.test('bad input gets typed AMQP errors and changes nothing', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  const other = await engine.createChannel();
  await ch.assertQueue('q', { durable: false, messageTtl: 1000 });
  const got: ConsumeMessage[] = [];
  await other.consume('q', (m) => got.push(m!));
  ch.sendToQueue('q', Buffer.from('before'));
  await settle();

  t.throws(() => ch.publish('missing', 'k', Buffer.from('x')), { code: 'NOT_FOUND', details: { replyCode: 404 } });
  await t.rejects(ch.bindQueue('missing-q', 'amq.direct', 'k'), { code: 'NOT_FOUND', details: { replyCode: 404 } });
  await t.rejects(ch.bindQueue('q', 'missing-x', 'k'), { code: 'NOT_FOUND' });
  await t.rejects(ch.assertQueue('q', { durable: false, messageTtl: 2000 }), { code: 'PRECONDITION_FAILED', details: { replyCode: 406, argument: 'x-message-ttl' } });
  await t.rejects(ch.assertQueue('q', { durable: true, messageTtl: 1000 }), { code: 'PRECONDITION_FAILED', details: { argument: 'durable' } });
  await ch.assertExchange('x', 'direct', { durable: false });
  await t.rejects(ch.assertExchange('x', 'fanout', { durable: false }), { code: 'PRECONDITION_FAILED', details: { argument: 'type' } });
  await t.rejects(ch.assertExchange('y', 'nonsense' as 'direct'), { code: 'COMMAND_INVALID', details: { replyCode: 503 } });
  await t.rejects(ch.assertExchange('amq.mine', 'direct'), { code: 'ACCESS_REFUSED', details: { replyCode: 403 } });
  await t.rejects(ch.assertQueue('amq.mine'), { code: 'ACCESS_REFUSED' });
  await t.rejects(ch.bindQueue('q', '', 'q'), { code: 'ACCESS_REFUSED' });
  await t.rejects(ch.assertQueue('bad-ttl', { arguments: { 'x-message-ttl': -1 } }), { code: 'PRECONDITION_FAILED' });
  await t.rejects(ch.bindQueue('q', 'amq.headers', '', { 'x-match': 'most' }), { code: 'PRECONDITION_FAILED' });
  t.throws(() => ch.publish('x', 'k'.repeat(256), Buffer.from('x')), { code: 'PRECONDITION_FAILED' });
  t.throws(() => ch.publish('x', 42 as unknown as string, Buffer.from('x')), { code: 'PRECONDITION_FAILED' });
  t.throws(() => ch.publish('x', 'k', 'text' as unknown as Buffer), { code: 'PRECONDITION_FAILED' });
  t.throws(() => ch.publish('x', 'k', Buffer.from('x'), { headers: { f: () => 1 } as never }), { code: 'PRECONDITION_FAILED' });
  t.throws(() => ch.publish('x', 'k', Buffer.from('x'), { headers: { m: new Map() } as never }), { code: 'PRECONDITION_FAILED' });
  t.throws(() => ch.publish('x', 'k', Buffer.from('x'), { priority: 300 }), { code: 'PRECONDITION_FAILED' });
  t.throws(() => ch.ack(12345), { code: 'PRECONDITION_FAILED', details: { replyCode: 406 } });
  t.throws(() => ch.ack(-1), { code: 'PRECONDITION_FAILED' });
  t.throws(() => ch.ack({} as never), { code: 'PRECONDITION_FAILED' });
  await t.rejects(ch.prefetch(-1), { code: 'PRECONDITION_FAILED' });
  await t.rejects(ch.consume('q', 'nope' as never), { code: 'PRECONDITION_FAILED' });

  // Exclusive queues and consumers.
  const conn2 = await engine.connect();
  const ch3 = await conn2.createChannel();
  await ch3.assertQueue('mine', { exclusive: true });
  await t.rejects(ch.consume('mine', () => undefined), { code: 'RESOURCE_LOCKED', details: { replyCode: 405 } });
  await ch3.consume('mine', () => undefined, { exclusive: true, consumerTag: 'only' });
  await t.rejects(ch3.consume('mine', () => undefined), { code: 'ACCESS_REFUSED' });
  await t.rejects(ch3.consume('mine', () => undefined, { consumerTag: 'only' }), { code: 'NOT_ALLOWED', details: { replyCode: 530 } });
  await conn2.close();
  await t.rejects(ch.checkQueue('mine'), { code: 'NOT_FOUND' }, 'exclusive queue deleted with its connection');

  // Nothing was lost and the other consumer kept working.
  ch.sendToQueue('q', Buffer.from('after'));
  await settle();
  t.same(
    got.map((m) => m.content.toString()),
    ['before', 'after'],
  );
  t.equal(other.unackedCount, 2);
});

t.test('delete with ifUnused / ifEmpty refuses; consumers of a deleted queue get null', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  await ch.assertQueue('q', { durable: false });
  const got: Array<ConsumeMessage | null> = [];
  await ch.consume('q', (m) => got.push(m));
  await t.rejects(ch.deleteQueue('q', { ifUnused: true }), { code: 'PRECONDITION_FAILED' });
  await ch.assertQueue('full', { durable: false });
  ch.sendToQueue('full', Buffer.from('x'));
  await t.rejects(ch.deleteQueue('full', { ifEmpty: true }), { code: 'PRECONDITION_FAILED' });
  t.same(await ch.deleteQueue('full'), { messageCount: 1 });
  await ch.deleteQueue('q');
  t.same(got, [null]);
  await t.rejects(ch.deleteExchange('amq.direct'), { code: 'ACCESS_REFUSED' });
});

t.test('server-named, auto-delete queues', async (t) => {
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch = await engine.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  t.match(queue, /^amq\.gen-/);
  const { consumerTag } = await ch.consume(queue, () => undefined);
  await ch.cancel(consumerTag);
  await settle();
  await t.rejects(ch.checkQueue(queue), { code: 'NOT_FOUND' });
});

t.test('random arguments to every channel method: only typed errors, and the engine keeps working', async (t) => {
  const fc = (await import('fast-check')).default;
  const { MqlabError } = await import('../../core/errors');
  const engine = memoryEngine();
  t.teardown(() => engine.close());
  const ch = await engine.createConfirmChannel();
  await ch.assertQueue('q', { durable: false });
  const watcher = await engine.createChannel();
  await watcher.assertQueue('watched', { durable: false });
  const seen: string[] = [];
  await watcher.consume('watched', (m) => m && seen.push(m.content.toString()), { noAck: true });
  const junk = fc.oneof(fc.anything(), fc.constant(undefined), fc.constant(null), fc.string(), fc.integer(), fc.constant('q'), fc.constant(Buffer.from('x')), fc.object());
  const methods = ['assertExchange', 'checkExchange', 'deleteExchange', 'assertQueue', 'checkQueue', 'deleteQueue', 'purgeQueue', 'bindQueue', 'unbindQueue', 'publish', 'sendToQueue', 'consume', 'cancel', 'get', 'ack', 'nack', 'reject', 'prefetch', 'recover'];
  const untyped: string[] = [];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...methods), fc.array(junk, { maxLength: 5 }), async (m, args) => {
      if (args[0] === 'watched') return; // leave the watched queue alone
      try {
        await (ch as unknown as Record<string, (...a: unknown[]) => unknown>)[m]!(...args);
      } catch (e) {
        if (!(e instanceof MqlabError)) untyped.push(`${m}: ${(e as Error)?.message}`);
      }
    }),
    { numRuns: 2000 },
  );
  await settle();
  t.same(untyped, [], 'every failure was an MqlabError');
  watcher.sendToQueue('watched', Buffer.from('still here'));
  await settle();
  t.same(seen, ['still here'], 'another consumer kept working');
});
