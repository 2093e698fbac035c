import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { CommitLog } from '../../core/log';
import { workerEntry } from '../../core/threads/worker-entry';
import { removeDir, tempDir } from './helpers';

const WORKER = path.join(__dirname, '..', 'fixtures', 'log-append-worker.ts');

function runWorker(data: Record<string, unknown>, file = WORKER): Promise<{ id: number; done: number }> {
  return new Promise((resolve, reject) => {
    const { filename, argv } = workerEntry(file);
    const w = new Worker(filename, { argv, workerData: data });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => (code !== 0 ? reject(new Error(`worker exited with ${code}`)) : undefined));
  });
}

function verify(t: Test, dir: string, workers: number, count: number, sizes: number | number[]): void {
  const log = CommitLog.open(dir, { segmentBytes: 64 * 1024 });
  const next = new Array<number>(workers).fill(0);
  let total = 0;
  let bad = 0;
  let prevNext = log.startPosition;
  for (const r of log.records()) {
    // A gap is only allowed over padding (the unused end of a chunk): reading there gives nothing.
    if (r.position !== prevNext) {
      const gap = log.readBatch(prevNext);
      if (gap.records.length !== 0 || gap.next !== r.position) bad++;
    }
    prevNext = r.next;
    const m = /^w(\d+):(\d+):/.exec(r.payload.toString('latin1'));
    if (!m || r.payload.length !== (typeof sizes === 'number' ? sizes : sizes[Number(m[1])])) {
      bad++;
      continue;
    }
    const id = Number(m[1]);
    const seq = Number(m[2]);
    const letter = String.fromCharCode(97 + id);
    if (seq !== next[id] || !r.payload.toString('latin1').endsWith(letter)) bad++;
    next[id] = seq + 1;
    total++;
  }
  t.equal(bad, 0, 'no interleaved, torn or reordered frames; positions contiguous');
  t.equal(total, workers * count, 'no lost frames');
  t.same(next, new Array(workers).fill(count), 'each worker\'s records in its own order');
  t.same(log.recovery.corrupt, []);
  log.close();
}

t.test('several worker threads append to one log: nothing lost or interleaved', async (t) => {
  const dir = tempDir('workers');
  t.teardown(() => removeDir(dir));
  const main = CommitLog.open(dir, { segmentBytes: 64 * 1024 });
  const results = await Promise.all([0, 1, 2].map((id) => runWorker({ dir, id, count: 20_000, size: 40 + id * 13, batch: 1 })));
  t.same(results.map((r) => r.done), [20_000, 20_000, 20_000]);
  t.ok(main.segmentCount() > 10, 'the log rolled while the workers appended');
  main.close();
  const log = CommitLog.open(dir, { segmentBytes: 64 * 1024 });
  let n = 0;
  for (const r of log.records()) if (r.payload.length === 40) n++;
  log.close();
  t.equal(n, 20_000);
});

t.test('worker threads mixing append and appendBatch, verified record by record', async (t) => {
  const dir = tempDir('workers-batch');
  t.teardown(() => removeDir(dir));
  await Promise.all([0, 1].map((id) => runWorker({ dir, id, count: 30_000, size: 64, batch: id === 0 ? 1 : 100 })));
  verify(t, dir, 2, 30_000, 64);
});

t.test("appendMode 'chunked': worker threads append to one rolling log, reading back their own records", async (t) => {
  const dir = tempDir('workers-chunked');
  t.teardown(() => removeDir(dir));
  const main = CommitLog.open(dir, { segmentBytes: 64 * 1024 });
  await Promise.all([0, 1, 2].map((id) =>
    runWorker({ dir, id, count: 20_000, size: 40 + id * 13, batch: id === 2 ? 50 : 1, appendMode: 'chunked', readBack: id === 0 })));
  t.ok(main.segmentCount() > 10, 'the log rolled while the workers appended');
  t.equal(main.endPosition, main.tailPosition, 'closing the chunked handles sealed their chunks: everything is readable');
  main.close();
  verify(t, dir, 3, 20_000, [40, 53, 66]);
});

t.test('a worker that exits without closing releases its handle (environment cleanup)', async (t) => {
  const dir = tempDir('workers-leave');
  t.teardown(() => removeDir(dir));
  const main = CommitLog.open(dir, { segmentBytes: 64 * 1024 });
  await runWorker({ dir }, path.join(__dirname, '..', 'fixtures', 'log-leave-open-worker.ts'));
  await new Promise((r) => setTimeout(r, 50));
  t.equal([...main.records()].length, 1000, 'the worker\'s records are visible to the main thread');
  main.close();
  const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'fixtures', 'log-open-child.ts'), dir],
    { encoding: 'utf8', timeout: 60_000 });
  t.equal(child.stdout.trim(), 'opened', 'no handle left behind: another process can open the log');
});

for (const appendMode of ['ordered', 'chunked'] as const)
t.test(`reads stay correct while another thread appends (${appendMode}), segments roll and retention deletes`, async (t) => {
  const dir = tempDir('workers-tail');
  t.teardown(() => removeDir(dir));
  const log = CommitLog.open(dir, { segmentBytes: 64 * 1024, retention: { maxBytes: 256 * 1024 } });
  const count = 100_000;
  let finished = false;
  const writer = runWorker({ dir, count, appendMode }, path.join(__dirname, '..', 'fixtures', 'log-tail-worker.ts')).then(() => (finished = true));
  let pos = 0;
  let expect = 0;
  let bad = 0;
  let skippedByRetention = 0;
  let deleted = 0;
  while (!finished || pos < log.endPosition) {
    let batch: ReturnType<CommitLog['readBatch']>;
    try {
      batch = log.readBatch(pos, 16 * 1024);
    } catch (e) {
      // Retention removed the segment we were about to read: continue from the new start.
      if ((e as { code?: string }).code !== 'ERR_OUT_OF_RANGE' || pos >= log.startPosition) throw e;
      pos = log.startPosition;
      expect = -1;
      skippedByRetention++;
      continue;
    }
    for (const r of batch.records) {
      const i = r.payload.readUInt32LE(0);
      if (expect >= 0 && i !== expect) bad++;
      if (r.payload.length !== 24 + (i % 200) || r.payload[r.payload.length - 1] !== (i & 0xff)) bad++;
      expect = i + 1;
    }
    pos = batch.next;
    if (batch.records.length === 0) await new Promise((r) => setImmediate(r));
    else if (Math.random() < 0.05) deleted += log.applyRetention().deletedSegments;
  }
  await writer;
  t.equal(bad, 0, 'every record read is whole and in order');
  t.equal(expect, count, 'the tail reached the last record');
  t.ok(deleted > 0, `retention deleted ${deleted} segments meanwhile (reader restarted ${skippedByRetention} times)`);
  log.close();
});
