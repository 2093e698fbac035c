// The RPC consumer on a worker thread (connectKafka(port).consumer()): seek, position, commit /
// committed and offsetsForTimes behave as the in-process consumer's, errors keep Kafka's codes
// across the thread boundary, and what it commits is the group's offset on the engine.
import t, { type Test } from 'tap';
import * as path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { workerEntry } from '../../core/threads';
import { serveKafka, type KafkaEngine } from '../../core/kafka';
import { openEngine } from './helpers';

type Reply = { id: number; value?: unknown; error?: { code: string; message: string } };

/** A consumer on a worker thread; `call` runs one of its methods there. */
function startConsumer(t: Test, engine: KafkaEngine, options: Record<string, unknown>) {
  const { port1, port2 } = new MessageChannel();
  serveKafka(engine, port1);
  const { filename, argv } = workerEntry(path.join(__dirname, 'fixtures', 'worker-consumer-commands.ts'));
  const w = new Worker(filename, { argv, workerData: { port: port2, options }, transferList: [port2] });
  const pending = new Map<number, (r: Reply) => void>();
  let failure: Error | undefined;
  w.on('message', (r: Reply) => {
    pending.get(r.id)?.(r);
    pending.delete(r.id);
  });
  const fail = (e: Error) => {
    failure ??= e;
    for (const resolve of pending.values()) resolve({ id: -1, error: { code: 'WORKER_ERROR', message: e.message } });
    pending.clear();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`worker exited (${code})`)));
  t.teardown(async () => {
    await w.terminate();
    port1.close();
  });
  let next = 1;
  const send = (method: string, args: unknown[]): Promise<Reply> => {
    if (failure) return Promise.resolve({ id: -1, error: { code: 'WORKER_ERROR', message: failure.message } });
    const id = next++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      w.postMessage({ id, method, args });
    });
  };
  return {
    /** Resolves with the result; rejects with an error carrying the remote error's code. */
    async call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
      const r = await send(method, args);
      if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code });
      return r.value as T;
    },
  };
}

type Rec = { partition: number; offset: number; timestamp: number; value: string | null };

t.test('worker RPC consumer: seek, position, commit and committed', async (t) => {
  const { engine, clock } = openEngine(t);
  engine.createTopic('events', { numPartitions: 2 });
  const p = engine.producer();
  for (let i = 0; i < 10; i++) {
    await p.send({ topic: 'events', messages: [{ value: `p0-${i}`, partition: 0 }, { value: `p1-${i}`, partition: 1 }] });
    clock.now += 1000;
  }
  const c = startConsumer(t, engine, { groupId: 'g', autoOffsetReset: 'earliest', autoCommit: false });
  await c.call('open');
  await c.call('subscribe', ['events']);
  const first = await c.call<Rec[]>('poll', 0, 4);
  t.equal(first.length, 4, 'the first poll joins the group and reads');
  for (const part of [0, 1]) {
    const offs = first.filter((r) => r.partition === part).map((r) => r.offset);
    t.same(offs, offs.map((_, i) => i), `partition ${part}: from the start (earliest), in order`);
  }
  const readFromP0 = first.filter((r) => r.partition === 0).length;
  t.same(((await c.call<Array<{ partition: number }>>('assignment')).map((a) => a.partition)).sort(), [0, 1]);
  const tp0 = { topic: 'events', partition: 0 };
  const tp1 = { topic: 'events', partition: 1 };

  t.equal(await c.call('committed', tp0), null, 'nothing committed yet');
  t.equal(await c.call('position', tp0), readFromP0, 'position: next offset to return');

  await c.call('seek', { ...tp0, offset: 7 });
  t.equal(await c.call('position', tp0), 7, 'seek moves the position');
  const afterSeek = (await c.call<Rec[]>('poll', 0, 100)).filter((r) => r.partition === 0);
  t.same(afterSeek.map((r) => [r.offset, r.value]), [[7, 'p0-7'], [8, 'p0-8'], [9, 'p0-9']], 'poll resumes at the sought offset');
  await c.call('seek', { ...tp0, offset: 3 });
  const back = (await c.call<Rec[]>('poll', 0, 2)).filter((r) => r.partition === 0);
  t.same(back.map((r) => r.offset), [3, 4], 'seek backwards replays');
  await c.call('seek', { ...tp0, offset: 10 });
  t.same((await c.call<Rec[]>('poll', 0, 100)).filter((r) => r.partition === 0), [], 'seek to the log end: nothing to read');

  await t.rejects(c.call('seek', { ...tp0, offset: 11 }), { code: 'OFFSET_OUT_OF_RANGE' }, 'past the log end');
  await t.rejects(c.call('seek', { ...tp0, offset: -1 }), { code: 'OFFSET_OUT_OF_RANGE' }, 'negative');
  await t.rejects(c.call('seek', { topic: 'events', partition: 5, offset: 0 }), { code: 'ILLEGAL_STATE' }, 'not an assigned partition');
  t.equal(await c.call('position', tp0), 10, 'a refused seek leaves the position');

  await c.call('commit', [{ ...tp0, offset: 6 }, { ...tp1, offset: 4 }]);
  t.equal(await c.call('committed', tp0), 6);
  t.equal(await c.call('committed', tp1), 4);
  t.same(engine.committedOffsets('g').map((o) => [o.partition, o.offset]).sort(), [[0, 6], [1, 4]], 'committed on the engine, for the group');
  await t.rejects(c.call('commit', [{ ...tp0, offset: 11 }]), { code: 'OFFSET_OUT_OF_RANGE' }, 'commit past the log end');
  t.equal(await c.call('committed', tp0), 6, 'a refused commit changes nothing');

  // commit() without offsets commits the positions reached.
  await c.call('seek', { ...tp1, offset: 8 });
  await c.call('commit');
  t.equal(await c.call('committed', tp1), 8);
  t.equal(await c.call('committed', tp0), 10);
  await c.call('close');

  // Another member of the group, in process, resumes from what the worker committed.
  const resumed = engine.consumer({ groupId: 'g', autoOffsetReset: 'earliest', autoCommit: false });
  resumed.subscribe('events');
  const rs = await resumed.poll(0, 100);
  t.same(rs.filter((r) => r.partition === 1).map((r) => r.offset), [8, 9], 'resume from the committed offset');
  t.same(rs.filter((r) => r.partition === 0), [], 'partition 0 committed at its end');
  await resumed.close();
});

