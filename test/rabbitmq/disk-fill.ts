/**
 * For the full-disk tests: filling a (small tmpfs) file system, publishing until a full disk
 * nacks (the same loop in process and on a worker thread, fixtures/disk-full-publisher-worker.ts),
 * and the check of what a restart kept.
 */
import * as fs from 'node:fs';

/** Writes zeros into `file` until the file system is full. */
export function fillDisk(file: string): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (const size of [1 << 16, 1 << 12, 1 << 9]) {
      const chunk = Buffer.alloc(size);
      try {
        for (;;) fs.writeSync(fd, chunk);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}


/** A confirm channel, local or remote (worker thread): what the loop needs of it. */
export interface ConfirmPublisher {
  sendToQueue(queue: string, content: Buffer, options: { persistent: boolean }, cb: (err: Error | null) => void): boolean;
  waitForConfirms(): Promise<void>;
}

/** Message `i`: its number, then padding to 1000 bytes (so a damaged body is seen). */
export const fillBody = (i: number): Buffer => Buffer.from(`${i}:`.padEnd(1000, 'x'));

export interface FillResult {
  /** Messages confirmed before the first nack: bodies 0 .. confirmed - 1. */
  confirmed: number;
  /** What waitForConfirms rejected with (null if `limit` was reached first). */
  failure: unknown;
  /** What the nacked publish's confirm callback got. */
  callbackError: Error | null;
}

/** Publishes persistent messages to `queue` one at a time, each confirmed, until one is nacked. */
export async function publishUntilNacked(ch: ConfirmPublisher, queue: string, limit = 10_000): Promise<FillResult> {
  let confirmed = 0;
  let failure: unknown = null;
  let callbackError: Error | null = null;
  while (failure === null && confirmed < limit) {
    ch.sendToQueue(queue, fillBody(confirmed), { persistent: true }, (err) => {
      if (err) callbackError = err;
    });
    try {
      await ch.waitForConfirms();
      confirmed++;
    } catch (e) {
      failure = e;
    }
  }
  return { confirmed, failure, callbackError };
}

/** Publishes bodies `from` .. `from + count - 1` (persistent) and waits for their confirms. */
export async function publishRange(ch: ConfirmPublisher, queue: string, from: number, count: number): Promise<void> {
  for (let k = 0; k < count; k++) ch.sendToQueue(queue, fillBody(from + k), { persistent: true }, () => undefined);
  await ch.waitForConfirms();
}

/** Takes every message from `queue` (no ack) and returns the numbers of those whose body is intact. */
export async function intactBodies(ch: { get(queue: string, o: { noAck: boolean }): Promise<{ content: Buffer } | false> }, queue: string): Promise<number[]> {
  const seen: number[] = [];
  for (let g = await ch.get(queue, { noAck: true }); g; g = await ch.get(queue, { noAck: true })) {
    const i = Number(g.content.toString().split(':')[0]);
    if (g.content.equals(fillBody(i))) seen.push(i);
  }
  return seen;
}
