/**
 * CommitLog.readBatchInto (the allocation-free read the direct Kafka consumer uses): the frames it
 * copies into the caller's buffer decode to exactly the records readBatch returns, across segment
 * rolls and for every byte / record limit; a target too small for the first record is reported,
 * and bad arguments are typed errors.
 */
import t from 'tap';
import { CommitLog } from '../../core/log';
import type { LogRecord } from '../../core/log/types';
import { codeOf, removeDir, tempDir } from '../log/helpers';

const FRAME_HEADER = 16;
const frameBytes = (len: number) => (FRAME_HEADER + len + 7) & ~7;

/** The records in `target[0, bytes)`, as readBatch describes them. */
function decodeFrames(target: Buffer, bytes: number, position: number): LogRecord[] {
  const out: LogRecord[] = [];
  let off = 0;
  let pos = position;
  while (off < bytes) {
    const len = target.readUInt32LE(off) & 0xffffff;
    const timestamp = target.readUInt32LE(off + 8) + target.readInt32LE(off + 12) * 4294967296;
    const size = frameBytes(len);
    out.push({ position: pos, next: pos + size, timestamp, payload: Buffer.from(target.subarray(off + FRAME_HEADER, off + FRAME_HEADER + len)) });
    off += size;
    pos += size;
  }
  return out;
}

function filledLog(dir: string): { log: CommitLog; count: number } {
  // Small segments so reads cross rolls; payload sizes 0..3000 bytes.
  const log = CommitLog.open(dir, { segmentBytes: 64 * 1024 });
  let count = 0;
  for (let i = 0; i < 600; i++) {
    const size = (i * 997) % 3001;
    log.append(Buffer.alloc(size, i & 0xff), 1_700_000_000_000 + i * 3);
    count++;
  }
  return { log, count };
}

t.test('readBatchInto gives the records readBatch gives, for every limit, across segments', (t) => {
  const dir = tempDir('read-into');
  t.teardown(() => removeDir(dir));
  const { log, count } = filledLog(dir);
  t.teardown(() => log.close());
  const target = Buffer.alloc(32 * 1024);
  for (const [maxBytes, maxRecords] of [[1, 1], [4096, 1000], [10_000, 3], [1 << 20, 1 << 20], [20_000, 50]] as const) {
    let pos = log.startPosition;
    let seen = 0;
    for (;;) {
      const expected = log.readBatch(pos, Math.min(maxBytes, target.length), maxRecords);
      const bytes = log.readBatchInto(pos, target, maxBytes, maxRecords);
      t.ok(bytes >= 0, 'every record fits in 32 KiB');
      const got = decodeFrames(target, bytes, pos);
      if (got.length !== expected.records.length || !got.every((r, i) => r.position === expected.records[i]!.position && r.next === expected.records[i]!.next && r.timestamp === expected.records[i]!.timestamp && r.payload.equals(expected.records[i]!.payload))) {
        t.fail(`maxBytes ${maxBytes} maxRecords ${maxRecords} at ${pos}: ${got.length} records, readBatch ${expected.records.length}`);
        break;
      }
      t.equal(log.lastReadNext, expected.next, 'lastReadNext is readBatch next') || t.end();
      if (bytes === 0) break;
      seen += got.length;
      pos = log.lastReadNext;
    }
    t.equal(seen, count, `maxBytes ${maxBytes}, maxRecords ${maxRecords}: every record once`);
    t.equal(pos, log.endPosition);
  }
  t.end();
});

t.test('readBatchInto: a target smaller than the first record gets nothing and that frame size', (t) => {
  const dir = tempDir('read-into-small');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir);
  t.teardown(() => log.close());
  log.append(Buffer.alloc(1000, 7), 5);
  log.append(Buffer.alloc(10, 8), 6);
  const small = Buffer.alloc(512, 0xee);
  t.equal(log.readBatchInto(0, small), -frameBytes(1000));
  t.ok(small.every((b) => b === 0xee), 'nothing written');
  const big = Buffer.alloc(frameBytes(1000));
  t.equal(log.readBatchInto(0, big), frameBytes(1000), 'exactly one frame fits');
  t.equal(log.lastReadNext, frameBytes(1000));
  const rec = decodeFrames(big, frameBytes(1000), 0)[0]!;
  t.same([rec.timestamp, rec.payload.length, rec.payload[999]], [5, 1000, 7]);
  t.equal(log.readBatchInto(log.endPosition, big), 0, 'nothing at the end');
  t.equal(log.lastReadNext, log.endPosition);
  t.end();
});

t.test('readBatchInto: bad arguments are typed errors', (t) => {
  const dir = tempDir('read-into-bad');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir);
  log.append(Buffer.alloc(100, 1));
  const target = Buffer.alloc(1024);
  const call = (...a: unknown[]) => codeOf(() => (log.readBatchInto as (...x: unknown[]) => number)(...a));
  t.equal(call(0, undefined), 'ERR_INVALID_ARG', 'no target');
  t.equal(call(0, 'abc'), 'ERR_INVALID_ARG');
  t.equal(call(0, new Uint16Array(8)), 'ERR_INVALID_ARG', 'not bytes');
  t.equal(call(0, Buffer.alloc(0)), 'ERR_INVALID_ARG', 'empty target');
  t.equal(call(-1, target), 'ERR_INVALID_ARG');
  t.equal(call(1.5, target), 'ERR_INVALID_ARG');
  t.equal(call('0', target), 'ERR_INVALID_ARG');
  t.equal(call(8, target), 'ERR_OUT_OF_RANGE', 'not a record start');
  t.equal(call(1 << 20, target), 'ERR_OUT_OF_RANGE', 'beyond the end');
  t.equal(call(0, target, 0), 'ERR_INVALID_ARG', 'maxBytes 0');
  t.equal(call(0, target, 100, 0), 'ERR_INVALID_ARG', 'maxRecords 0');
  t.equal(call(0, target, 100, 1.5), 'ERR_INVALID_ARG');
  t.ok(target.every((b) => b === 0), 'no bad call wrote into the target');
  log.close();
  t.equal(call(0, target), 'ERR_CLOSED', 'closed log');
  t.end();
});
