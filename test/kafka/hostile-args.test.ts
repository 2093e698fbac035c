/**
 * Wrong-shaped arguments to the engine's public methods (non-arrays, missing arguments, null,
 * holes, detached typed arrays) are typed MqlabErrors naming the argument, never a TypeError, and
 * leave the consumer's state as it was.
 */
import t, { type Test } from 'tap';
import { describeValue, isMqlabError } from '../../core/errors';
import { MessageChannel } from 'node:worker_threads';
import { connectKafka, KafkaWorkerHost, serveKafka } from '../../core/kafka';
import { openEngine, str } from './helpers';

function detached(): Uint8Array {
  const b = new Uint8Array(16);
  structuredClone(b.buffer, { transfer: [b.buffer] });
  return b;
}

/** The code of the MqlabError `fn` throws or rejects with; fails the test on anything else. */
async function codeOf(t: Test, what: string, fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (e) {
    if (!isMqlabError(e)) {
      t.fail(`${what} threw an untyped ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`);
      return undefined;
    }
    return e.code;
  }
  t.fail(`${what} did not throw`);
  return undefined;
}

const NON_LISTS: Array<[string, unknown]> = [
  ['a missing argument', undefined],
  ['null', null],
  ['a number', 7],
  ['a string', 'x'],
  ['a single object', { topic: 't', partition: 0 }],
  ['a detached Uint8Array', detached()],
];

t.test('consumer methods that take a list reject a non-list with ERR_INVALID_ARG', async (t) => {
  const { engine } = openEngine(t);
  engine.createTopic('t', { numPartitions: 2 });
  const c = engine.consumer({ groupId: 'g', autoCommit: false });
  c.assign([{ topic: 't', partition: 0 }]);
  type Call = [string, (v: unknown) => unknown];
  const calls: Call[] = [
    ['assign', (v) => c.assign(v as never)],
    ['pause', (v) => c.pause(v as never)],
    ['resume', (v) => c.resume(v as never)],
    ['beginningOffsets', (v) => c.beginningOffsets(v as never)],
    ['endOffsets', (v) => c.endOffsets(v as never)],
    ['offsetsForTimes', (v) => c.offsetsForTimes(v as never)],
  ];
  for (const [name, call] of calls) {
    for (const [label, v] of NON_LISTS) t.equal(await codeOf(t, `${name}(${label})`, () => call(v)), 'ERR_INVALID_ARG', `${name}(${label})`);
  }
  // undefined means "all assigned" (seekToBeginning/End) or "positions reached" (commit); the rest are errors.
  for (const [label, v] of NON_LISTS.slice(1)) {
    t.equal(await codeOf(t, `seekToBeginning(${label})`, () => c.seekToBeginning(v as never)), 'ERR_INVALID_ARG', `seekToBeginning(${label})`);
    t.equal(await codeOf(t, `seekToEnd(${label})`, () => c.seekToEnd(v as never)), 'ERR_INVALID_ARG', `seekToEnd(${label})`);
    t.equal(await codeOf(t, `commit(${label})`, () => c.commit(v as never)), 'ERR_INVALID_ARG', `commit(${label})`);
  }
  t.same(c.assignment(), [{ topic: 't', partition: 0 }], 'failed calls left the assignment as it was');
  await c.close();
});

t.test('list elements that are not { topic, partition } objects, holes included', async (t) => {
  const { engine } = openEngine(t);
  engine.createTopic('t', { numPartitions: 2 });
  const c = engine.consumer({ groupId: 'g', autoCommit: false });
  c.assign([{ topic: 't', partition: 1 }]);
  for (const bad of [[null], [undefined], new Array(2), [7], ['t'], [detached()]]) {
    for (const [name, call] of [
      ['assign', () => c.assign(bad as never)],
      ['pause', () => c.pause(bad as never)],
      ['seekToEnd', () => c.seekToEnd(bad as never)],
      ['endOffsets', () => c.endOffsets(bad as never)],
      ['commit', () => c.commit(bad as never)],
      ['offsetsForTimes', () => c.offsetsForTimes(bad as never)],
    ] as Array<[string, () => unknown]>) {
      t.equal(await codeOf(t, `${name}(${JSON.stringify(bad)})`, call), 'ERR_INVALID_ARG', `${name} with element ${JSON.stringify(bad)}`);
    }
  }
  t.same(c.assignment(), [{ topic: 't', partition: 1 }], 'assignment unchanged by a rejected assign');
  await c.close();
});

