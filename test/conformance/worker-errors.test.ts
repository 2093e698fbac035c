/**
 * A conformance task that fails on a worker thread reports the error with its code and details,
 * and the harness rethrows it with both (the error crosses in core/threads' wire form).
 */
import * as path from 'node:path';
import t from 'tap';
import { DEFAULT_TIMEOUTS } from '../../conformance/adapters/common';
import { HistoryRecorder } from '../../conformance/history/recorder';
import { runWorkerTask, type WorkerTaskInput } from '../../conformance/suites/framework/worker-tasks';
import { createWorkerPool } from '../../conformance/suites/framework/workers';
import { isMqlabError, type MqlabError } from '../../core/errors';

const FIXTURE = path.join(__dirname, 'fixtures', 'factory-throws-typed.ts');
const task = { kind: 'log-send', topic: 't', records: [{ key: 'k', value: 'v', id: 'm1' }], acks: 'all', batchSize: 1 } as unknown as WorkerTaskInput['task'];

t.test('the task reports the error in wire form: code, message, details', async (t) => {
  const out = await runWorkerTask({ model: 'kafka', spec: { modulePath: FIXTURE, options: {}, data: null }, origin: '0', scope: 'w1.', timeouts: DEFAULT_TIMEOUTS, task });
  t.same(out.error, { code: 'ERR_NO_SPACE', message: 'cannot open the log: no space left on device', details: { errno: 'ENOSPC', dir: '/data/t' } });
  t.equal(out.sent, 0);
});

t.test('through a real worker pool, the harness rethrows it with code and details', async (t) => {
  const pool = createWorkerPool('kafka', async () => ({ modulePath: FIXTURE, options: {}, data: null }), new HistoryRecorder(), DEFAULT_TIMEOUTS, 1);
  t.teardown(() => pool.close());
  const e = await pool.run(task).then(() => null, (err: unknown) => err);
  t.ok(isMqlabError(e, 'ERR_NO_SPACE'), 'the code crossed');
  t.same((e as MqlabError).details, { errno: 'ENOSPC', dir: '/data/t' }, 'and the details');
  t.match((e as Error).message, /^worker task log-send: cannot open the log: no space left on device$/);
});
