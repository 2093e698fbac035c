import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KafkaEngine } from '../../core/kafka';
import { openEngine, str, tempDir } from './helpers';

const send = (engine: KafkaEngine, topic: string, from: number, n: number, partition = 0) =>
  engine.producer().send({ topic, messages: Array.from({ length: n }, (_, i) => ({ value: `m${from + i}`, partition })) });

t.test('committed offset = next to read; resume after close and after an engine restart', async (t) => {
  const dir = tempDir(t);
  let engine = KafkaEngine.open(dir, { retentionCheckIntervalMs: 0 });
  engine.createTopic('log', { numPartitions: 1 });
  await send(engine, 'log', 0, 10);
  let c = engine.consumer({ groupId: 'g', autoOffsetReset: 'earliest', autoCommit: false });
  c.subscribe(['log']);
  const first = await c.poll(0, 4);
  t.same(first.map((r) => r.offset), [0, 1, 2, 3]);
  await c.commit();
  t.equal(c.committed({ topic: 'log', partition: 0 }), 4, 'committed = offset after the last record returned');
  await c.close();
  c = engine.consumer({ groupId: 'g', autoOffsetReset: 'earliest', autoCommit: false });
  c.subscribe('log');
  t.same((await c.poll(0, 2)).map((r) => r.offset), [4, 5], 'a new member resumes at the commit');
  await c.commit();
  // Crash: consumed past the commit, never committed them.
  t.same((await c.poll(0, 3)).map((r) => r.offset), [6, 7, 8]);
  c.abandon();
  engine.close();
  engine = KafkaEngine.open(dir, { retentionCheckIntervalMs: 0 });
  t.teardown(() => engine.close());
  t.same(engine.describeTopic('log').partitions[0], { partition: 0, logStartOffset: 0, logEndOffset: 10 }, 'log survives restart');
  await send(engine, 'log', 10, 2);
  t.same(engine.describeTopic('log').partitions[0]!.logEndOffset, 12, 'offsets continue after restart');
  c = engine.consumer({ groupId: 'g', autoOffsetReset: 'latest', autoCommit: false });
  c.subscribe('log');
  const again = await c.poll(0, 100);
  t.same(again.map((r) => r.offset), [6, 7, 8, 9, 10, 11], 'records after the last commit are redelivered, none skipped');
  t.same(again.map((r) => str(r.value)), ['m6', 'm7', 'm8', 'm9', 'm10', 'm11']);
});

t.test('auto.offset.reset earliest / latest / none for a group without commits', async (t) => {
  const { engine } = openEngine(t);
  engine.createTopic('r', { numPartitions: 1 });
  await send(engine, 'r', 0, 5);
  const earliest = engine.consumer({ groupId: 'e', autoOffsetReset: 'earliest' });
  earliest.subscribe('r');
  t.same((await earliest.poll()).map((r) => r.offset), [0, 1, 2, 3, 4]);
  const latest = engine.consumer({ groupId: 'l', autoOffsetReset: 'latest' });
  latest.subscribe('r');
  t.same(await latest.poll(), [], 'latest starts at the end');
  await send(engine, 'r', 5, 1);
  t.same((await latest.poll()).map((r) => r.offset), [5], 'then sees new records');
  const none = engine.consumer({ groupId: 'n', autoOffsetReset: 'none' });
  none.subscribe('r');
  await t.rejects(none.poll(), { code: 'NO_OFFSET_FOR_PARTITION' });
  await earliest.close();
  await latest.close();
});

t.test('auto-commit commits on poll interval and on close', async (t) => {
  const { engine, clock } = openEngine(t);
  engine.createTopic('a', { numPartitions: 1 });
  await send(engine, 'a', 0, 6);
  const c = engine.consumer({ groupId: 'ac', autoOffsetReset: 'earliest', autoCommitIntervalMs: 1000 });
  c.subscribe('a');
  await c.poll(0, 2);
  t.equal(c.committed({ topic: 'a', partition: 0 }), null, 'not yet: interval not passed');
  clock.now += 1000;
  await c.poll(0, 2);
  t.equal(c.committed({ topic: 'a', partition: 0 }), 2, 'next poll commits what the previous returned');
  await c.close();
  t.equal(engine.committedOffsets('ac')[0]!.offset, 4, 'close commits the position');
});

