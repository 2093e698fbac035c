import t from 'tap';
import { openEngine } from './helpers';

const HOUR = 3600_000;

t.test('retention by time (default 168 h) moves the log start; a consumer below it is reset by policy', async (t) => {
  const { engine, clock } = openEngine(t, { segmentBytes: 8192 });
  engine.createTopic('behaviour', { numPartitions: 1 });
  t.equal(engine.describeTopic('behaviour').config.retentionMs, 168 * HOUR);
  const p = engine.producer();
  const value = Buffer.alloc(500, 1);
  for (let i = 0; i < 40; i++) await p.send({ topic: 'behaviour', messages: [{ value }, { value }] });
  const slow = engine.consumer({ groupId: 'slow', autoOffsetReset: 'earliest', autoCommit: false });
  slow.subscribe('behaviour');
  await slow.poll(0, 3);
  await slow.commit();
  const none = engine.consumer({ groupId: 'strict', autoOffsetReset: 'none', autoCommit: false });
  none.assign([{ topic: 'behaviour', partition: 0 }]);
  none.seek({ topic: 'behaviour', partition: 0, offset: 1 });
  clock.now += 100 * HOUR;
  t.same(engine.applyRetention(), [], 'nothing is older than 168 h yet');
  clock.now += 100 * HOUR;
  await p.send({ topic: 'behaviour', messages: [{ value }] });
  const moved = engine.applyRetention();
  t.equal(moved.length, 1, 'old segments deleted');
  const info = engine.describeTopic('behaviour').partitions[0]!;
  t.ok(info.logStartOffset > 3, `log start moved to ${info.logStartOffset}`);
  t.equal(info.logEndOffset, 81);
  const recs = await slow.poll(0, 1000);
  t.equal(recs[0]?.offset, info.logStartOffset, 'earliest policy: resumes at the new log start');
  t.equal(recs[recs.length - 1]?.offset, 80);
  await t.rejects(none.poll(), { code: 'OFFSET_OUT_OF_RANGE' }, 'policy none: the out-of-range position is an error');
});

t.test('retention by size per partition', async (t) => {
  const { engine } = openEngine(t, { segmentBytes: 8192 });
  engine.createTopic('sized', { numPartitions: 1, retentionBytes: 20_000, retentionMs: -1 });
  const p = engine.producer();
  for (let i = 0; i < 100; i++) await p.send({ topic: 'sized', messages: [{ value: Buffer.alloc(1000) }] });
  engine.applyRetention();
  const info = engine.describeTopic('sized').partitions[0]!;
  t.ok(info.logStartOffset > 50, `log start moved to ${info.logStartOffset}`);
  t.equal(info.logEndOffset, 100);
});