t.test('single-partition methods, subscribe and options objects', async (t) => {
  const { engine } = openEngine(t);
  engine.createTopic('t', { numPartitions: 1 });
  const c = engine.consumer({ groupId: 'g', autoCommit: false });
  for (const v of [undefined, null, 5, detached()]) {
    t.equal(await codeOf(t, 'committed', () => c.committed(v as never)), 'ERR_INVALID_ARG', `committed(${describeValue(v)})`);
    t.equal(await codeOf(t, 'position', () => c.position(v as never)), 'ERR_INVALID_ARG', `position(${describeValue(v)})`);
    t.equal(await codeOf(t, 'seek', () => c.seek(v as never)), 'ERR_INVALID_ARG', `seek(${describeValue(v)})`);
  }
  t.equal(await codeOf(t, 'position of an unassigned partition', () => c.position({ topic: 't', partition: 0 })), 'ILLEGAL_STATE');
  for (const [label, v] of NON_LISTS.filter(([l]) => l !== 'a string')) {
    t.equal(await codeOf(t, `subscribe(${label})`, () => c.subscribe(v as never)), 'ERR_INVALID_ARG', `subscribe(${label})`);
  }
  t.equal(await codeOf(t, 'subscribe([detached])', () => c.subscribe([detached()] as never)), 'INVALID_TOPIC_EXCEPTION', 'a detached array as a topic name');
  t.equal(await codeOf(t, 'createTopic(detached)', () => engine.createTopic(detached() as never)), 'INVALID_TOPIC_EXCEPTION');
  t.equal(await codeOf(t, 'describeTopic(symbol)', () => engine.describeTopic(Symbol('s') as never)), 'INVALID_TOPIC_EXCEPTION');
  t.equal(await codeOf(t, 'createTopic(name, null)', () => engine.createTopic('u', null as never)), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'consumer(null)', () => engine.consumer(null as never)), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'producer(null)', () => engine.producer(null as never)), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'applyRetention("x")', () => engine.applyRetention('x' as never)), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'committedOffsets(5)', () => engine.committedOffsets(5 as never)), 'INVALID_GROUP_ID');
  t.equal(await codeOf(t, 'abandon(null)', () => c.abandon(null as never)), 'ERR_INVALID_ARG');
  t.notOk(engine.hasTopic('u'), 'no topic created by a rejected createTopic');
  await c.close();
});

t.test('producer: hostile messages are rejected whole, nothing written', async (t) => {
  const { engine } = openEngine(t);
  engine.createTopic('t', { numPartitions: 1 });
  const p = engine.producer();
  for (const [label, record] of [
    ['null record', null],
    ['messages not an array', { topic: 't', messages: 'x' }],
    ['a detached value', { topic: 't', messages: [{ value: 'ok' }, { value: detached() }] }],
    ['a detached key', { topic: 't', messages: [{ key: detached(), value: 'v' }] }],
    ['a symbol header', { topic: 't', messages: [{ value: 'v', headers: { h: Symbol('s') } }] }],
    ['a symbol acks', { topic: 't', acks: Symbol('a'), messages: [{ value: 'v' }] }],
  ] as Array<[string, unknown]>) {
    const code = await codeOf(t, label, () => p.send(record as never));
    t.ok(code !== undefined, `${label}: ${code}`);
  }
  await p.send({ topic: 't', messages: [{ value: 'after' }] });
  const c = engine.consumer({ autoOffsetReset: 'earliest' });
  c.assign([{ topic: 't', partition: 0 }]);
  const recs = await c.poll(0);
  t.same(recs.map((r) => [r.offset, str(r.value)]), [[0, 'after']], 'only the good send was written');
  await c.close();
});