t.test('seek, seekToBeginning/End and offsetsForTimes', async (t) => {
  const { engine, clock } = openEngine(t, { indexIntervalBytes: 64 });
  engine.createTopic('ts', { numPartitions: 1 });
  const t0 = clock.now;
  for (let i = 0; i < 50; i++) {
    await send(engine, 'ts', i * 2, 2);
    clock.now += 10;
  }
  const c = engine.consumer({ groupId: 's', autoOffsetReset: 'earliest' });
  c.assign([{ topic: 'ts', partition: 0 }]);
  const q = (ts: number) => c.offsetsForTimes([{ topic: 'ts', partition: 0, timestamp: ts }])[0]!.offset;
  t.equal(q(0), 0);
  t.equal(q(t0), 0);
  t.equal(q(t0 + 1), 2, 'first record with timestamp >= t');
  t.equal(q(t0 + 250), 50);
  t.equal(q(t0 + 491), null, 'after the newest record: null');
  c.seek({ topic: 'ts', partition: 0, offset: q(t0 + 300)! });
  t.same((await c.poll(0, 3)).map((r) => r.offset), [60, 61, 62]);
  c.seekToBeginning();
  t.equal(c.position({ topic: 'ts', partition: 0 }), 0);
  c.seekToEnd();
  t.equal(c.position({ topic: 'ts', partition: 0 }), 100);
  // Out-of-order user timestamps: the earliest offset with ts >= target, scanning within batches.
  await engine.producer().send({ topic: 'ts', messages: [{ value: 'a', timestamp: t0 + 5000 }, { value: 'b', timestamp: t0 + 100 }, { value: 'c', timestamp: t0 + 6000 }] });
  t.equal(q(t0 + 5500), 102);
  t.equal(q(t0 + 4000), 100);
});

t.test('indexes are rebuilt from the log when lost', async (t) => {
  const dir = tempDir(t);
  let engine = KafkaEngine.open(dir, { retentionCheckIntervalMs: 0, indexIntervalBytes: 100 });
  engine.createTopic('ix', { numPartitions: 1 });
  for (let i = 0; i < 40; i++) await send(engine, 'ix', i * 5, 5);
  engine.close();
  const pdir = path.join(dir, 'topics', 'ix', '0');
  fs.rmSync(path.join(pdir, 'offset.index'), { force: true });
  fs.rmSync(path.join(pdir, 'time.index'), { force: true });
  engine = KafkaEngine.open(dir, { retentionCheckIntervalMs: 0, indexIntervalBytes: 100 });
  t.teardown(() => engine.close());
  t.equal(engine.describeTopic('ix').partitions[0]!.logEndOffset, 200);
  const c = engine.consumer({ groupId: 'ix', autoOffsetReset: 'earliest' });
  c.assign([{ topic: 'ix', partition: 0 }]);
  for (const o of [0, 7, 99, 150, 199]) {
    c.seek({ topic: 'ix', partition: 0, offset: o });
    const [r] = await c.poll(0, 1);
    t.equal(r?.offset, o);
    t.equal(str(r!.value), `m${o}`);
  }
});

t.test('topic configs survive a restart; deleted topics stay deleted', async (t) => {
  const dir = tempDir(t);
  let engine = KafkaEngine.open(dir, { retentionCheckIntervalMs: 0 });
  engine.createTopic('keep', { numPartitions: 3, retentionMs: 1000, retentionBytes: 50_000, segmentBytes: 8192, segmentMs: 60_000 });
  engine.createTopic('drop', { numPartitions: 2 });
  await send(engine, 'drop', 0, 3);
  engine.deleteTopic('drop');
  t.throws(() => engine.describeTopic('drop'), { code: 'UNKNOWN_TOPIC_OR_PARTITION' });
  t.throws(() => engine.deleteTopic('drop'), { code: 'UNKNOWN_TOPIC_OR_PARTITION' });
  engine.close();
  t.throws(() => engine.createTopic('x'), { code: 'ERR_CLOSED' }, 'a closed engine refuses work');
  engine = KafkaEngine.open(dir, { retentionCheckIntervalMs: 0 });
  t.teardown(() => engine.close());
  t.same(engine.listTopics(), ['keep']);
  t.same(engine.describeTopic('keep').config, { numPartitions: 3, retentionMs: 1000, retentionBytes: 50_000, segmentBytes: 8192, segmentMs: 60_000 });
  engine.createTopic('drop', { numPartitions: 1 });
  t.equal(engine.describeTopic('drop').partitions[0]!.logEndOffset, 0, 'a re-created topic starts empty');
});
