import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { KafkaEngine } from '../../core/kafka';
import { AttachedEngine } from '../../core/kafka/attached';
import { Producer } from '../../core/kafka/producer';
import { KafkaWorkerHost } from '../../core/kafka/worker-host';
import { openEngine } from './helpers';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

function segmentFiles(dir: string, topic: string, partition = 0): string[] {
  return fs.readdirSync(path.join(dir, 'topics', topic, String(partition), 'log')).filter((n) => /^\d{20}\.log$/.test(n)).sort();
}

t.test('segment.ms defaults to 7 days; bad values are refused', async (t) => {
  const { engine, dir } = openEngine(t);
  engine.createTopic('a');
  t.equal(engine.describeTopic('a').config.segmentMs, 7 * DAY);
  engine.createTopic('b', { segmentMs: HOUR });
  t.equal(engine.describeTopic('b').config.segmentMs, HOUR);
  for (const bad of [0, -1, 1.5, Number.NaN, '60000' as unknown as number]) {
    t.throws(() => engine.createTopic('c', { segmentMs: bad }), { code: 'ERR_INVALID_ARG' }, `segmentMs ${String(bad)}`);
  }
  t.notOk(engine.hasTopic('c'));
  t.throws(() => KafkaEngine.open(path.join(dir, 'other'), { segmentMs: 0 }), { code: 'ERR_INVALID_ARG' });
});

t.test('a low-traffic partition: retention by time deletes its only segment once it rolled by age', async (t) => {
  const { engine, clock, dir } = openEngine(t, { segmentBytes: 64 * 1024 });
  engine.createTopic('quiet', { numPartitions: 1, retentionMs: 7 * DAY, segmentMs: DAY });
  const p = engine.producer();
  for (let i = 0; i < 5; i++) await p.send({ topic: 'quiet', messages: [{ value: `old-${i}` }] });
  t.same(segmentFiles(dir, 'quiet'), ['00000000000000000000.log']);

  clock.now += DAY - 1;
  t.same(engine.applyRetention(), []);
  t.equal(segmentFiles(dir, 'quiet').length, 1, 'not rolled before segment.ms');
  clock.now += 1;
  t.same(engine.applyRetention(), [], 'rolled, but the records are younger than retention.ms');
  t.equal(segmentFiles(dir, 'quiet').length, 2, 'retention rolled the active segment once it was segment.ms old');
  t.same(engine.describeTopic('quiet').partitions[0], { partition: 0, logStartOffset: 0, logEndOffset: 5 }, 'a roll adds no record');
  // The core sealed the segment where its data ended (segment files are named by base position,
  // and positions run on across segments): no filler was written to force the roll.
  const secondBase = Number(segmentFiles(dir, 'quiet')[1]!.slice(0, 20));
  t.ok(secondBase > 0 && secondBase < 2048, `second segment starts at ${secondBase}, right after five small batches`);

  // A consumer reads across the roll: same records, same offsets, nothing extra.
  const c = engine.consumer({ groupId: 'g', autoOffsetReset: 'earliest', autoCommit: false });
  c.subscribe('quiet');
  const before = await c.poll(0, 100);
  t.same(before.map((r) => [r.offset, r.value?.toString()]), [0, 1, 2, 3, 4].map((i) => [i, `old-${i}`]));
  await c.commit();

  clock.now += 6 * DAY + 1;
  const moved = engine.applyRetention();
  t.same(moved, [{ topic: 'quiet', partition: 0, logStartOffset: 5 }], 'the sealed segment expired: log start = log end');
  t.equal(segmentFiles(dir, 'quiet').length, 1);
  t.same(engine.describeTopic('quiet').partitions[0], { partition: 0, logStartOffset: 5, logEndOffset: 5 });

  await p.send({ topic: 'quiet', messages: [{ value: 'new' }] });
  const after = await c.poll(0, 100);
  t.same(after.map((r) => [r.offset, r.value?.toString()]), [[5, 'new']], 'offsets continue after the expired records');
  await c.close();
});

