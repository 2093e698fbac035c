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
