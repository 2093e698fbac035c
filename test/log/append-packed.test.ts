/**
 * appendPacked (records laid end to end in one buffer plus their lengths) and appendBatch's
 * staging path: what they append reads back byte for byte, and inconsistent input is refused
 * with a typed error before anything is appended.
 */
import t from 'tap';
import fc from 'fast-check';
import { CommitLog } from '../../core/log';
import { nativeAddon } from '../../core/log/native';
import { codeOf, removeDir, tempDir } from './helpers';

t.test('appendPacked: random batches read back exactly; bad lengths append nothing', (t) => {
  const dir = tempDir('packed');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir, { segmentBytes: 64 * 1024, maxRecordBytes: 2000 });
  t.teardown(() => log.close());
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 2100 }), { minLength: 0, maxLength: 30 }),
      fc.integer({ min: -3, max: 3 }),
      (payloads, skew) => {
        const bytes = Buffer.concat([...payloads, Buffer.alloc(Math.max(0, skew))]);
        const lengths = Uint32Array.from(payloads, (p) => p.length);
        if (skew < 0 && lengths.length > 0) lengths[lengths.length - 1] = lengths[lengths.length - 1]! + -skew;
        const endBefore = log.endPosition;
        const tooLarge = payloads.some((p) => p.length > 2000);
        const consistent = skew === 0 && payloads.length > 0;
        let position = -1;
        const code = codeOf(() => (position = log.appendPacked(bytes, lengths, 1234)));
        if (!consistent || tooLarge) {
          const want = payloads.length === 0 || !consistent || !tooLarge ? 'ERR_INVALID_ARG' : 'ERR_RECORD_TOO_LARGE';
          // Either refusal is fine when both apply; which one is checked first is not part of the API.
          if (!(code === want || (tooLarge && (code === 'ERR_INVALID_ARG' || code === 'ERR_RECORD_TOO_LARGE')))) throw new Error(`code ${code}, want ${want}`);
          if (log.endPosition !== endBefore) throw new Error('a refused batch moved the end');
          return;
        }
        if (code !== 'no error') throw new Error(`valid batch refused: ${code}`);
        const { records } = log.readBatch(position, 1 << 30, payloads.length);
        if (records.length !== payloads.length) throw new Error(`read ${records.length} of ${payloads.length}`);
        records.forEach((r, i) => {
          if (!r.payload.equals(payloads[i]!) || r.timestamp !== 1234) throw new Error(`record ${i} differs`);
        });
      },
    ),
    { numRuns: 400 },
  );
  t.equal(codeOf(() => log.appendPacked(Buffer.alloc(4), new Uint16Array([4]) as unknown as Uint32Array)), 'ERR_INVALID_ARG', 'lengths must be a Uint32Array');
  t.equal(codeOf(() => log.appendPacked('abcd' as unknown as Buffer, new Uint32Array([4]))), 'ERR_INVALID_ARG', 'bytes must be a Uint8Array');
  t.end();
});

t.test('native appendPacked with an explicit count: the first `count` records, bounds checked', (t) => {
  const dir = tempDir('packed-count');
  t.teardown(() => removeDir(dir));
  const scratch = new Float64Array(3); // read() writes [timestamp, next] here
  const scratchBytes = Buffer.alloc(64); // and copies small payloads here
  const n = nativeAddon().openLog(dir, 1 << 20, 1000, 0, 1000, 1 << 20, scratch, () => undefined, scratchBytes);
  t.teardown(() => n.close());
  const bytes = Buffer.from('aaabbbbcc-unused');
  const lengths = new Uint32Array([3, 4, 2, 99]);
  const got: string[] = [];
  for (let p = n.appendPacked(bytes, lengths, 3, 5), i = 0; i < 3; i++, p = scratch[1]!) {
    const len = n.read(p);
    if (typeof len !== 'number') throw new Error('small payloads come back through the scratch bytes');
    got.push(scratchBytes.subarray(0, len).toString());
    t.equal(scratch[0], 5, `record ${i} timestamp`);
  }
  t.same(got, ['aaa', 'bbbb', 'cc'], 'the first three records, of the stated lengths');
  t.equal(n.counters[0], scratch[1], 'nothing after them');
  t.equal(codeOf(() => n.appendPacked(bytes, lengths, 4, 5)), 'ERR_INVALID_ARG', 'count whose lengths overrun bytes');
  t.equal(codeOf(() => n.appendPacked(bytes, lengths, 5, 5)), 'ERR_INVALID_ARG', 'count beyond lengths.length');
  t.equal(codeOf(() => n.appendPacked(bytes, lengths, 0, 5)), 'ERR_INVALID_ARG', 'count 0');
  t.equal(codeOf(() => n.appendPacked(bytes, new Uint32Array([1001]), 1, 5)), 'ERR_RECORD_TOO_LARGE', 'a length above maxRecordBytes');
  t.equal(n.counters[0], scratch[1], 'refused calls appended nothing');
  t.end();
});

t.test('appendBatch stages into one buffer; odd batches take the element path with the same errors', (t) => {
  const dir = tempDir('staging');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir, { segmentBytes: 32 * 1024 * 1024, maxRecordBytes: 4 * 1024 * 1024 });
  t.teardown(() => log.close());
  // Batches of growing and shrinking sizes reuse and grow the staging area; each reads back.
  for (const [count, size] of [[3, 10], [1000, 100], [2, 70_000], [5, 1], [3, 3 * 1024 * 1024]] as const) {
    const batch = Array.from({ length: count }, (_, i) => Buffer.alloc(size, (i * 7 + size) & 0xff));
    const first = log.appendBatch(batch, 42);
    const { records } = log.readBatch(first, 1 << 30, count);
    t.equal(records.length, count, `${count} x ${size} B: all read back`);
    t.ok(records.every((r, i) => r.payload.equals(batch[i]!) && r.timestamp === 42), `${count} x ${size} B: byte for byte`);
  }
  const end = log.endPosition;
  t.equal(codeOf(() => log.appendBatch([Buffer.from('ok'), 'nope' as unknown as Buffer])), 'ERR_INVALID_ARG', 'a string element');
  t.equal(codeOf(() => log.appendBatch([Buffer.from('ok'), Buffer.alloc(4 * 1024 * 1024 + 1)])), 'ERR_RECORD_TOO_LARGE', 'an oversized element');
  t.equal(codeOf(() => log.appendBatch([])), 'ERR_INVALID_ARG', 'an empty batch');
  t.equal(log.endPosition, end, 'refused batches appended nothing');
  t.end();
});
