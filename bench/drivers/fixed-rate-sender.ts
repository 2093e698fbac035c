/**
 * The fixed-rate producer loop of the in-process e2e benchmarks (rabbitmq.e2e.100B,
 * rocketmq.e2e.100B): message i is due at start + i × interval and is sent once its time has
 * come; the caller stamps it with that intended time, so latency counts any lateness of the
 * producer (coordinated omission corrected).
 *
 * Between rounds the loop gives the event loop one turn (the engine delivers and consumers run),
 * then sleeps on a futex until just before the next due time and spins the rest with few clock
 * reads. A wait that went round the event loop instead (a promise, an immediate and a bigint per
 * lap, millions of laps a second) made garbage fast enough for a young-generation collection
 * every few milliseconds, and messages due during one were late by its length.
 */

const yieldTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
const SLEEPER = new Int32Array(new SharedArrayBuffer(4));
/** How much earlier than due the loop wakes (covers the futex wake-up overshoot). */
const WAKE_EARLY_NS = 60_000;

let spinSink = 0;
/** About a microsecond of work that allocates nothing, between the clock reads of a spin wait. */
function spinPause(): void {
  let x = spinSink;
  for (let i = 0; i < 512; i++) x = (x * 1103515245 + 12345) | 0;
  spinSink = x;
}

export interface FixedRatePlan {
  /** Time of message 0, in `now()` units (ns). */
  start: number;
  intervalNs: number;
  total: number;
  now: () => number;
  /** Sends message i, due at start + i × intervalNs. */
  send: (i: number) => void;
}

/** Sends `total` messages on schedule; resolves once the last one was sent. */
export async function sendAtFixedRate({ start, intervalNs, total, now, send }: FixedRatePlan): Promise<void> {
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor((now() - start) / intervalNs) + 1);
    while (sent < due) {
      send(sent);
      sent++;
      // Behind schedule (after a stall), the backlog goes out in rounds of 8, each delivered
      // before the next, so an early message does not wait for a long round to be sent.
      if ((sent & 7) === 0 && sent < due) await yieldTurn();
    }
    await yieldTurn();
    if (sent >= total) break;
    const nextDue = start + sent * intervalNs;
    const waitNs = nextDue - now();
    if (waitNs > WAKE_EARLY_NS + 20_000) Atomics.wait(SLEEPER, 0, 0, (waitNs - WAKE_EARLY_NS) / 1e6);
    while (now() < nextDue) spinPause();
  }
}
