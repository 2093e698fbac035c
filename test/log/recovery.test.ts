import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CommitLog } from '../../core/log';
import { codeOf, payloadFor, removeDir, tempDir } from './helpers';

const SEGMENT_HEADER = 64;

function segmentFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
}

/** Overwrites bytes of the log at a log position (segment base + offset) in the right segment file. */
function poke(dir: string, position: number, bytes: Buffer): void {
  const seg = segmentFiles(dir).filter((f) => Number(f.slice(0, 20)) <= position).pop()!;
  const fd = fs.openSync(path.join(dir, seg), 'r+');
  fs.writeSync(fd, bytes, 0, bytes.length, SEGMENT_HEADER + position - Number(seg.slice(0, 20)));
  fs.closeSync(fd);
}

t.test('a torn frame at the tail is cut and counted', (t) => {
  const dir = tempDir('torn');
  t.teardown(() => removeDir(dir));
  let log = CommitLog.open(dir);
  for (let i = 0; i < 10; i++) log.append(payloadFor(i, 40));
  const end = log.endPosition;
  log.close();
  // A frame whose length word and part of its payload reached the file, the rest did not.
  const torn = Buffer.alloc(30, 0x77);
  torn.writeUInt32LE(((0xa5 << 24) | 100) >>> 0, 0);
  poke(dir, end, torn);
  log = CommitLog.open(dir);
  t.teardown(() => log.close());
  t.equal(log.recovery.end, end);
  t.equal(log.recovery.truncatedBytes, 30);
  t.same(log.recovery.corrupt, []);
  t.equal(log.endPosition, end);
  t.equal([...log.records()].length, 10);
  const p = log.append(Buffer.from('new'));
  t.equal(p, end, 'appends continue where the valid log ends');
  t.same(log.read(p).payload, Buffer.from('new'));
  t.end();
});

t.test('the cut tail is zeroed, so a later crash cannot revive it', (t) => {
  const dir = tempDir('zeroed');
  t.teardown(() => removeDir(dir));
  let log = CommitLog.open(dir);
  log.append(Buffer.alloc(8, 1));
  const end = log.endPosition;
  log.close();
  poke(dir, end + 200, Buffer.from('garbage far behind the end'));
  log = CommitLog.open(dir);
  t.equal(log.recovery.truncatedBytes, 200 + 26);
  log.close();
  log = CommitLog.open(dir);
  t.teardown(() => log.close());
  t.equal(log.recovery.truncatedBytes, 0, 'nothing left to cut on the next open');
  t.end();
});

t.test('a damaged frame in the middle is reported, kept, and fails its read', (t) => {
  const dir = tempDir('bitrot');
  t.teardown(() => removeDir(dir));
  let log = CommitLog.open(dir);
  const positions: number[] = [];
  for (let i = 0; i < 10; i++) positions.push(log.append(payloadFor(i, 40)));
  const end = log.endPosition;
  log.close();
  poke(dir, positions[4]! + 16 + 3, Buffer.from([0xff]));
  log = CommitLog.open(dir);
  t.teardown(() => log.close());
  t.equal(log.recovery.end, end, 'valid frames after the damage are kept');
  t.equal(log.recovery.truncatedBytes, 0);
  t.same(log.recovery.corrupt, [{ segment: '00000000000000000000.log', position: positions[4], reason: 'checksum mismatch', next: positions[5] }]);
  let err: unknown;
  try {
    log.read(positions[4]!);
  } catch (e) {
    err = e;
  }
  t.match(err, { code: 'ERR_CORRUPT', details: { position: positions[4], next: positions[5] } });
  t.same(log.read(positions[5]!).payload, payloadFor(5, 40));
  const batch = log.readBatch(0);
  t.equal(batch.records.length, 4, 'a batch stops before the damaged record');
  t.equal(batch.next, positions[4]);
  t.equal(codeOf(() => log.readBatch(positions[4]!)), 'ERR_CORRUPT', 'and the next batch reports it');
  t.end();
});

