/**
 * The piscina task that runs one producer or one consumer of a workload on a worker thread.
 * It builds its own driver from the DriverSpec, reports readiness and live counters through a
 * SharedArrayBuffer (no messages on the hot path), and returns its totals — and, for consumers,
 * the end-to-end latency histogram — when the runner moves the shared phase on.
 *
 * Control block (shared with run-workload.ts):
 *   Int32 [0] phase  0 setup · 1 go · 2 stop producing · 3 stop consuming
 *   Int32 [1] ready  workers that created their producer/consumer
 *   Float64 [1] start time (ns, nowNs clock), [2] warm-up end (ns)
 *   Float64 [4 + 2k], [5 + 2k]: worker k's messages and bytes so far
 */
import { build, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { loadDriverModule } from './load-driver';
import { waitChange } from './wait-change';
import { threadCpuSec } from './thread-cpu';
import { nowNs, type BenchProducer, type ConsumerCallback, type DriverSpec, type MessageBatch, type WorkerAssignment, type Workload } from './driver';

export const PHASE = { setup: 0, go: 1, stopProducing: 2, stopConsuming: 3 } as const;
export const CTL_PHASE = 0;
export const CTL_READY = 1;
export const F_START = 1;
export const F_WARM_END = 2;
export const F_COUNTERS = 4;

export interface WorkerTask {
  spec: DriverSpec;
  workload: Workload;
  assignment: WorkerAssignment;
  link: unknown;
  control: SharedArrayBuffer;
  /** Which counter pair is this worker's. */
  slot: number;
  /** Producers: messages per second for this producer (0 = as fast as possible). */
  rate: number;
  /** Producers: stop after this many messages (undefined = until phase 2). */
  quota?: number;
  /**
   * Producers at rate 0: pause while more than this many messages (over all producers) are sent
   * but not yet delivered to every subscription, so a full-speed run measures the engine's
   * sustained rate rather than how big a queue it can build (and the drain after it stays short).
   */
  backlogCap?: number;
  /** Counter slots of all producers and consumers, and the deliveries each message needs. */
  producerSlots?: number[];
  consumerSlots?: number[];
  fanout?: number;
  /** Consumers: record the latency of one message in this many. */
  sampleEvery: number;
}

export interface WorkerOutcome {
  kind: 'producer' | 'consumer';
  messages: number;
  bytes: number;
  error?: string;
  /** Consumers: HDR histogram of end-to-end latency in ns, compressed base64. */
  histogram?: string;
  /** CPU time this worker thread used from "go" to its end (undefined where not measurable). */
  cpuSec?: number;
}

/** Highest latency the histogram tracks (ns): one hour. */
export const HISTOGRAM_MAX_NS = 3_600_000_000_000;
export function newLatencyHistogram() {
  return build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: HISTOGRAM_MAX_NS, numberOfSignificantValueDigits: 3 });
}

const MAX_BATCH_BYTES = 128 * 1024;
const MAX_BATCH_MESSAGES = 1000;
const IN_FLIGHT_BATCHES = 8;
/** Shortest pacing sleep of a fixed-rate producer (ms). */
const PACE_MIN_MS = 0.02;
/**
 * MQLAB_BENCH_PACING=spin: a fixed-rate producer waits for its next message by yielding to the
 * event loop (busy, a whole core) instead of sleeping on a futex: lower median latency (no timer
 * slack), at the price of one core — the way to compare the two on a given machine.
 */
const SPIN_PACING = process.env.MQLAB_BENCH_PACING === 'spin';

function phaseOf(ctl: Int32Array): number {
  return Atomics.load(ctl, CTL_PHASE);
}

