import t from 'tap';
import * as fs from 'node:fs';
import { CommitLog } from '../../core/log';
import { codeOf, payloadFor, removeDir, tempDir } from './helpers';

t.test('retention by age deletes whole old segments, using the injected clock', (t) => {
  const dir = tempDir('ret-age');
  t.teardown(() => removeDir(dir));
  let now = 1_000_000;
  const day = 24 * 3600 * 1000;
  const log = CommitLog.open(dir, { segmentBytes: 4096, retention: { maxAgeMs: 7 * day }, clock: () => now });
  t.teardown(() => log.close());
  const positions: number[] = [];
  for (let i = 0; i < 300; i++) {
    now += 600 * 1000; // one record per 10 minutes: 50 hours in all
    positions.push(log.append(payloadFor(i, 60)));
  }
  const before = log.segmentCount();
  t.same(log.applyRetention(), { deletedSegments: 0, startPosition: 0 }, 'nothing older than 7 days yet');
  now += 7 * day - 25 * 3600 * 1000; // the older half is now older than 7 days
  const { deletedSegments, startPosition } = log.applyRetention();
  t.ok(deletedSegments > 0 && deletedSegments < before, `deleted ${deletedSegments} of ${before}`);
  t.equal(log.startPosition, startPosition);
  t.equal(log.segmentCount(), before - deletedSegments);
  const first = log.read(startPosition);
  const firstIndex = positions.indexOf(first.position);
  t.ok(firstIndex > 0, 'a record boundary');
  t.ok(first.timestamp >= now - 7 * day - 3600 * 1000 * 10, 'only whole segments go: the first kept one may hold older records');
  t.ok(positions.slice(0, firstIndex).every((p) => p < startPosition), 'every deleted record was in a deleted segment');
  t.equal(codeOf(() => log.read(positions[0]!)), 'ERR_OUT_OF_RANGE');
  t.equal([...log.records()].length, 300 - firstIndex);
  t.equal(fs.readdirSync(dir).filter((f) => f.endsWith('.log')).length, log.segmentCount(), 'files deleted');
  now += 365 * day;
  log.applyRetention();
  t.equal(log.segmentCount(), 1, 'the active segment is never deleted');
  t.equal(log.append(Buffer.from('still works')), positions[299]! + 80);
  t.end();
});

t.test('retention by size keeps the log at most maxBytes (whole segments)', (t) => {
  const dir = tempDir('ret-size');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir, { segmentBytes: 4096, retention: { maxBytes: 10_000 } });
  t.teardown(() => log.close());
  for (let i = 0; i < 500; i++) log.append(payloadFor(i, 100));
  const { deletedSegments } = log.applyRetention(0);
  t.ok(deletedSegments > 0);
  t.ok(log.endPosition - log.startPosition <= 10_000, `size ${log.endPosition - log.startPosition}`);
  t.ok(log.endPosition - log.startPosition > 10_000 - 4096, 'deleted no more than needed');
  t.equal(log.read(log.startPosition).position, log.startPosition);
  t.end();
});

t.test('retention survives reopen (ages come from segment headers)', (t) => {
  const dir = tempDir('ret-reopen');
  t.teardown(() => removeDir(dir));
  let log = CommitLog.open(dir, { segmentBytes: 4096 });
  for (let i = 0; i < 200; i++) log.append(payloadFor(i, 100), 1000 + i);
  log.close();
  log = CommitLog.open(dir, { segmentBytes: 4096, retention: { maxAgeMs: 100 } });
  t.teardown(() => log.close());
  const res = log.applyRetention(1000 + 150);
  t.ok(res.deletedSegments > 0);
  const first = log.read(log.startPosition);
  t.ok(first.timestamp <= 1050 && first.timestamp > 1000, `first kept record ts ${first.timestamp}`);
  t.end();
});

t.test('a reader holding records keeps working while retention deletes segments', (t) => {
  const dir = tempDir('ret-read');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir, { segmentBytes: 4096, retention: { maxBytes: 4096 } });
  t.teardown(() => log.close());
  for (let i = 0; i < 100; i++) log.append(payloadFor(i, 100));
  const batch = log.readBatch(0, 1 << 20);
  log.applyRetention(0);
  t.ok(log.startPosition > 0);
  t.ok(batch.records.every((r, i) => r.payload.equals(payloadFor(i, 100))), 'copied payloads are unaffected');
  t.end();
});

t.test('a batch that rolls a segment counts toward the age of both segments', (t) => {
  const dir = tempDir('ret-batch');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir, { segmentBytes: 4096, retention: { maxAgeMs: 1000 } });
  t.teardown(() => log.close());
  for (let i = 0; i < 20; i++) log.append(payloadFor(i, 100), 1000);
  const first = log.appendBatch(Array.from({ length: 40 }, (_, i) => payloadFor(i, 100)), 5000);
  t.ok(log.segmentCount() >= 2, 'the batch rolled');
  t.equal(log.applyRetention(5500).deletedSegments, 0, 'the first segment holds records from t=5000: not expired at 5500');
  t.equal([...log.records(first)].length, 40, 'every batch record still there');
  t.end();
});

t.test('segment ages survive a reopen of the active segment (checkpoint and tail scan)', (t) => {
  const dir = tempDir('ret-active');
  t.teardown(() => removeDir(dir));
  let log = CommitLog.open(dir, { segmentBytes: 4096 });
  for (let i = 0; i < 30; i++) log.append(payloadFor(i, 100), 1000 + i);
  log.flushSync();
  for (let i = 30; i < 60; i++) log.append(payloadFor(i, 100), 1000 + i);
  log.close();
  log = CommitLog.open(dir, { segmentBytes: 4096, retention: { maxAgeMs: 10 } });
  t.teardown(() => log.close());
  for (let i = 60; i < 120; i++) log.append(payloadFor(i, 100), 1000 + i);
  const segs = log.segmentCount();
  log.applyRetention(1000 + 120 + 10);
  const start = log.read(log.startPosition);
  t.ok(log.segmentCount() < segs, 'old segments went');
  t.ok(start.timestamp >= 1000 + 60 - 40, `the first kept record (t=${start.timestamp}) is from a segment whose newest record is recent`);
  t.end();
});
