import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Test } from 'tap';
import { KafkaEngine, type KafkaEngineOptions } from '../../core/kafka';

/** A fresh data directory, removed when the test ends. */
export function tempDir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-kafka-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An engine on a fake clock (`clock.now` moves only when the test says so). */
export function openEngine(t: Test, options: KafkaEngineOptions = {}, dir = tempDir(t)) {
  const clock = { now: 1_700_000_000_000 };
  const engine = KafkaEngine.open(dir, { clock: () => clock.now, retentionCheckIntervalMs: 0, ...options });
  t.teardown(() => engine.close());
  return { engine, clock, dir };
}

export const str = (b: Buffer | null) => (b === null ? null : b.toString('utf8'));
