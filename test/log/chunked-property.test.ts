/**
 * Property tests for appendMode 'chunked' (fast-check):
 * - bad input: appendMode values other than 'ordered' / 'chunked' give ERR_INVALID_ARG, and the
 *   native openLog's appendMode argument (its 10th) gives a typed error for anything but 0 or 1;
 * - a model run: random operations on two handles of one log in one thread, each chunked or
 *   ordered (append of 0 B to 44 KiB, appendBatch, read, readBatch and readBatchInto of earlier
 *   positions, scans, roll, close and reopen of a handle), 256 KiB segments; afterwards a full
 *   scan returns every record exactly once at the position append returned, each handle's records
 *   in its append order, and so does a fresh open that finds nothing to repair.
 */
import t from 'tap';
import fc from 'fast-check';
import * as fs from 'node:fs';
import { isMqlabError } from '../../core/errors';
import { CommitLog, FRAME_HEADER_BYTES, frameBytes, framePayloadLength, type AppendMode } from '../../core/log';
import { nativeAddon } from '../../core/log/native';
import { codeOf, removeDir, tempDir } from './helpers';

t.test("appendMode other than 'ordered' or 'chunked' is ERR_INVALID_ARG", (t) => {
  const dir = tempDir('chunked-bad-mode');
  t.teardown(() => removeDir(dir));
  fc.assert(
    fc.property(fc.oneof(fc.anything(), fc.string(), fc.constantFrom('Ordered', 'CHUNKED', 'chunk', ' ordered', 'ordered\0', 0, 1, null, true, ['chunked'])),
      (mode) => {
        fc.pre(mode !== undefined && mode !== 'ordered' && mode !== 'chunked');
        return codeOf(() => CommitLog.open(dir, { appendMode: mode as AppendMode }).close()) === 'ERR_INVALID_ARG';
      }),
    { numRuns: 300 },
  );
  for (const mode of ['ordered', 'chunked', undefined] as const) {
    const log = CommitLog.open(dir, { appendMode: mode });
    const p = log.append(Buffer.from(`mode ${mode}`));
    t.equal(log.read(p).payload.toString(), `mode ${mode}`, `appendMode ${mode} opens and appends`);
    log.close();
  }
  t.end();
});

t.test('native openLog: appendMode (10th argument) other than 0, 1 or undefined is a typed error, never a crash', (t) => {
  const dir = tempDir('chunked-bad-native');
  t.teardown(() => removeDir(dir));
  const real = fs.realpathSync(dir);
  const addon = nativeAddon();
  const open = addon.openLog as unknown as (...a: unknown[]) => ReturnType<typeof addon.openLog>;
  let opened = 0;
  fc.assert(
    fc.property(fc.oneof(fc.anything(), fc.double(), fc.integer(), fc.bigInt(),
      fc.constantFrom(Number.NaN, Infinity, -Infinity, -1, 0.5, 1.5, 2, 3, 255, 2 ** 32, 2 ** 53, -(2 ** 63), '0', '1', null, 0n, 1n, -0, 0, 1, undefined)),
    (mode) => {
      const valid = mode === undefined || mode === 0 || mode === 1;
      let code: string;
      try {
        const n = open(real, 65536, 1000, 0, 1000, 1 << 20, new Float64Array(3), () => undefined, Buffer.alloc(64), mode);
        code = 'no error';
        // A handle that opened appends and reads back.
        const p = n.append(Buffer.from('x'));
        const got = n.read(p);
        n.close();
        if (typeof got === 'number' ? got !== 1 : !got.equals(Buffer.from('x'))) throw new Error(`mode ${String(mode)}: read back wrong bytes`);
        opened++;
      } catch (e) {
        if (!isMqlabError(e)) throw e;
        code = e.code;
      }
      if (code !== (valid ? 'no error' : 'ERR_INVALID_ARG')) throw new Error(`appendMode ${typeof mode} ${String(mode)}: ${code}`);
    }),
    { numRuns: 500 },
  );
  t.ok(opened > 0, `${opened} of the calls had a valid appendMode and opened`);
  // After all that, the records appended through the handles are all there.
  const log = CommitLog.open(dir);
  const all = [...log.records()];
  t.equal(all.length, opened, 'every append of an opened handle is in the log');
  t.ok(all.every((r) => r.payload.toString() === 'x'), 'and reads back');
  log.close();
  t.end();
});

// ---- model run ----

type Op =
  | { op: 'append'; h: number; size: number }
  | { op: 'batch'; h: number; sizes: number[] }
  | { op: 'read'; h: number; pick: number }
  | { op: 'readBatch'; h: number; pick: number; maxBytes: number }
  | { op: 'readBatchInto'; h: number; pick: number; targetBytes: number }
  | { op: 'scan'; h: number }
  | { op: 'roll'; h: number }
  | { op: 'reopen'; h: number };

