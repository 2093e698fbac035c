/** Producers on worker threads (piscina): their operations land in the same history, by time. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { resolveAdapter } from '../../conformance/adapter-loader';
import { readHistory } from '../../conformance/history/jsonl';
import { runConformance } from '../../conformance/runner';

t.test('an adapter with workerSpec gets its producers run on worker threads', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-workers-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = await runConformance({
    model: 'kafka',
    adapter: resolveAdapter('kafka', path.join(__dirname, 'fixtures', 'worker-log.ts')),
    seed: 99,
    long: false,
    threads: 2,
    filter: ['ordering/per-partition-fifo'],
    historyDir: dir,
    scale: { messages: 90, idleMs: 80 },
  });
  t.same(run.counts, { pass: 1, fail: 0, skip: 0 }, run.results[0]?.reason ?? '');
  const h = readHistory(run.results[0]!.historyFile!);
  const workerSends = h.ops.filter((o) => o.f === 'send' && o.type === 'ok' && /^w\d+\./.test(o.process));
  t.equal(workerSends.length, 9, 'three worker tasks each sent three batches of ten');
  t.ok(h.ops.every((o, i) => i === 0 || h.ops[i - 1]!.time <= o.time), 'merged history is in time order');
});

t.test('consumers run on worker threads too where the adapter worker side can consume', async (t) => {
  const cases = [['kafka', 'builtin', 'ordering/per-partition-fifo'], ['rabbitmq', 'builtin', 'ordering/queue-fifo'], ['rocketmq', 'builtin', 'ordering/per-queue-fifo'], ['kafka', 'memory', 'ordering/per-partition-fifo'], ['rocketmq', 'memory', 'ordering/per-queue-fifo'], ['rabbitmq', 'memory', 'ordering/queue-fifo']] as const;
  for (const [model, adapter, check] of cases) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-workers-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const run = await runConformance({ model, adapter: resolveAdapter(model, adapter), seed: 7, long: false, threads: 2, filter: [check], historyDir: dir, scale: { messages: 90, idleMs: 80 } });
    t.same(run.counts, { pass: 1, fail: 0, skip: 0 }, `${model}: ${run.results[0]?.reason ?? ''}`);
    const h = readHistory(run.results[0]!.historyFile!);
    const polls = h.ops.filter((o) => o.f === 'poll' && o.type === 'ok');
    const onWorkers = polls.filter((o) => /^w\d+\./.test(o.process));
    const delivered = onWorkers.reduce((n, o) => n + ((o.value as { messages?: unknown[] }).messages?.length ?? 0), 0);
    t.equal(delivered, 90, `${model} (${adapter}): the worker consumer received all 90`);
    t.equal(polls.length, onWorkers.length, `${model}: no delivery was read on the main thread`);
    t.ok(h.ops.some((o) => o.f === 'drain' && o.type === 'ok'), `${model}: the target was marked drained after the worker consumer went quiet`);
    t.ok(h.ops.every((o, i) => i === 0 || h.ops[i - 1]!.time <= o.time), `${model}: merged history is in time order`);
  }
});

t.test('with one thread, or an adapter whose workers only produce, consumers stay on the main thread', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-workers-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = await runConformance({ model: 'rabbitmq', adapter: resolveAdapter('rabbitmq', 'builtin'), seed: 7, long: false, threads: 1, filter: ['ordering/queue-fifo'], historyDir: dir, scale: { messages: 30, idleMs: 80 } });
  t.same(run.counts, { pass: 1, fail: 0, skip: 0 }, run.results[0]?.reason ?? '');
  const h = readHistory(run.results[0]!.historyFile!);
  const polls = h.ops.filter((o) => o.f === 'poll' && o.type === 'ok');
  t.ok(polls.length > 0 && polls.every((o) => !/^w\d+\./.test(o.process)), 'one thread: deliveries recorded by the main thread');
  t.ok(h.ops.some((o) => o.f === 'send' && /^w\d+\./.test(o.process)), 'producers still on the worker');
});