t.test('worker host and worker-thread clients: wrong shapes are typed errors', async (t) => {
  const { engine } = openEngine(t);
  engine.createTopic('t', { numPartitions: 1 });
  const host = new KafkaWorkerHost(engine);
  t.equal(await codeOf(t, 'host.send(null)', () => host.send(null as never)), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'host.sendWithPartitions(5)', () => host.sendWithPartitions(5 as never)), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'host.sendFixed(keys: 5)', () => host.sendFixed('t', new Uint8Array(4), 2, 2, 5 as never)), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'host.openConsumer(null)', () => host.openConsumer(null as never)), 'ERR_INVALID_ARG');
  const id = host.openConsumer({ groupId: 'g', autoCommit: false });
  t.equal(await codeOf(t, 'host.assign(id, "t")', () => host.assign(id, 't' as never)), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'host.syncDirect(id, null)', () => host.syncDirect(id, null as never)), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'host.poll(unknown handle)', () => host.poll(999)), 'ERR_INVALID_ARG');
  await host.closeConsumer(id);

  // The client side of the bridge, on this thread (only the RPC path; attaching logs needs another thread).
  const { port1, port2 } = new MessageChannel();
  serveKafka(engine, port1);
  const kafka = connectKafka(port2);
  t.teardown(() => {
    kafka.close();
    port1.close();
  });
  t.equal(await codeOf(t, 'producer(null)', () => kafka.producer(null as never)), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'directProducer(null)', () => kafka.directProducer(null as never)), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'consumer(null)', () => kafka.consumer(null as never)), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'directConsumer(null)', () => kafka.directConsumer(null as never)), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'directConsumer(syncIntervalMs: "x")', () => kafka.directConsumer({ syncIntervalMs: 'x' as never })), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'remote send(null)', () => kafka.producer().send(null as never)), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'remote send(symbol topic)', () => kafka.producer().send({ topic: Symbol('s'), messages: [] } as never)), 'ERR_INVALID_ARG');
  const rc = await kafka.consumer({ groupId: 'g2', autoCommit: false });
  t.equal(await codeOf(t, 'remote assign({})', () => rc.assign({} as never)), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'remote committed(null)', () => rc.committed(null as never)), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'remote seek(7)', () => rc.seek(7 as never)), 'ERR_INVALID_ARG');
  await rc.close();
  const dp = kafka.directProducer();
  t.equal(await codeOf(t, 'direct send(null)', () => dp.send(null as never)), 'ERR_INVALID_ARG');
  t.equal(await codeOf(t, 'direct sendFixed(bad data)', () => dp.sendFixed('t', 5 as never, 1, 1)), 'ERR_INVALID_ARG');
});

t.test('group coordinator: bad group ids, join requests and commit lists are typed errors', async (t) => {
  const { engine } = openEngine(t);
  const gc = engine.coordinator;
  for (const id of [undefined, null, '', 5, detached()]) t.equal(await codeOf(t, 'describe', () => gc.describe(id as never)), 'INVALID_GROUP_ID', `describe(${describeValue(id)})`);
  const req = { memberId: '', clientId: 'c', topics: ['t'], assignors: ['range'], sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000 };
  for (const bad of [null, 5, { ...req, topics: 't' }, { ...req, topics: [7] }, { ...req, assignors: ['nope'] }, { ...req, assignors: ['toString'] }, { ...req, assignors: [] }]) {
    t.equal(await codeOf(t, 'join', () => gc.join('g', bad as never)), 'ERR_INVALID_ARG', `join with ${describeValue(bad)}`);
  }
  t.same(gc.describe('g').members, [], 'no member joined through a rejected request');
  const joined = gc.join('g', req as never);
  t.equal(joined.status, 'stable', 'a good request joins');
  const generation = gc.describe('g').generation;
  for (const bad of [null, 't', [null], new Array(1)]) {
    t.equal(await codeOf(t, 'validateCommit', () => gc.validateCommit('g', joined.memberId, generation, bad as never)), 'ERR_INVALID_ARG', `validateCommit with ${describeValue(bad)}`);
  }
});
