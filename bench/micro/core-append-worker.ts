// Worker thread for core.append.100B.workers2 (bench/micro/core.ts): opens the shared log and, on
// each {count} message, appends `count` 100-byte records and reports its own start and end times
// (performance.timeOrigin + now(), comparable across threads).
import { parentPort, workerData } from 'node:worker_threads';
import { CommitLog, type AppendMode } from '../../core/log';

const { dir, appendMode } = workerData as { dir: string; appendMode: AppendMode };
const log = CommitLog.open(dir, { appendMode });
const payload = Buffer.alloc(100, 0x42);
parentPort!.on('message', (msg: { count?: number; close?: boolean }) => {
  if (msg.close) {
    log.close();
    parentPort!.close();
    return;
  }
  const count = msg.count!;
  const start = performance.timeOrigin + performance.now();
  for (let i = 0; i < count; i++) log.append(payload);
  const end = performance.timeOrigin + performance.now();
  parentPort!.postMessage({ start, end });
});
parentPort!.postMessage({ ready: true });
