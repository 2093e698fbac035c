/**
 * Default timestamps (no timestamp argument) of every append entry point: the addon's per-handle
 * wall clock extrapolates the TSC between kernel reads (every 20 ms), so they are checked against
 * Date.now() over several of those windows, with the three entry points interleaved on one handle.
 */
import t from 'tap';
import { CommitLog } from '../../core/log';
import { removeDir, tempDir } from './helpers';

t.test('append, appendBatch and appendPacked stamp records within a millisecond of Date.now()', (t) => {
  const dir = tempDir('default-ts');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir);
  t.teardown(() => log.close());
  const one = Buffer.alloc(40, 1);
  const batch = Array.from({ length: 50 }, (_, i) => Buffer.alloc(20 + i, i));
  const packed = Buffer.concat(batch);
  const lengths = Uint32Array.from(batch, (b) => b.length);
  const worst = { append: 0, appendBatch: 0, appendPacked: 0 };
  const checks = { append: 0, appendBatch: 0, appendPacked: 0 };
  let batchStampsDiffer = 0;
  const until = Date.now() + 120;
  while (Date.now() < until) {
    for (const kind of ['append', 'appendBatch', 'appendPacked'] as const) {
      for (let i = 0; i < 100; i++) log.append(one);
      const before = Date.now();
      const first = kind === 'append' ? log.append(one) : kind === 'appendBatch' ? log.appendBatch(batch) : log.appendPacked(packed, lengths);
      const after = Date.now();
      const count = kind === 'append' ? 1 : batch.length;
      const { records } = log.readBatch(first, Infinity, count);
      const ts = records[0]!.timestamp;
      if (records.some((r) => r.timestamp !== ts)) batchStampsDiffer++;
      worst[kind] = Math.max(worst[kind], before - ts, ts - after);
      checks[kind]++;
    }
  }
  for (const kind of ['append', 'appendBatch', 'appendPacked'] as const) {
    t.ok(checks[kind] > 0, `${kind}: checked ${checks[kind]} times`);
    t.ok(worst[kind] <= 1, `${kind}: within 1 ms of Date.now() (worst ${worst[kind]} ms)`);
  }
  t.equal(batchStampsDiffer, 0, 'every record of a batch carries the same timestamp');
  t.end();
});

t.test('two handles in one thread each keep a correct clock', (t) => {
  const a = tempDir('default-ts-a');
  const b = tempDir('default-ts-b');
  t.teardown(() => {
    removeDir(a);
    removeDir(b);
  });
  const la = CommitLog.open(a);
  const lb = CommitLog.open(b);
  t.teardown(() => {
    la.close();
    lb.close();
  });
  const payload = Buffer.alloc(10);
  let worst = 0;
  const until = Date.now() + 60;
  while (Date.now() < until) {
    const before = Date.now();
    const pa = la.append(payload);
    const pb = lb.append(payload);
    const after = Date.now();
    for (const ts of [la.read(pa).timestamp, lb.read(pb).timestamp]) worst = Math.max(worst, before - ts, ts - after);
  }
  t.ok(worst <= 1, `both logs within 1 ms of Date.now() (worst ${worst} ms)`);
  t.end();
});
