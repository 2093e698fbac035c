import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Test } from 'tap';
import { RocketCluster, type ClusterOptions } from '../../core/rocketmq';

/** A fresh data directory, removed when the test ends. */
export function tempDir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-rocketmq-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A cluster on a fake clock (`clock.now` moves only when the test says so). */
export function openCluster(t: Test, options: Partial<ClusterOptions> = {}, dir = tempDir(t)) {
  const clock = { now: 1_700_000_000_000 };
  const cluster = new RocketCluster({ dataDir: dir, clock: () => clock.now, ...options });
  t.teardown(() => cluster.close());
  return { cluster, clock, dir };
}

/** Polls `cond` every 5 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