const size = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 2, arbitrary: fc.integer({ min: 301, max: 32 * 1024 }) },
  // Around a chunked handle's 32 KiB frame limit, and over it (the ordered path).
  { weight: 1, arbitrary: fc.integer({ min: 32 * 1024 - 64, max: 44 * 1024 }) },
);
const handle = fc.integer({ min: 0, max: 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ op: fc.constant('append' as const), h: handle, size }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('batch' as const), h: handle, sizes: fc.array(size, { minLength: 1, maxLength: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('read' as const), h: handle, pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('readBatch' as const), h: handle, pick: fc.nat(), maxBytes: fc.integer({ min: 1, max: 96 * 1024 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('readBatchInto' as const), h: handle, pick: fc.nat(), targetBytes: fc.integer({ min: 16, max: 64 * 1024 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('scan' as const), h: handle }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('roll' as const), h: handle }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reopen' as const), h: handle }) },
);

const SEGMENT_BYTES = 256 * 1024;

/** Record `id`'s payload: its id in the first bytes (as far as they go), then a fill from the id. */
function payloadOf(id: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes, (id * 7 + 3) & 0xff);
  const tag = Buffer.alloc(4);
  tag.writeUInt32LE(id);
  tag.copy(b, 0, 0, Math.min(4, bytes));
  return b;
}

interface Appended {
  id: number;
  handle: number;
  position: number;
  payload: Buffer;
}

/**
 * A scan while chunks may be open: the records the scan returns are the first ones of the log in
 * position order, at least all those below endPosition as it was before the scan (the end only
 * moves forward: a chunk sealed during the scan may add more).
 */
function scanPrefix(log: CommitLog, appended: readonly Appended[]): void {
  const end = log.endPosition;
  const expected = [...appended].sort((x, y) => x.position - y.position);
  const got = [...log.records()];
  const below = expected.filter((a) => a.position < end).length;
  if (got.length < below || got.length > expected.length) throw new Error(`scan found ${got.length} records; ${below} appended below the end ${end}, ${expected.length} in all`);
  got.forEach((r, k) => {
    const e = expected[k]!;
    if (r.position !== e.position || !r.payload.equals(e.payload)) {
      throw new Error(`scan: record ${k} at ${r.position} (${r.payload.length} B), expected record ${e.id} at ${e.position} (${e.payload.length} B)`);
    }
  });
}

t.test('model: two handles (chunked or ordered) appending, reading, rolling and reopening keep every record once, in place', (t) => {
  const root = tempDir('chunked-model');
  t.teardown(() => removeDir(root));
  let run = 0;
  let totalRecords = 0;
  let totalOps = 0;
  let totalSegments = 0;
  const started = Date.now();
  fc.assert(
    fc.property(fc.tuple(fc.boolean(), fc.boolean()), fc.array(opArb, { minLength: 1, maxLength: 200, size: 'max' }), handle, ([chunked0, chunked1], ops, sealer) => {
      const dir = `${root}/r${run++}`;
      const modes: AppendMode[] = [chunked0 ? 'chunked' : 'ordered', chunked1 ? 'chunked' : 'ordered'];
      const open = (h: number): CommitLog => CommitLog.open(dir, { segmentBytes: SEGMENT_BYTES, appendMode: modes[h] });
      const handles = [open(0), open(1)];
      const appended: Appended[] = [];
      const byPosition = new Map<number, Appended>();
      const add = (h: number, position: number, payload: Buffer): void => {
        const a = { id: appended.length, handle: h, position, payload };
        if (byPosition.has(position)) throw new Error(`position ${position} returned twice`);
        appended.push(a);
        byPosition.set(position, a);
      };
      try {
        for (const o of ops) {
          const log = handles[o.h]!;
          switch (o.op) {
            case 'append': {
              const payload = payloadOf(appended.length, o.size);
              add(o.h, log.append(payload), payload);
              break;
            }
            case 'batch': {
              const payloads = o.sizes.map((s, k) => payloadOf(appended.length + k, s));
              let p = log.appendBatch(payloads);
              for (const payload of payloads) {
                add(o.h, p, payload);
                p += frameBytes(payload.length);
              }
              break;
            }
            case 'read': {
              if (appended.length === 0) break;
              const a = appended[o.pick % appended.length]!;
              const r = log.read(a.position);
              if (!r.payload.equals(a.payload)) throw new Error(`read(${a.position}) of record ${a.id} returned other bytes`);
              if (r.next < a.position + frameBytes(a.payload.length)) throw new Error(`read(${a.position}).next ${r.next} inside the record`);
              break;
            }
            case 'readBatch': {
              if (appended.length === 0) break;
              const a = appended[o.pick % appended.length]!;
              const end = log.endPosition;
              const { records, next } = log.readBatch(a.position, o.maxBytes);
              // At endPosition a batch is empty (a reader polling the end does not seal chunks);
              // past it, the chunks before the position are sealed and the record is there.
              if (records.length === 0) {
                if (a.position !== end || next !== a.position) throw new Error(`readBatch(${a.position}) of record ${a.id} is empty (end ${end}, next ${next})`);
                break;
              }
              let expect = a.position;
              for (const r of records) {
                const m = byPosition.get(r.position);
                if (r.position !== expect) throw new Error(`readBatch(${a.position}): record at ${r.position}, expected ${expect}`);
                if (!m || !r.payload.equals(m.payload)) throw new Error(`readBatch(${a.position}): record at ${r.position} is not the one appended there`);
                expect = r.position + frameBytes(r.payload.length);
              }
              if (next < expect) throw new Error(`readBatch(${a.position}).next ${next} before the end of its records ${expect}`);
              break;
            }
            case 'readBatchInto': {
              if (appended.length === 0) break;
              const a = appended[o.pick % appended.length]!;
              const end = log.endPosition;
              const target = Buffer.alloc(o.targetBytes);
              const n = log.readBatchInto(a.position, target);
              const frame = frameBytes(a.payload.length);
              if (n < 0) {
                if (n !== -frame || frame <= o.targetBytes) throw new Error(`readBatchInto(${a.position}, ${o.targetBytes} B) = ${n}, record frame ${frame}`);
                break;
              }
              if (n === 0) {
                if (a.position !== end || log.lastReadNext !== a.position) throw new Error(`readBatchInto(${a.position}) of record ${a.id} is empty (end ${end})`);
                break;
              }
              let off = 0;
              let pos = a.position;
              while (off < n) {
                const m = byPosition.get(pos);
                const len = framePayloadLength(target, off);
                if (!m || !target.subarray(off + FRAME_HEADER_BYTES, off + FRAME_HEADER_BYTES + len).equals(m.payload)) {
                  throw new Error(`readBatchInto(${a.position}): frame at ${pos} is not the record appended there`);
                }
                off += frameBytes(len);
                pos += frameBytes(len);
              }
              if (off !== n || log.lastReadNext < pos) throw new Error(`readBatchInto(${a.position}): ${n} B, frames end at ${off}, next ${log.lastReadNext}`);
              break;
            }
            case 'scan':
              scanPrefix(log, appended);
              break;
            case 'roll':
              log.roll();
              break;
            case 'reopen':
              log.close();
              handles[o.h] = open(o.h);
              break;
          }
        }
        // Each handle's positions follow its append order.
        for (const h of [0, 1]) {
          const mine = appended.filter((a) => a.handle === h);
          for (let k = 1; k < mine.length; k++) {
            if (mine[k]!.position <= mine[k - 1]!.position) throw new Error(`handle ${h}: record ${mine[k]!.id} at ${mine[k]!.position} before ${mine[k - 1]!.id} at ${mine[k - 1]!.position}`);
          }
        }
        // Records in chunks still open are not visible yet; a sync seals every chunk.
        scanPrefix(handles[sealer]!, appended);
        handles[sealer]!.flushSync();
        const expected = [...appended].sort((x, y) => x.position - y.position);
        const check = (log: CommitLog, when: string): void => {
          const got = [...log.records()];
          if (got.length !== expected.length) throw new Error(`${when}: scan found ${got.length} records, ${expected.length} appended`);
          got.forEach((r, k) => {
            const e = expected[k]!;
            if (r.position !== e.position || !r.payload.equals(e.payload)) {
              throw new Error(`${when}: record ${k} of the scan at ${r.position} (${r.payload.length} B), expected record ${e.id} at ${e.position} (${e.payload.length} B)`);
            }
          });
        };
        check(handles[0]!, 'scan on handle 0');
        check(handles[1]!, 'scan on handle 1');
        handles.forEach((l) => l.close());
        const fresh = CommitLog.open(dir, { segmentBytes: SEGMENT_BYTES });
        totalSegments += fresh.segmentCount();
        handles[0] = fresh;
        const rec = fresh.recovery;
        if (rec.truncatedBytes !== 0 || rec.paddedBytes !== 0 || rec.corrupt.length !== 0) throw new Error(`reopen after close repaired: ${JSON.stringify(rec)}`);
        check(fresh, 'scan after reopen');
        totalRecords += appended.length;
        totalOps += ops.length;
      } finally {
        handles.forEach((l) => l.close());
        removeDir(dir);
      }
    }),
    { numRuns: Number(process.env.MQLAB_CHUNKED_MODEL_RUNS ?? 80) },
  );
  t.ok(totalRecords > 0, `${totalOps} operations, ${totalRecords} records, ${totalSegments} segments over the runs, ${Date.now() - started} ms`);
  t.end();
});
