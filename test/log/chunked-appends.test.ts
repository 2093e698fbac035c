/**
 * appendMode 'chunked' (native/append-lease.h), in one thread where the order of events is
 * fixed: what is readable when, read-your-write, how ordered appends, batches and large records
 * place themselves around a chunk, padding as readers see it, durability under 'sync', timestamps
 * for retention, and recovery of a chunk left unfinished. Threads appending concurrently are in
 * workers.test.ts; kill -9 trials in chunked-crash.test.ts.
 */
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CommitLog, frameBytes, type LogRecord } from '../../core/log';
import { removeDir, tempDir } from './helpers';

const CHUNK = 64 * 1024;
// The log seals a chunk its owner left idle for a tick (1 ms by default). Tests here check where
// chunks fall, which a preempted test thread must not change: a tick of a minute, except where a
// test is about idle sealing itself.
const LONG_TICK = '60000';
process.env.MQLAB_CHUNK_TICK_MS = LONG_TICK;
const SEGMENT_HEADER = 64;

function record(tag: string, size = 40): Buffer {
  return Buffer.from(tag.padEnd(size, '.'));
}

/** The tag a `record` payload carries. */
function tagOf(r: LogRecord): string {
  return r.payload.toString().replace(/\.+$/, '');
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

t.test("the log's tick publishes a lone chunk's records without sealing it, and seals a chunk that holds another back", async (t) => {
  const dir = tempDir('chunked-idle');
  t.teardown(() => removeDir(dir));
  delete process.env.MQLAB_CHUNK_TICK_MS;
  const a = CommitLog.open(dir, { appendMode: 'chunked' });
  process.env.MQLAB_CHUNK_TICK_MS = LONG_TICK;
  const b = CommitLog.open(dir, { appendMode: 'chunked' });
  t.teardown(() => {
    a.close();
    b.close();
  });
  const p = a.append(record('a0'));
  t.equal(p, 0);
  t.equal(a.tailPosition, CHUNK, 'the chunk is handed out whole');
  await until('the lone chunk is published', () => a.endPosition > p);
  t.equal(a.endPosition, p + frameBytes(40), 'published up to its last record, not sealed');
  t.equal(a.append(record('a1')), p + frameBytes(40), 'its owner goes on filling it');
  const q = b.append(record('b0'));
  t.equal(q, CHUNK, "b's chunk follows a's");
  // a's chunk holds b's back: the tick seals it (idle, or open ten ticks). Then b's chunk is open
  // alone: the tick publishes it (or sealed it in the same tick as a's).
  await until("b's record is readable", () => a.endPosition > q);
  const batch = a.readBatch(0);
  t.same(batch.records.map(tagOf), ['a0', 'a1'], "a's chunk: two records, then padding");
  t.equal(batch.next, CHUNK, 'the batch ends at the padding; next is past it');
  t.equal(batch.records[1]!.next, CHUNK, "the record's next skips the padding too");
  t.same(a.readBatch(CHUNK).records.map((r) => r.position), [q]);
  t.equal(a.append(record('a2')), 2 * CHUNK, 'the next append takes a new chunk');
});

t.test('read-your-write: a position append returned is readable at once, without sealing its chunk', (t) => {
  const dir = tempDir('chunked-ryw');
  t.teardown(() => removeDir(dir));
  const a = CommitLog.open(dir, { appendMode: 'chunked' });
  const b = CommitLog.open(dir, { appendMode: 'chunked' });
  const pa = a.append(record('a0'));
  const pb = b.append(record('b0'));
  t.equal(pb, CHUNK, "b's chunk follows a's");
  t.equal(b.read(pb).payload.toString(), record('b0').toString(), "b reads its record behind a's open chunk");
  t.equal(b.endPosition, CHUNK, "reading it sealed a's chunk (the one before), not b's");
  t.equal(a.append(record('a1')), 2 * CHUNK, 'a continues in a new chunk after b');
  const pb1 = b.append(record('b1'));
  t.equal(pb1, pb + frameBytes(40), "b's chunk was not sealed by reading into it");
  t.equal(b.read(pb1).payload.toString(), record('b1').toString());
  t.equal(a.read(pa).payload.toString(), record('a0').toString());
  a.close();
  b.close();
  const log = CommitLog.open(dir);
  t.same([...log.records()].map(tagOf), ['a0', 'b0', 'b1', 'a1']);
  t.equal(log.recovery.paddedBytes, 0, 'sealed chunks leave padding frames, not gaps');
  log.close();
  t.end();
});

t.test('ordered appends, batches and large records around an open chunk keep each handle in order', (t) => {
  const dir = tempDir('chunked-mixed');
  t.teardown(() => removeDir(dir));
  const a = CommitLog.open(dir, { appendMode: 'chunked' });
  const o = CommitLog.open(dir);
  const a0 = a.append(record('a0'));
  t.equal(o.endPosition, 0, 'the open chunk holds the end back');
  t.same(o.readBatch(0).records, [], 'a tailing reader sees nothing yet');
  const o0 = o.append(record('o0'));
  t.ok(o0 >= CHUNK, 'an ordered append goes after the open chunk');
  t.equal(o.endPosition, 0, 'and is readable only when the chunk before it is');
  t.equal(o.read(o0).payload.toString(), record('o0').toString(), 'reading it seals that chunk');
  t.equal(o.endPosition, o0 + frameBytes(40));
  const a1 = a.append(record('a1'));
  const big = a.append(Buffer.alloc(40 * 1024, 7));
  const a2 = a.append(record('a2'));
  const batch = a.appendBatch([record('a3'), record('a4')]);
  const a5 = a.append(record('a5'));
  t.ok(a0 < o0 && o0 < a1 && a1 < big && big < a2 && a2 < batch && batch < a5,
    `one handle's records keep their order: ${[a0, a1, big, a2, batch, a5].join(' < ')}`);
  a.close();
  o.close();
  const log = CommitLog.open(dir);
  t.same([...log.records()].map((r) => r.payload.length === 40 * 1024 ? 'big' : tagOf(r)),
    ['a0', 'o0', 'a1', 'big', 'a2', 'a3', 'a4', 'a5']);
  log.close();
  t.end();
});

t.test('readBatch and readBatchInto stop at padding; a read that starts on padding is empty with next past it', (t) => {
  const dir = tempDir('chunked-padding');
  t.teardown(() => removeDir(dir));
  const a = CommitLog.open(dir, { appendMode: 'chunked' });
  const positions = ['a0', 'a1', 'a2'].map((tag) => a.append(record(tag)));
  a.close();
  const o = CommitLog.open(dir);
  t.teardown(() => o.close());
  t.equal(o.endPosition, CHUNK, 'closing the handle sealed its chunk');
  const b0 = o.append(record('b0'));
  t.equal(b0, CHUNK);
  const first = o.readBatch(0);
  t.same(first.records.map((r) => r.position), positions, 'the batch holds the chunk\'s records only');
  t.equal(first.next, CHUNK);
  const target = new Uint8Array(4096);
  t.equal(o.readBatchInto(0, target), 3 * frameBytes(40), 'readBatchInto copies the same three frames');
  t.equal(o.lastReadNext, CHUNK);
  const padStart = positions[2]! + frameBytes(40);
  t.same(o.readBatch(padStart), { records: [], next: CHUNK }, 'from the padding: empty, next past it');
  t.equal(o.readBatchInto(padStart, target), 0);
  t.equal(o.lastReadNext, CHUNK);
  t.equal(o.read(positions[2]!).next, CHUNK, 'read: next skips the padding');
  t.throws(() => o.read(padStart), { code: 'ERR_OUT_OF_RANGE' }, 'padding is not a record');
  t.same([...o.records()].map((r) => r.position), [...positions, b0], 'a scan steps over the padding');
  t.end();
});

t.test("flush 'sync': chunked writes resolve once durable, and durable() and flushSync cover open chunks", async (t) => {
  const dir = tempDir('chunked-sync');
  t.teardown(() => removeDir(dir));
  const a = CommitLog.open(dir, { flush: 'sync', appendMode: 'chunked' });
  const b = CommitLog.open(dir, { flush: 'sync', appendMode: 'chunked' });
  t.teardown(() => {
    a.close();
    b.close();
  });
  const s0 = await a.write(record('s0'));
  const s1 = await a.write(record('s1'));
  t.equal(s1, s0 + frameBytes(40), "a sync publishes the writer's chunk instead of sealing it: no padding per sync");
  const written = await Promise.all([a.write(record('a0')), b.write(record('b0')), a.write(record('a1'))]);
  for (const p of written) t.ok(a.durablePosition > p, `record at ${p} is durable`);
  const pa = a.append(record('a2'));
  const pb = b.append(record('b1'));
  t.ok(pa >= a.endPosition, 'appended behind the readable end');
  await t.resolves(a.durable(pa), 'durable(position) of a record in an open chunk');
  await t.resolves(b.durable(), 'durable() covers every chunk handed out');
  t.ok(b.durablePosition > pb);
  const a3 = a.append(record('a3'));
  b.flushSync();
  t.ok(b.durablePosition > a3, 'flushSync makes everything appended durable');
  await t.rejects(b.durable(b.tailPosition + 8), { code: 'ERR_OUT_OF_RANGE' }, 'past the tail is still an error');
});

t.test("a chunked record's timestamp counts for retention by age", (t) => {
  const dir = tempDir('chunked-retention');
  t.teardown(() => removeDir(dir));
  let now = 1_000_000;
  const a = CommitLog.open(dir, { appendMode: 'chunked', clock: () => now, retention: { maxAgeMs: 1000 } });
  t.teardown(() => a.close());
  a.append(record('fresh'));
  t.ok(a.roll(), 'rolled (sealing the chunk)');
  a.append(record('later'));
  t.equal(a.applyRetention().deletedSegments, 0, 'the sealed segment holds a record younger than maxAgeMs');
  now += 5000;
  t.equal(a.applyRetention().deletedSegments, 1, 'and expires once it is older');
  t.end();
});

t.test('recovery pads a chunk left unfinished and keeps the data after it', (t) => {
  const dir = tempDir('chunked-recover');
  t.teardown(() => removeDir(dir));
  const a = CommitLog.open(dir, { appendMode: 'chunked' });
  const b = CommitLog.open(dir, { appendMode: 'chunked' });
  const pa = [a.append(record('a0')), a.append(record('a1'))];
  const pb = [b.append(record('b0')), b.append(record('b1'))];
  t.equal(pb[0], CHUNK);
  a.close();
  b.close();
  // What a kill -9 leaves when a's chunk was still open: no padding after a's records.
  const file = path.join(dir, '00000000000000000000.log');
  const fd = fs.openSync(file, 'r+');
  const gapStart = pa[1]! + frameBytes(40);
  fs.writeSync(fd, Buffer.alloc(16), 0, 16, SEGMENT_HEADER + gapStart);
  fs.closeSync(fd);
  const log = CommitLog.open(dir);
  t.teardown(() => log.close());
  t.equal(log.recovery.paddedBytes, CHUNK - gapStart, "the unfinished end of a's chunk was padded");
  t.same(log.recovery.corrupt, [], 'not reported as damage');
  t.equal(log.recovery.truncatedBytes, 0, "b's chunk after it was kept");
  t.same([...log.records()].map((r) => r.position), [...pa, ...pb]);
  const next = log.append(record('c0'));
  t.equal(log.read(next).payload.toString(), record('c0').toString(), 'appends continue after the recovered data');
  t.end();
});

t.test('after ordered frames a chunk runs only to the next boundary; left unfinished, recovery pads it', (t) => {
  const dir = tempDir('chunked-short');
  t.teardown(() => removeDir(dir));
  const a = CommitLog.open(dir, { appendMode: 'chunked' });
  const o = CommitLog.open(dir);
  const b = CommitLog.open(dir, { appendMode: 'chunked' });
  const c = CommitLog.open(dir, { appendMode: 'chunked' });
  const a0 = a.append(record('a0'));
  const o0 = o.append(record('o0'));
  t.equal(o0, CHUNK, 'the ordered record goes after the open chunk');
  a.close();
  const b0 = b.append(record('b0'));
  t.equal(b0, o0 + frameBytes(40), 'a chunk starts right after ordered frames: no padding up to the boundary');
  const c0 = c.append(record('c0'));
  t.equal(c0, 2 * CHUNK, "that chunk ended at the boundary, where c's begins");
  b.close();
  c.close();
  o.close();
  // What a kill -9 leaves when b's chunk was still open: no padding after b0.
  const fd = fs.openSync(path.join(dir, '00000000000000000000.log'), 'r+');
  const gapStart = b0 + frameBytes(40);
  fs.writeSync(fd, Buffer.alloc(16), 0, 16, SEGMENT_HEADER + gapStart);
  fs.closeSync(fd);
  const log = CommitLog.open(dir);
  t.teardown(() => log.close());
  t.equal(log.recovery.paddedBytes, 2 * CHUNK - gapStart, "the unfinished end of b's chunk was padded");
  t.same(log.recovery.corrupt, []);
  t.same([...log.records()].map((r) => r.position), [a0, o0, b0, c0], "c's chunk after it was kept");
  t.end();
});

t.test('a log never appended to in chunks keeps its old recovery: unwritten space ends the data', (t) => {
  const dir = tempDir('chunked-ordered-recover');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir);
  // 64-byte frames: a record starts at every chunk boundary, where a chunked log's recovery looks.
  const positions = Array.from({ length: 3000 }, (_, i) => log.append(record(`r${i}`, 48)));
  log.close();
  t.ok(positions.includes(CHUNK) && positions.includes(2 * CHUNK), 'records start at two chunk boundaries');
  const fd = fs.openSync(path.join(dir, '00000000000000000000.log'), 'r+');
  fs.writeSync(fd, Buffer.alloc(16), 0, 16, SEGMENT_HEADER + positions[100]!);
  fs.closeSync(fd);
  const reopened = CommitLog.open(dir);
  t.teardown(() => reopened.close());
  t.equal(reopened.recovery.paddedBytes, 0);
  t.equal(reopened.recovery.end, positions[100], 'the data ends at the unwritten word, as before chunks existed');
  t.ok(reopened.recovery.truncatedBytes > 0);
  t.end();
});

t.test('appendMode is checked', (t) => {
  const dir = tempDir('chunked-option');
  t.teardown(() => removeDir(dir));
  for (const bad of ['chunky', 1, null, true]) {
    t.throws(() => CommitLog.open(dir, { appendMode: bad as never }), { code: 'ERR_INVALID_ARG' }, `appendMode ${String(bad)}`);
  }
  t.end();
});
