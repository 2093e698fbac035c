/**
 * Hostile input for every public entry point of the addon (native functions called directly, and
 * the CommitLog / IndexFile wrappers): random values of every type, huge and negative numbers,
 * NaN, wrong typed arrays, use after close. The only acceptable outcomes are a normal return or
 * an MqlabError with a storage code, and the log must stay intact.
 */
import t from 'tap';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMqlabError } from '../../core/errors';
import { CommitLog, IndexFile } from '../../core/log';
import { nativeAddon } from '../../core/log/native';
import { codeOf, removeDir, tempDir } from './helpers';

const CODES = new Set(['ERR_INVALID_ARG', 'ERR_RECORD_TOO_LARGE', 'ERR_OUT_OF_RANGE', 'ERR_CLOSED', 'ERR_LOCKED', 'ERR_CORRUPT',
  'ERR_NO_SPACE', 'ERR_IO', 'ERR_READ_ONLY']);

const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything(),
  fc.double(),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -1, -0, 0.5, 2 ** 53, 2 ** 53 + 2, 2 ** 64, -(2 ** 63), 2 ** 32, 2 ** 31, 0xffffffff),
  fc.integer(),
  fc.bigInt(),
  fc.string(),
  fc.constant(undefined),
  fc.constant(null),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.uint8Array({ maxLength: 64 }),
  fc.constantFrom(new Float64Array(4), new Uint16Array(8), new Int8Array(3), new DataView(new ArrayBuffer(8)), new ArrayBuffer(16),
    new Uint8ClampedArray(4), new Uint8Array(new SharedArrayBuffer(12)), new Uint32Array([3, 1]), new Uint32Array(0),
    new Uint32Array([0xffffffff, 1]), new Uint32Array([4, 4, 4, 4]), Symbol('s'), () => 1, Object.create(null), [[]], [1, 2]),
  fc.array(fc.oneof(fc.uint8Array({ maxLength: 16 }), fc.anything()), { maxLength: 5 }),
);

