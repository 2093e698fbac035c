import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CommitLog } from '../../core/log';
import { codeOf, payloadFor, removeDir, tempDir } from './helpers';

t.test('append, read, readBatch and records agree', (t) => {
  const dir = tempDir('basic');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir);
  t.teardown(() => log.close());
  t.equal(log.startPosition, 0);
  t.equal(log.endPosition, 0);
  const positions: number[] = [];
  for (let i = 0; i < 500; i++) positions.push(log.append(payloadFor(i, i % 50), 1_000_000 + i));
  t.equal(positions[0], 0);
  for (let i = 1; i < positions.length; i++) t.ok(positions[i]! > positions[i - 1]!, 'positions grow');
  const r = log.read(positions[123]!);
  t.same(r.payload, payloadFor(123, 123 % 50));
  t.equal(r.timestamp, 1_000_123);
  t.equal(r.position, positions[123]);
  t.equal(r.next, positions[124]);
  const batch = log.readBatch(positions[10]!, 1024 * 1024, 5);
  t.equal(batch.records.length, 5);
  t.equal(batch.next, positions[15]);
  t.same(batch.records.map((x) => x.position), positions.slice(10, 15));
  t.same(batch.records[4]!.payload, payloadFor(14, 14));
  const all = [...log.records()];
  t.equal(all.length, 500);
  t.ok(all.every((rec, i) => rec.payload.equals(payloadFor(i, i % 50)) && rec.timestamp === 1_000_000 + i), 'scan returns every record');
  t.same(log.readBatch(log.endPosition), { records: [], next: log.endPosition }, 'empty batch at the end');
  t.end();
});

t.test('readBatch respects maxBytes but always returns one record', (t) => {
  const dir = tempDir('maxbytes');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir);
  t.teardown(() => log.close());
  for (let i = 0; i < 10; i++) log.append(Buffer.alloc(100, i));
  t.equal(log.readBatch(0, 1).records.length, 1, 'one record even if larger than maxBytes');
  t.equal(log.readBatch(0, 240).records.length, 2, 'two 120-byte frames fit in 240 bytes');
  t.equal(log.readBatch(0, 239).records.length, 1);
  t.equal(log.readBatch(0, Infinity, 3).records.length, 3, 'Infinity means no byte limit');
  t.equal(log.readBatch(0, Infinity).records.length, 10);
  t.equal(codeOf(() => log.readBatch(0, 0)), 'ERR_INVALID_ARG');
  t.equal(codeOf(() => log.readBatch(0, 100, 0.5)), 'ERR_INVALID_ARG');
  t.end();
});

t.test('appendBatch is contiguous and returns the first position', (t) => {
  const dir = tempDir('batch');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir, { segmentBytes: 8192 });
  t.teardown(() => log.close());
  log.append(Buffer.from('first'));
  const payloads = Array.from({ length: 300 }, (_, i) => payloadFor(i, 30));
  const first = log.appendBatch(payloads, 42);
  const got = [...log.records(first)];
  t.equal(got.length, 300);
  t.ok(got.every((r, i) => r.payload.equals(payloads[i]!) && r.timestamp === 42), 'batch records in order');
  for (let i = 1; i < got.length; i++) t.equal(got[i]!.position, got[i - 1]!.next, 'contiguous');
  t.ok(log.segmentCount() > 1, 'the batch rolled segments');
  t.end();
});

t.test('segments roll and every record stays readable across reopen', (t) => {
  const dir = tempDir('roll');
  t.teardown(() => removeDir(dir));
  let log = CommitLog.open(dir, { segmentBytes: 4096 });
  const positions: number[] = [];
  for (let i = 0; i < 1000; i++) positions.push(log.append(payloadFor(i, 100), i));
  t.ok(log.segmentCount() >= 30, `rolled into ${log.segmentCount()} segments`);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
  t.equal(files[0], '00000000000000000000.log', 'segments are named by zero-padded base position');
  t.ok(files.every((f) => /^\d{20}\.log$/.test(f)));
  const end = log.endPosition;
  log.close();
  log = CommitLog.open(dir, { segmentBytes: 4096 });
  t.teardown(() => log.close());
  t.equal(log.endPosition, end);
  t.same(log.recovery, { end, truncatedBytes: 0, paddedBytes: 0, corrupt: [] });
  const all = [...log.records()];
  t.equal(all.length, 1000);
  t.same(all.map((r) => r.position), positions);
  t.ok(all.every((r, i) => r.payload.equals(payloadFor(i, 100))));
  for (const i of [0, 37, 999]) t.same(log.read(positions[i]!).payload, payloadFor(i, 100));
  t.equal(log.append(Buffer.from('after reopen')), end);
  t.end();
});