t.test('worker RPC consumer: offsetsForTimes, and seeking to its answer', async (t) => {
  const { engine, clock } = openEngine(t, { indexIntervalBytes: 64 });
  engine.createTopic('timed', { numPartitions: 2 });
  const t0 = clock.now;
  const p = engine.producer();
  // Partition 0: one record a second; partition 1: explicit timestamps, not monotonic.
  for (let i = 0; i < 20; i++) {
    await p.send({ topic: 'timed', messages: [{ value: `a${i}`, partition: 0 }] });
    clock.now += 1000;
  }
  const ts1 = [5, 1, 9, 3, 9, 12];
  await p.send({ topic: 'timed', messages: ts1.map((s, i) => ({ value: `b${i}`, partition: 1, timestamp: t0 + s * 1000 })) });

  const c = startConsumer(t, engine, { groupId: 'times', autoOffsetReset: 'latest', autoCommit: false });
  await c.call('open');
  await c.call('assign', [{ topic: 'timed', partition: 0 }, { topic: 'timed', partition: 1 }]);
  const q = (partition: number, s: number) => ({ topic: 'timed', partition, timestamp: t0 + s * 1000 });
  const answer = await c.call<Array<{ topic: string; partition: number; offset: number | null }>>('offsetsForTimes', [q(0, 0), q(0, 7.5), q(0, 19), q(0, 20), q(1, 4), q(1, 10), q(1, 13)]);
  t.same(
    answer.map((a) => [a.partition, a.offset]),
    [[0, 0], [0, 8], [0, 19], [0, null], [1, 0], [1, 5], [1, null]],
    'first offset whose timestamp is >= the query, per partition; null past the newest',
  );
  t.equal(await c.call('position', { topic: 'timed', partition: 0 }), 20, 'policy latest: at the log end');
  await c.call('seek', { topic: 'timed', partition: 0, offset: answer[1]!.offset });
  const rs = (await c.call<Rec[]>('poll', 0, 100)).filter((r) => r.partition === 0);
  t.equal(rs[0]?.offset, 8, 'seek to the answer');
  t.ok(rs[0]!.timestamp >= t0 + 7500 && rs.every((r) => r.timestamp >= t0 + 7500), 'the records from there are at or after the time');
  t.equal(rs.length, 12);
  await t.rejects(c.call('offsetsForTimes', [{ topic: 'timed', partition: 9, timestamp: t0 }]), { code: 'UNKNOWN_TOPIC_OR_PARTITION' });
  await t.rejects(c.call('offsetsForTimes', [{ topic: 'nope', partition: 0, timestamp: t0 }]), { code: 'UNKNOWN_TOPIC_OR_PARTITION' });
  await c.call('close');
});