/** Calls fn; returns an error description if it threw anything other than a storage MqlabError. */
function outcome(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (isMqlabError(e) && CODES.has(e.code)) return undefined;
    return `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  }
}

for (const appendMode of [0, 1])
t.test(`native log functions (appendMode ${appendMode ? 'chunked' : 'ordered'}): hostile arguments give typed errors, the log stays intact`, (t) => {
  const dir = tempDir('fuzz-log');
  t.teardown(() => removeDir(dir));
  const addon = nativeAddon();
  const scratch = new Float64Array(3);
  const n = addon.openLog(fs.realpathSync(dir), 4096, 1000, 0, 1000, 1 << 20, scratch, () => undefined, Buffer.alloc(64), appendMode);
  const good: Array<{ position: number; payload: Buffer }> = [];
  const fns = ['append', 'appendBatch', 'appendPacked', 'read', 'readBatch', 'readBatchInto', 'requestDurable', 'idle', 'applyRetention', 'startPosition', 'segmentCount', 'roll', 'activeSegmentBase', 'tailPosition'] as const;
  fc.assert(
    fc.property(fc.constantFrom(...fns), fc.array(hostile, { maxLength: 4 }), (name, args) => {
      const fn = (n as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
      let result: unknown;
      const bad = outcome(() => (result = fn(...args)));
      if (bad) throw new Error(`${name}(${args.map((a) => typeof a).join(', ')}) ${bad}`);
      if (name === 'append' && typeof result === 'number') good.push({ position: result, payload: Buffer.from(args[0] as Uint8Array) });
    }),
    { numRuns: 3000 },
  );
  n.idle();
  // Every accepted append is still readable, byte for byte (unless retention removed its segment).
  const start = n.startPosition();
  let checked = 0;
  for (const g of good) {
    if (g.position < start) continue;
    const got = n.read(g.position);
    t.ok(typeof got === 'number' ? got === g.payload.length : got.equals(g.payload), `record at ${g.position}`);
    checked++;
  }
  t.ok(good.length > 0, `${good.length} hostile calls were valid appends (${checked} checked)`);
  n.close();
  for (const name of [...fns.filter((f) => f !== 'idle'), 'flushSync'] as const) {
    const fn = (n as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
    t.equal(codeOf(() => fn(Buffer.from('x'), 0, 1)), 'ERR_CLOSED', `${name} after close`);
  }
  t.equal(codeOf(() => n.idle()), 'no error', 'idle after close is a no-op');
  n.close();
  t.end();
});

t.test('native openLog / openIndexFile / benchFrameCopy / crc32c / crc32cPortable / init: hostile arguments give typed errors', (t) => {
  const root = tempDir('fuzz-open');
  t.teardown(() => removeDir(root));
  const addon = nativeAddon();
  let k = 0;
  // Paths are either hostile values, relative strings, or fresh directories under `root`: the
  // fuzzer must never create files elsewhere.
  const dirArb = fc.oneof(hostile.filter((v) => typeof v !== 'string'), fc.string().map((s) => s.replace(/^\/+/, '')),
    fc.constant(null).map(() => {
      const d = path.join(root, `d${k++}`);
      fs.mkdirSync(d);
      return d;
    }));
  fc.assert(
    fc.property(dirArb, fc.array(hostile, { minLength: 0, maxLength: 8 }), (dir, rest) => {
      const bad = outcome(() => {
        const log = (addon.openLog as unknown as (...a: unknown[]) => { close(): void })(dir, ...rest);
        log.close();
      });
      if (bad) throw new Error(`openLog ${bad}`);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(dirArb, fc.array(hostile, { maxLength: 3 }), (dir, rest) => {
      const file = typeof dir === 'string' && dir.startsWith(root) ? path.join(dir, 'f.idx') : dir;
      const bad = outcome(() => {
        const ix = (addon.openIndexFile as unknown as (...a: unknown[]) => { close(): void })(file, ...rest);
        ix.close();
      });
      if (bad) throw new Error(`openIndexFile ${bad}`);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(hostile, hostile, (a, b) => {
      // benchFrameCopy only with small counts: a valid call really runs the loop.
      const count = typeof b === 'number' && b > 1000 ? 1000 : b;
      const bad = outcome(() => (addon.benchFrameCopy as unknown as (...x: unknown[]) => unknown)(typeof a === 'string' ? root : a, 100, count));
      if (bad) throw new Error(`benchFrameCopy ${bad}`);
      const bad2 = outcome(() => (addon.crc32c as unknown as (x: unknown) => unknown)(a));
      if (bad2) throw new Error(`crc32c ${bad2}`);
      const bad3 = outcome(() => (addon.crc32cPortable as unknown as (x: unknown) => unknown)(a));
      if (bad3) throw new Error(`crc32cPortable ${bad3}`);
      const bad4 = outcome(() => (addon.crc32cFrame as unknown as (...x: unknown[]) => unknown)(a, b, a));
      if (bad4) throw new Error(`crc32cFrame ${bad4}`);
    }),
    { numRuns: 300 },
  );
  t.equal(codeOf(() => (addon.init as unknown as (x: unknown) => void)(42)), 'ERR_INVALID_ARG');
  t.end();
});

t.test('native index file functions: hostile arguments give typed errors', (t) => {
  const dir = tempDir('fuzz-index');
  t.teardown(() => removeDir(dir));
  const ix = nativeAddon().openIndexFile(path.join(dir, 'a.idx'), 8, 4096);
  const fns = ['count', 'append', 'appendMany', 'read', 'readRange', 'write', 'truncate'] as const;
  fc.assert(
    fc.property(fc.constantFrom(...fns), fc.array(hostile, { maxLength: 3 }), (name, args) => {
      const fn = (ix as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
      const bad = outcome(() => fn(...args));
      if (bad) throw new Error(`${name} ${bad}`);
    }),
    { numRuns: 3000 },
  );
  ix.close();
  for (const name of [...fns, 'flushSync'] as const) {
    const fn = (ix as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
    t.equal(codeOf(() => fn(0, Buffer.alloc(8))), 'ERR_CLOSED', `${name} after close`);
  }
  t.end();
});

t.test('CommitLog and IndexFile wrappers: hostile options and arguments give typed errors', (t) => {
  const root = tempDir('fuzz-wrap');
  t.teardown(() => removeDir(root));
  let k = 0;
  fc.assert(
    fc.property(fc.oneof(hostile, fc.record({ segmentBytes: hostile, maxRecordBytes: hostile, flush: hostile }, { requiredKeys: [] }),
      fc.record({ retention: hostile, clock: hostile, flushBytes: hostile, flushIntervalMs: hostile }, { requiredKeys: [] })), (options) => {
      const bad = outcome(() => CommitLog.open(path.join(root, `l${k++}`), options as never).close());
      if (bad) throw new Error(`CommitLog.open ${bad}`);
      const bad2 = outcome(() => IndexFile.open(path.join(root, `i${k++}.idx`), options as never).close());
      if (bad2) throw new Error(`IndexFile.open ${bad2}`);
    }),
    { numRuns: 200 },
  );
  const log = CommitLog.open(path.join(root, 'main'), { segmentBytes: 8192, maxRecordBytes: 1000 });
  fc.assert(
    fc.property(fc.constantFrom('append', 'appendBatch', 'appendPacked', 'read', 'readBatch', 'readBatchInto', 'applyRetention'), fc.array(hostile, { maxLength: 4 }), (name, args) => {
      const fn = (log as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!.bind(log);
      const bad = outcome(() => fn(...args));
      if (bad) throw new Error(`${name} ${bad}`);
    }),
    { numRuns: 1000 },
  );
  return fc.assert(
    fc.asyncProperty(fc.constantFrom('durable', 'write'), hostile, async (name, arg) => {
      const fn = (log as unknown as Record<string, (a: unknown) => Promise<unknown>>)[name]!.bind(log);
      try {
        await fn(arg);
      } catch (e) {
        if (!(isMqlabError(e) && CODES.has(e.code))) throw new Error(`${name} rejected with ${String(e)}`);
      }
    }),
    { numRuns: 200 },
  ).finally(() => log.close());
});
