import t from 'tap';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CommitLog } from '../../core/log';
import { workerEntry } from '../../core/threads/worker-entry';
import { removeDir, tempDir } from './helpers';

t.test("flush 'sync': write resolves only once durable; concurrent writes share syncs", async (t) => {
  const dir = tempDir('flush-sync');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir, { flush: 'sync' });
  t.teardown(() => log.close());
  t.equal(log.flushPolicy, 'sync');
  const writes = Array.from({ length: 200 }, (_, i) => log.write(Buffer.from(`r${i}`)));
  const positions = await Promise.all(writes);
  t.equal(positions.length, 200);
  const last = log.read(positions[199]!);
  t.ok(log.durablePosition >= last.next, 'durable covers the last confirmed record');
  t.same(positions, [...log.records()].map((r) => r.position));
});

t.test("flush 'none': write resolves at once, durable() and flushSync make data durable", async (t) => {
  const dir = tempDir('flush-none');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir);
  t.teardown(() => log.close());
  const p = await log.write(Buffer.from('a'));
  t.equal(log.durablePosition, 0, 'nothing synced under none');
  await log.durable(p);
  t.ok(log.durablePosition > p);
  log.append(Buffer.from('b'));
  const end = log.endPosition;
  await log.durable();
  t.equal(log.durablePosition, end);
  log.append(Buffer.from('c'));
  log.flushSync();
  t.equal(log.durablePosition, log.endPosition);
  await t.rejects(log.durable(log.endPosition + 8), { code: 'ERR_OUT_OF_RANGE' });
  await t.rejects(log.durable(-1), { code: 'ERR_INVALID_ARG' });
});

t.test("flush 'async': the background flusher syncs on its interval", async (t) => {
  const dir = tempDir('flush-async');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir, { flush: 'async', flushIntervalMs: 20 });
  t.teardown(() => log.close());
  log.append(Buffer.from('x'));
  const end = log.endPosition;
  const deadline = Date.now() + 5000;
  while (log.durablePosition < end && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.equal(log.durablePosition, end, 'synced without any call');
});

t.test("flush 'async': crossing flushBytes wakes the flusher early", async (t) => {
  const dir = tempDir('flush-bytes');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir, { flush: 'async', flushIntervalMs: 600_000, flushBytes: 4096 });
  t.teardown(() => log.close());
  for (let i = 0; i < 100; i++) log.append(Buffer.alloc(100));
  const deadline = Date.now() + 5000;
  while (log.durablePosition < 4096 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.ok(log.durablePosition >= 4096, `durable ${log.durablePosition} although the interval is 10 minutes`);
});

t.test('close rejects pending durable promises with ERR_CLOSED or resolves them', async (t) => {
  const dir = tempDir('flush-close');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir, { flush: 'sync' });
  const pending = Array.from({ length: 20 }, (_, i) => log.write(Buffer.from(`p${i}`)).then(() => 'ok', (e: { code: string }) => e.code));
  log.close();
  const outcomes = await Promise.all(pending);
  t.ok(outcomes.every((o) => o === 'ok' || o === 'ERR_CLOSED'), `outcomes: ${[...new Set(outcomes)].join(',')}`);
});

t.test("flush 'sync' from a worker thread and the main thread on one log", async (t) => {
  const dir = tempDir('flush-worker');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir, { flush: 'sync' });
  t.teardown(() => log.close());
  const { filename, argv } = workerEntry(path.join(__dirname, '..', 'fixtures', 'log-sync-worker.ts'));
  const worker = new Worker(filename, { argv, workerData: { dir } });
  const fromWorker = new Promise<{ count: number; durableCoversLast: boolean }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const mine = await Promise.all(Array.from({ length: 50 }, (_, i) => log.write(Buffer.from(`main-${i}`))));
  const theirs = await fromWorker;
  t.same(theirs, { count: 50, durableCoversLast: true }, 'the worker\'s writes resolved once durable');
  t.ok(log.durablePosition >= log.read(mine[49]!).next, 'so did the main thread\'s');
  t.equal([...log.records()].length, 100);
});