async function waitPhase(ctl: Int32Array, atLeast: number): Promise<void> {
  for (;;) {
    const p = Atomics.load(ctl, CTL_PHASE);
    if (p >= atLeast) return;
    await waitChange(ctl, CTL_PHASE, p, 100);
  }
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
function yieldTurn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

function keyPool(kind: Workload['keyDistributor']): string[] | undefined {
  if (kind === 'NO_KEY') return undefined;
  return Array.from({ length: 1024 }, (_, i) => `key-${i}`);
}

async function runProducer(task: WorkerTask, producer: BenchProducer, ctl: Int32Array, f: Float64Array): Promise<void> {
  const size = task.workload.messageSize;
  const batchMax = Math.max(1, Math.min(MAX_BATCH_MESSAGES, Math.floor(MAX_BATCH_BYTES / size)));
  // A small pool of batch buffers: a buffer is reused only after its send settled.
  const pool: Uint8Array[] = [];
  for (let i = 0; i < IN_FLIGHT_BATCHES; i++) {
    const b = new Uint8Array(batchMax * size);
    for (let j = 0; j < b.length; j++) b[j] = (j * 31 + i) & 0xff;
    pool.push(b);
  }
  const views = pool.map((b) => new DataView(b.buffer, b.byteOffset, b.byteLength));
  const inFlight: Array<Promise<void> | undefined> = new Array(IN_FLIGHT_BATCHES).fill(undefined);
  const keys = keyPool(task.workload.keyDistributor);
  let keyCursor = 0;
  let next = 0; // pool index
  let sent = 0; // messages handed to the driver
  let failure: unknown;
  const counter = F_COUNTERS + 2 * task.slot;
  const start = f[F_START]!;
  const interval = task.rate > 0 ? 1e9 / task.rate : 0;
  const quota = task.quota ?? Number.POSITIVE_INFINITY;
  const pacer = new Int32Array(new SharedArrayBuffer(4));
  let idleWaits = 0;

  // Whether the send of each pool buffer settled (so the loop awaits only a send still running:
  // at a fixed rate it runs once per wake-up, and every await is garbage).
  const settled: boolean[] = new Array(IN_FLIGHT_BATCHES).fill(true);
  const sendBatch = (idx: number, count: number): Promise<void> => {
    const data = pool[idx]!;
    const batchKeys = keys ? Array.from({ length: count }, () => (task.workload.keyDistributor === 'RANDOM_NANO' ? keys[(Math.random() * keys.length) | 0] : keys[keyCursor++ & 1023])) : undefined;
    let sending: Promise<unknown>;
    try {
      if (producer.sendBatch) {
        const batch: MessageBatch = { data: count * size === data.length ? data : data.subarray(0, count * size), count, size };
        if (batchKeys) batch.keys = batchKeys;
        sending = producer.sendBatch(batch);
      } else {
        const ps: Promise<void>[] = [];
        for (let j = 0; j < count; j++) ps.push(producer.send(batchKeys?.[j], data.subarray(j * size, (j + 1) * size)));
        sending = Promise.all(ps);
      }
    } catch (e) {
      sending = Promise.reject(e);
    }
    return sending.then(
      () => {
        f[counter] = f[counter]! + count;
        f[counter + 1] = f[counter + 1]! + count * size;
        settled[idx] = true;
      },
      (e: unknown) => {
        failure ??= e;
        settled[idx] = true;
      },
    );
  };

  const backlog = (): number => {
    let out = 0;
    for (const k of task.producerSlots ?? []) out += f[F_COUNTERS + 2 * k]!;
    let delivered = 0;
    for (const k of task.consumerSlots ?? []) delivered += f[F_COUNTERS + 2 * k]!;
    return out - delivered / (task.fanout ?? 1);
  };
  const cap = interval === 0 && task.backlogCap !== undefined ? task.backlogCap : Number.POSITIVE_INFINITY;

  while (failure === undefined && sent < quota && phaseOf(ctl) < PHASE.stopProducing) {
    let count: number;
    if (interval === 0) {
      if (cap !== Number.POSITIVE_INFINITY && backlog() > cap) {
        await yieldTurn();
        continue;
      }
      count = Math.min(batchMax, quota - sent);
    } else {
      const now = nowNs();
      const due = Math.floor((now - start) / interval) + 1 - sent;
      if (due <= 0) {
        const gapMs = (start + sent * interval - now) / 1e6;
        if (gapMs > 2) await sleepMs(Math.floor(gapMs - 1));
        else if (SPIN_PACING) await yieldTurn();
        else {
          // Sleep on a futex until the next message is due: the kernel's timer slack (about
          // 50 µs) makes each wake-up carry a few messages, the thread is idle meanwhile, and
          // the event loop still gets a turn every few sends below. Yielding to the event loop
          // instead (setImmediate) spins a whole core, which on a small machine starves the
          // consumer and the engine and costs milliseconds of latency.
          Atomics.wait(pacer, 0, 0, Math.max(PACE_MIN_MS, gapMs));
          if (++idleWaits % 64 === 0) await yieldTurn();
        }
        continue;
      }
      count = Math.min(due, batchMax, quota - sent);
    }
    const idx = next;
    next = (next + 1) % IN_FLIGHT_BATCHES;
    const prev = inFlight[idx];
    if (prev && !settled[idx]) await prev;
    if (failure !== undefined) break;
    // Stamp: intended send times at a fixed rate (coordinated omission corrected), now otherwise.
    const view = views[idx]!;
    if (size >= 8) {
      if (interval === 0) {
        const t = nowNs();
        for (let j = 0; j < count; j++) view.setFloat64(j * size, t, true);
      } else {
        for (let j = 0; j < count; j++) view.setFloat64(j * size, start + (sent + j) * interval, true);
      }
    }
    sent += count;
    settled[idx] = false;
    inFlight[idx] = sendBatch(idx, count);
    // Give the event loop a turn now and then so driver callbacks (acks) are served.
    if ((next & 3) === 0) await yieldTurn();
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
}

function consumerCallback(task: WorkerTask, f: Float64Array, hist: ReturnType<typeof newLatencyHistogram>): ConsumerCallback {
  const counter = F_COUNTERS + 2 * task.slot;
  const every = Math.max(1, task.sampleEvery);
  let seen = 0;
  let messages = 0;
  let bytes = 0;
  const record = (stamp: number, now: number): void => {
    // Only messages sent after warm-up, and a sane stamp (a payload shorter than 8 bytes has none).
    if (!(stamp >= f[F_WARM_END]!)) return;
    const lat = now - stamp;
    hist.recordValue(lat < 1 ? 1 : lat > HISTOGRAM_MAX_NS ? HISTOGRAM_MAX_NS : Math.round(lat));
  };
  return {
    onMessage(payload: Uint8Array, publishTimestampNs?: number): void {
      messages++;
      bytes += payload.length;
      f[counter] = messages;
      f[counter + 1] = bytes;
      if (++seen >= every) {
        seen = 0;
        const stamp = publishTimestampNs ?? (payload.length >= 8 ? new DataView(payload.buffer, payload.byteOffset, 8).getFloat64(0, true) : Number.NaN);
        record(stamp, nowNs());
      }
    },
    onBatch(batch: MessageBatch): void {
      messages += batch.count;
      bytes += batch.count * batch.size;
      f[counter] = messages;
      f[counter + 1] = bytes;
      if (batch.size < 8) return;
      const view = new DataView(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength);
      const now = nowNs();
      let j = every - 1 - seen;
      for (; j < batch.count; j += every) record(view.getFloat64(j * batch.size, true), now);
      seen = (seen + batch.count) % every;
    },
  };
}

export default async function runWorkerTask(task: WorkerTask): Promise<WorkerOutcome> {
  const ctl = new Int32Array(task.control, 0, 4);
  const f = new Float64Array(task.control);
  const counter = F_COUNTERS + 2 * task.slot;
  const kind = task.assignment.kind;
  const driver = loadDriverModule(task.spec).createDriver(task.spec.options ?? {});
  let error: string | undefined;
  let histogram: string | undefined;
  let readyMarked = false;
  let cpuAtGo: number | undefined;
  const markReady = (): void => {
    if (readyMarked) return;
    readyMarked = true;
    Atomics.add(ctl, CTL_READY, 1);
    Atomics.notify(ctl, CTL_READY);
  };
  try {
    await driver.initialize(task.workload, { role: 'worker', link: task.link, assignment: task.assignment });
    if (kind === 'producer') {
      const producer = await driver.createProducer(task.assignment.topic);
      markReady();
      await waitPhase(ctl, PHASE.go);
      cpuAtGo = threadCpuSec();
      try {
        await runProducer(task, producer, ctl, f);
      } finally {
        await producer.close();
      }
    } else {
      const hist = newLatencyHistogram();
      const consumer = await driver.createConsumer(task.assignment.topic, task.assignment.subscription ?? 'sub-0', consumerCallback(task, f, hist));
      markReady();
      await waitPhase(ctl, PHASE.go);
      cpuAtGo = threadCpuSec();
      await waitPhase(ctl, PHASE.stopConsuming);
      await consumer.close();
      histogram = encodeIntoCompressedBase64(hist);
    }
  } catch (e) {
    error = e instanceof Error ? `${(e as { code?: string }).code ? `${(e as { code?: string }).code}: ` : ''}${e.message}` : String(e);
    // Count a failed worker as ready so the runner does not wait for it, then let it see the error.
    markReady();
  } finally {
    try {
      await driver.close();
    } catch (e) {
      error ??= `close failed: ${(e as Error).message}`;
    }
  }
  const cpuAtEnd = threadCpuSec();
  const outcome: WorkerOutcome = { kind, messages: f[counter]!, bytes: f[counter + 1]! };
  if (cpuAtGo !== undefined && cpuAtEnd !== undefined) outcome.cpuSec = cpuAtEnd - cpuAtGo;
  if (error !== undefined) outcome.error = error;
  if (histogram !== undefined) outcome.histogram = histogram;
  return outcome;
}