t.test('timestamps come from the clock option when not given', (t) => {
  const dir = tempDir('clock');
  t.teardown(() => removeDir(dir));
  let now = 5000;
  const log = CommitLog.open(dir, { clock: () => now });
  t.teardown(() => log.close());
  const a = log.append(Buffer.from('a'));
  now = 6000;
  const b = log.append(Buffer.from('b'));
  const c = log.append(Buffer.from('c'), 7);
  t.equal(log.read(a).timestamp, 5000);
  t.equal(log.read(b).timestamp, 6000);
  t.equal(log.read(c).timestamp, 7);
  t.end();
});

t.test('default timestamps are wall-clock ms', (t) => {
  const dir = tempDir('wallclock');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir);
  t.teardown(() => log.close());
  const before = Date.now();
  const p = log.append(Buffer.from('x'));
  const after = Date.now();
  const ts = log.read(p).timestamp;
  t.ok(ts >= before - 1 && ts <= after + 1, `timestamp ${ts} within [${before}, ${after}]`);
  t.end();
});

t.test('default timestamps stay within a millisecond of Date.now() over many appends', (t) => {
  const dir = tempDir('wallclock-long');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir);
  t.teardown(() => log.close());
  const payload = Buffer.alloc(10);
  const until = Date.now() + 150;
  let worst = 0;
  let checks = 0;
  while (Date.now() < until) {
    for (let i = 0; i < 200; i++) log.append(payload);
    const before = Date.now();
    const ts = log.read(log.append(payload)).timestamp;
    const after = Date.now();
    worst = Math.max(worst, before - ts, ts - after);
    checks++;
  }
  t.ok(worst <= 1, `timestamps within 1 ms of Date.now() (worst ${worst} ms over ${checks} checks)`);
  t.end();
});

t.test('empty payloads and the largest allowed payload', (t) => {
  const dir = tempDir('sizes');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir, { segmentBytes: 65536, maxRecordBytes: 60000 });
  t.teardown(() => log.close());
  const e = log.append(new Uint8Array(0));
  t.equal(log.read(e).payload.length, 0);
  const big = Buffer.alloc(60000, 0xab);
  const b = log.append(big);
  t.same(log.read(b).payload, big);
  t.equal(codeOf(() => log.append(Buffer.alloc(60001))), 'ERR_RECORD_TOO_LARGE');
  t.equal(codeOf(() => log.appendBatch([Buffer.alloc(1), Buffer.alloc(60001)])), 'ERR_RECORD_TOO_LARGE');
  t.equal(log.read(b).next, log.endPosition, 'a rejected batch appends nothing');
  t.end();
});

t.test('close is idempotent and every later call is ERR_CLOSED', (t) => {
  const dir = tempDir('closed');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir);
  const p = log.append(Buffer.from('x'));
  log.close();
  log.close();
  for (const [name, fn] of Object.entries({
    append: () => log.append(Buffer.from('y')),
    appendBatch: () => log.appendBatch([Buffer.from('y')]),
    read: () => log.read(p),
    readBatch: () => log.readBatch(p),
    records: () => [...log.records()],
    flushSync: () => log.flushSync(),
    applyRetention: () => log.applyRetention(),
    endPosition: () => log.endPosition,
    startPosition: () => log.startPosition,
  })) t.equal(codeOf(fn), 'ERR_CLOSED', name);
  return Promise.all([
    t.rejects(log.durable(), { code: 'ERR_CLOSED' }),
    t.rejects(log.write(Buffer.from('z')), { code: 'ERR_CLOSED' }),
  ]);
});

t.test('read outside the log or off a record boundary is ERR_OUT_OF_RANGE', (t) => {
  const dir = tempDir('range');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir);
  t.teardown(() => log.close());
  const p = log.append(Buffer.alloc(64, 1));
  log.append(Buffer.alloc(64, 2));
  t.equal(codeOf(() => log.read(log.endPosition)), 'ERR_OUT_OF_RANGE');
  t.equal(codeOf(() => log.read(p + 8)), 'ERR_OUT_OF_RANGE');
  t.equal(codeOf(() => log.read(p + 3)), 'ERR_OUT_OF_RANGE');
  t.equal(codeOf(() => log.readBatch(log.endPosition + 8)), 'ERR_OUT_OF_RANGE');
  t.equal(codeOf(() => log.readBatch(p + 16)), 'ERR_OUT_OF_RANGE');
  t.end();
});

t.test('open creates missing parent directories and files with mode 0666 & ~umask', (t) => {
  const root = tempDir('mkdir');
  t.teardown(() => removeDir(root));
  const dir = path.join(root, 'a', 'b', 'log');
  const old = process.umask(0o027);
  let log: CommitLog;
  try {
    log = CommitLog.open(dir);
  } finally {
    process.umask(old);
  }
  log.append(Buffer.from('x'));
  log.close();
  const seg = fs.statSync(path.join(dir, '00000000000000000000.log'));
  t.equal(seg.mode & 0o777, 0o640, 'segment mode is 0666 & ~0027');
  t.end();
});