t.test('an append that arrives after segment.ms rolls first; offsets, reads, offsetsForTimes and a restart are unaffected', async (t) => {
  const { engine, clock, dir } = openEngine(t, { segmentBytes: 64 * 1024 });
  engine.createTopic('t', { numPartitions: 1, segmentMs: HOUR, retentionMs: -1 });
  const p = engine.producer();
  const t0 = clock.now;
  await p.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }] });
  clock.now += HOUR - 1;
  await p.send({ topic: 't', messages: [{ value: 'c' }] });
  t.equal(segmentFiles(dir, 't').length, 1, 'younger than segment.ms: same segment');
  clock.now += 1;
  const [meta] = await p.send({ topic: 't', messages: [{ value: 'd' }] });
  t.equal(meta?.baseOffset, 3);
  t.equal(segmentFiles(dir, 't').length, 2, 'the append rolled the segment');
  clock.now += HOUR / 2;
  await p.send({ topic: 't', messages: [{ value: 'e' }] });
  t.equal(segmentFiles(dir, 't').length, 2, 'the new segment ages from the roll');
  clock.now += HOUR / 2;
  await p.send({ topic: 't', messages: [{ value: 'f' }] });
  t.equal(segmentFiles(dir, 't').length, 3, 'and rolls again segment.ms after it');

  const read = async (e: KafkaEngine) => {
    const c = e.consumer({ groupId: `r-${Math.random()}`, autoOffsetReset: 'earliest', autoCommit: false });
    c.assign([{ topic: 't', partition: 0 }]);
    const rs = await c.poll(0, 100);
    const offsetsForTimes = c.offsetsForTimes([
      { topic: 't', partition: 0, timestamp: t0 + HOUR },
      { topic: 't', partition: 0, timestamp: t0 + 3 * HOUR },
    ]);
    c.seek({ topic: 't', partition: 0, offset: 3 });
    const fromThree = await c.poll(0, 100);
    await c.close();
    return { all: rs.map((r) => `${r.offset}:${r.value?.toString()}`), offsetsForTimes: offsetsForTimes.map((o) => o.offset), fromThree: fromThree.map((r) => r.offset) };
  };
  const want = { all: ['0:a', '1:b', '2:c', '3:d', '4:e', '5:f'], offsetsForTimes: [3, null], fromThree: [3, 4, 5] };
  t.same(await read(engine), want);
  engine.close();
  const reopened = KafkaEngine.open(dir, { clock: () => clock.now, retentionCheckIntervalMs: 0 });
  t.teardown(() => reopened.close());
  t.same(await read(reopened), want, 'the same after a restart');
  t.equal(reopened.describeTopic('t').config.segmentMs, HOUR, 'segment.ms kept in topic.json');
  t.same(reopened.describeTopic('t').partitions[0], { partition: 0, logStartOffset: 0, logEndOffset: 6 });
  await reopened.producer().send({ topic: 't', messages: [{ value: 'g' }] });
  t.equal(reopened.describeTopic('t').partitions[0]?.logEndOffset, 7);
});

t.test('a topic.json written before segment.ms existed takes the engine default', async (t) => {
  const { engine, dir } = openEngine(t);
  engine.createTopic('legacy');
  engine.close();
  const file = path.join(dir, 'topics', 'legacy', 'topic.json');
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  delete raw.segmentMs;
  fs.writeFileSync(file, JSON.stringify(raw));
  const e = KafkaEngine.open(dir, { retentionCheckIntervalMs: 0, segmentMs: 2 * HOUR });
  t.teardown(() => e.close());
  t.equal(e.describeTopic('legacy').config.segmentMs, 2 * HOUR);
});

t.test('appends from another thread\'s attached partitions (the direct path) roll by age too', async (t) => {
  // segment.ms on the attaching thread's own clock (Date.now), so this uses a 1 ms segment.ms and real time.
  const { engine, dir } = openEngine(t, { segmentBytes: 64 * 1024 });
  engine.createTopic('direct', { numPartitions: 1, segmentMs: 1, retentionMs: -1 });
  const attached = new AttachedEngine();
  t.teardown(() => attached.close());
  attached.attach(new KafkaWorkerHost(engine).attachTopic('direct'));
  const p = new Producer(attached, { acks: 1 });
  await p.send({ topic: 'direct', messages: [{ value: 'x' }] });
  await new Promise((r) => setTimeout(r, 5));
  await p.send({ topic: 'direct', messages: [{ value: 'y' }, { value: 'z' }] });
  t.equal(segmentFiles(dir, 'direct').length, 2, 'the attached append rolled the segment');
  const c = engine.consumer({ groupId: 'g', autoOffsetReset: 'earliest' });
  c.assign([{ topic: 'direct', partition: 0 }]);
  t.same((await c.poll(0, 10)).map((r) => `${r.offset}:${r.value?.toString()}`), ['0:x', '1:y', '2:z']);
  t.same(engine.describeTopic('direct').partitions[0], { partition: 0, logStartOffset: 0, logEndOffset: 3 });
  await c.close();
});
