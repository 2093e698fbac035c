import t from 'tap';
import * as path from 'node:path';
import { IndexFile } from '../../core/log';
import { codeOf, removeDir, tempDir } from './helpers';

function entry(i: number, bytes = 20): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeBigUInt64LE(BigInt(i) * 1000n, 0);
  b.writeUInt32LE(i, 8);
  return b;
}

t.test('append, read, readRange, write, truncate, reopen', (t) => {
  const dir = tempDir('index');
  t.teardown(() => removeDir(dir));
  const file = path.join(dir, 'queue.idx');
  let ix = IndexFile.open(file, { entryBytes: 20, growBytes: 4096 });
  t.equal(ix.entryBytes, 20);
  t.equal(ix.count, 0);
  for (let i = 0; i < 1000; i++) t.equal(ix.append(entry(i)), i);
  t.equal(ix.count, 1000, 'grew past several 4 KiB steps');
  t.same(ix.read(0), entry(0));
  t.same(ix.read(999), entry(999));
  t.same(ix.readRange(10, 3), Buffer.concat([entry(10), entry(11), entry(12)]));
  t.equal(ix.readRange(998, 10).length, 40, 'fewer entries at the end');
  t.equal(ix.readRange(1000, 10).length, 0);
  const many = Buffer.concat([entry(5000), entry(5001)]);
  t.equal(ix.appendMany(many), 1000);
  t.same(ix.read(1001), entry(5001));
  ix.write(3, entry(7777));
  t.same(ix.read(3), entry(7777));
  ix.truncate(500);
  t.equal(ix.count, 500);
  t.equal(codeOf(() => ix.read(500)), 'ERR_OUT_OF_RANGE');
  ix.flushSync();
  ix.close();
  ix.close();
  t.equal(codeOf(() => ix.count), 'ERR_CLOSED');
  ix = IndexFile.open(file, { entryBytes: 20 });
  t.teardown(() => ix.close());
  t.equal(ix.count, 500);
  t.same(ix.read(3), entry(7777));
  t.same(ix.read(499), entry(499));
  t.end();
});

t.test('bad input is a typed error', (t) => {
  const dir = tempDir('index-bad');
  t.teardown(() => removeDir(dir));
  const file = path.join(dir, 'x.idx');
  const ix = IndexFile.open(file, { entryBytes: 12 });
  t.teardown(() => ix.close());
  ix.append(Buffer.alloc(12));
  t.equal(codeOf(() => ix.append(Buffer.alloc(11))), 'ERR_INVALID_ARG');
  t.equal(codeOf(() => ix.append('x'.repeat(12) as unknown as Buffer)), 'ERR_INVALID_ARG');
  t.equal(codeOf(() => ix.appendMany(Buffer.alloc(13))), 'ERR_INVALID_ARG');
  t.equal(codeOf(() => ix.appendMany(Buffer.alloc(0))), 'ERR_INVALID_ARG');
  t.equal(codeOf(() => ix.read(-1)), 'ERR_INVALID_ARG');
  t.equal(codeOf(() => ix.read(1.5)), 'ERR_INVALID_ARG');
  t.equal(codeOf(() => ix.read(Number.NaN)), 'ERR_INVALID_ARG');
  t.equal(codeOf(() => ix.read(1)), 'ERR_OUT_OF_RANGE');
  t.equal(codeOf(() => ix.write(1, Buffer.alloc(12))), 'ERR_OUT_OF_RANGE');
  t.equal(codeOf(() => ix.readRange(2, 1)), 'ERR_OUT_OF_RANGE');
  t.equal(codeOf(() => IndexFile.open(file, { entryBytes: 12 })), 'ERR_LOCKED', 'one open per file');
  t.equal(codeOf(() => IndexFile.open(path.join(dir, 'y.idx'), { entryBytes: 0 })), 'ERR_INVALID_ARG');
  t.equal(codeOf(() => IndexFile.open(path.join(dir, 'y.idx'), {} as never)), 'ERR_INVALID_ARG');
  t.equal(codeOf(() => IndexFile.open(path.join(dir, 'missing', 'y.idx'), { entryBytes: 8 })), 'ERR_IO');
  t.equal(ix.count, 1, 'nothing was appended by the bad calls');
  t.end();
});

t.test('reopening with a different entryBytes is refused', (t) => {
  const dir = tempDir('index-width');
  t.teardown(() => removeDir(dir));
  const file = path.join(dir, 'w.idx');
  IndexFile.open(file, { entryBytes: 8 }).close();
  t.equal(codeOf(() => IndexFile.open(file, { entryBytes: 16 })), 'ERR_INVALID_ARG');
  t.end();
});
