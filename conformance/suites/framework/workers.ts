/**
 * A piscina pool that runs producer and consumer tasks (worker-tasks.ts) on worker threads, for adapters
 * that declare `worker-threads` and can describe themselves with `workerSpec()`. Each task gets
 * a fresh WorkerSpec (a spec may carry a MessagePort, which can be transferred only once).
 */
import Piscina from 'piscina';
import * as path from 'node:path';
import { MqlabError } from '../../../core/errors';
import { workerEntry } from '../../../core/threads';
import type { ModelName, OperationTimeouts, WorkerSpec } from '../../adapters/common';
import type { HistoryRecorder } from '../../history/recorder';
import type { WorkerTask, WorkerTaskInput, WorkerTaskOutput } from './worker-tasks';

export interface WorkerPool {
  readonly threads: number;
  /** Runs a task on a worker; its recorded operations are merged into the history. Resolves with how many messages it completed. */
  run(task: WorkerTask): Promise<number>;
  /**
   * Whether the adapter's worker side can consume too (asked once, on a worker). Some adapters
   * serve only producers to workers; their checks keep consumers on the main thread, and so does
   * a pool of one thread (a consumer task holds its thread while producers run).
   */
  consumers(): Promise<boolean>;
  close(): Promise<void>;
}

export function createWorkerPool(model: ModelName, specOf: () => Promise<WorkerSpec>, recorder: HistoryRecorder, timeouts: OperationTimeouts, threads: number): WorkerPool {
  const pool = new Piscina({ ...workerEntry(path.join(__dirname, 'worker-tasks.ts')), minThreads: 0, maxThreads: threads, idleTimeout: 1000 });
  let n = 0;
  let consumers: Promise<boolean> | null = null;
  // A worker that dies or posts garbage surfaces as an 'error' event; unhandled, it would end the process.
  let poolError: Error | null = null;
  pool.on('error', (e: Error) => {
    poolError = e;
  });
  return {
    threads,
    async run(task) {
      const spec = await specOf();
      const { transferList, ...rest } = spec;
      const input: WorkerTaskInput = { model, spec: rest, origin: recorder.originNs.toString(), scope: `w${++n}.`, timeouts, task };
      let out: WorkerTaskOutput;
      try {
        out = (await pool.run(input, transferList && transferList.length > 0 ? { transferList: transferList as never } : {})) as WorkerTaskOutput;
      } catch (e) {
        throw new MqlabError('ERR_WORKER', `worker task ${task.kind} failed: ${(poolError ?? (e as Error)).message}`);
      }
      if (poolError) throw new MqlabError('ERR_WORKER', `worker pool failed: ${(poolError as Error).message}`);
      recorder.merge(out.events);
      if (out.error) throw new MqlabError(out.error.code ?? 'ERR_WORKER', `worker task ${task.kind}: ${out.error.message}`, out.error.details);
      return out.sent;
    },
    consumers() {
      // A consumer task holds its thread until the producers are done: it needs one of its own.
      consumers ??= threads < 2 ? Promise.resolve(false) : this.run({ kind: 'probe-consumers' }).then((ok) => ok > 0, () => false);
      return consumers;
    },
    async close() {
      await pool.destroy();
    },
  };
}