for (const [what, offset, byte] of [['its record mark', 3, 0x00], ['its length', 1, 0x7f], ['its whole length word', 0, 0xff]] as const) {
  t.test(`a frame in the middle whose length word is damaged (${what}) is skipped over, reported, and kept out of reads`, (t) => {
    const dir = tempDir('badlength');
    t.teardown(() => removeDir(dir));
    let log = CommitLog.open(dir);
    const positions: number[] = [];
    for (let i = 0; i < 20; i++) positions.push(log.append(payloadFor(i, 40 + i)));
    const end = log.endPosition;
    log.close();
    const word = Buffer.alloc(4);
    if (offset === 0) word.fill(byte);
    poke(dir, positions[7]! + offset, offset === 0 ? word : Buffer.from([byte]));
    log = CommitLog.open(dir);
    t.teardown(() => log.close());
    t.equal(log.endPosition, end, 'the records after the damage are kept');
    t.equal(log.recovery.truncatedBytes, 0);
    t.same(log.recovery.corrupt, [{ segment: '00000000000000000000.log', position: positions[7], reason: offset === 3 || offset === 0 ? 'damaged record header' : 'checksum mismatch', next: positions[8] }]);
    let err: unknown;
    try {
      log.read(positions[7]!);
    } catch (e) {
      err = e;
    }
    t.match(err, { code: 'ERR_CORRUPT', details: { position: positions[7], next: positions[8] } });
    t.same(log.read(positions[8]!).payload, payloadFor(8, 48));
    const before = log.readBatch(0);
    t.equal(before.records.length, 7, 'a batch stops before the damage');
    const after = log.readBatch(positions[8]!);
    t.equal(after.records.length, 12, 'and reading resumes at details.next');
    t.ok(after.records.every((r, k) => r.payload.equals(payloadFor(8 + k, 48 + k))));
    t.end();
  });
}

t.test('recovery starts from the checkpoint written by a sync', (t) => {
  const dir = tempDir('checkpoint');
  t.teardown(() => removeDir(dir));
  let log = CommitLog.open(dir);
  const positions: number[] = [];
  for (let i = 0; i < 10; i++) positions.push(log.append(payloadFor(i, 40)));
  log.flushSync();
  t.ok(fs.existsSync(path.join(dir, 'checkpoint')));
  for (let i = 10; i < 20; i++) positions.push(log.append(payloadFor(i, 40)));
  const end = log.endPosition;
  log.close();
  // Damage before the checkpoint is not rescanned (reads still catch it); the tail after it is.
  poke(dir, positions[2]! + 20, Buffer.from([0xee]));
  poke(dir, end, Buffer.from([0xa5, 0xa5, 0xa5, 0xa5, 1, 2, 3]));
  log = CommitLog.open(dir);
  t.teardown(() => log.close());
  t.equal(log.endPosition, end);
  t.equal(log.recovery.truncatedBytes, 7);
  t.same(log.recovery.corrupt, []);
  t.equal(codeOf(() => log.read(positions[2]!)), 'ERR_CORRUPT');
  t.same(log.read(positions[15]!).payload, payloadFor(15, 40));
  t.end();
});

t.test('an empty or missing tail segment after a roll recovers', (t) => {
  const dir = tempDir('emptytail');
  t.teardown(() => removeDir(dir));
  let log = CommitLog.open(dir, { segmentBytes: 4096 });
  for (let i = 0; i < 200; i++) log.append(payloadFor(i, 60));
  const segs = log.segmentCount();
  const end = log.endPosition;
  log.close();
  t.ok(segs > 3);
  log = CommitLog.open(dir, { segmentBytes: 4096 });
  t.teardown(() => log.close());
  t.equal(log.endPosition, end);
  t.equal(log.segmentCount(), segs);
  t.equal([...log.records()].length, 200);
  t.end();
});

t.test('a leftover spare file is discarded on open', (t) => {
  const dir = tempDir('spare');
  t.teardown(() => removeDir(dir));
  let log = CommitLog.open(dir);
  log.append(Buffer.from('x'));
  log.close();
  fs.writeFileSync(path.join(dir, 'next.spare'), Buffer.alloc(100, 9));
  log = CommitLog.open(dir);
  t.teardown(() => log.close());
  t.equal([...log.records()].length, 1);
  t.end();
});

t.test('a segment whose header does not match its name is ERR_CORRUPT', (t) => {
  const dir = tempDir('badheader');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir, { segmentBytes: 4096 });
  for (let i = 0; i < 100; i++) log.append(payloadFor(i, 60));
  log.close();
  const files = segmentFiles(dir);
  fs.renameSync(path.join(dir, files[1]!), path.join(dir, '00000000000000000008.log'));
  t.equal(codeOf(() => CommitLog.open(dir, { segmentBytes: 4096 })), 'ERR_CORRUPT');
  t.end();
});
