import { RabbitEngine } from '../../core/rabbitmq';
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
