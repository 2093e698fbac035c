import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { RabbitEngine } from '../../core/rabbitmq';
import { connectRemoteEngine, serveRemoteEngine } from '../../core/rabbitmq/remote';
import type { ConsumeMessage } from '../../core/rabbitmq';

/** Let the engine's pump run (dispatch, store flush, confirms). */
export const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

export function memoryEngine(clock?: () => number): RabbitEngine {
  return RabbitEngine.open(null, clock ? { clock } : {});
}

/** A fake clock for TTL checks. */
export function fakeClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

export function bodies(list: (ConsumeMessage | null)[]): string[] {
  return list.map((m) => (m ? m.content.toString() : 'null'));
}

/** A `get` result that must be a message (fails the test by throwing otherwise). */
export function must<T>(m: T | false): T {
  if (m === false) throw new Error('expected a message, the queue was empty');
  return m;
}

/** Why persistent-engine tests cannot run (the storage core's native addon is not usable), or false. */
export function storageUnavailable(): string | false {
  const dir = mkdtempSync(join(tmpdir(), 'mqlab-rabbit-probe-'));
  try {
    const { CommitLog } = require('../../core/log') as typeof import('../../core/log');
    CommitLog.open(join(dir, 'probe')).close();
    return false;
  } catch (e) {
    return `storage core not usable: ${(e as Error).message}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh directory under the system temp dir, removed when the test ends. */
export function tempDir(t: { teardown: (fn: () => void) => void }, prefix = 'mqlab-rabbit-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A memory engine served over a MessageChannel, and the remote (worker-side) end; all closed when `t` ends. */
export function remotePair(t: { teardown: (fn: () => Promise<void>) => void }) {
  const engine = RabbitEngine.open(null);
  const { port1, port2 } = new MessageChannel();
  const server = serveRemoteEngine(port1, { connect: () => engine.connect() });
  const remote = connectRemoteEngine(port2);
  t.teardown(async () => {
    await remote.close();
    server.close();
    await engine.close();
  });
  return { engine, remote };
}
