/**
 * The no-op engine: moves payload bytes from producer workers to consumer workers through
 * SharedArrayBuffer rings and does nothing else. It measures the harness itself (rate control,
 * stamping, counting, latency recording, thread hand-off); the engines it is meant to measure
 * must stay well below its figure.
 *
 * Topology: one single-producer single-consumer ring per (topic, producer, subscription,
 * consumer). A producer writes each batch to one consumer of every subscription (round robin
 * over the competing consumers), so each subscription sees every message once. A consumer
 * drains its rings and sleeps on its doorbell (Atomics.waitAsync) when all are empty.
 *
 * Ring layout (SharedArrayBuffer):
 *   Int32 header [head, tail]            head/tail count slots (wrap at 2^31, compared by difference)
 *   slots × (Int32 [count, size] + data) a slot carries one contiguous batch of fixed-size messages
 *
 * Options: `slowdown` (a fraction, e.g. 0.2) or the env var MQLAB_BENCH_NOOP_SLOWDOWN makes the
 * producer and consumer threads that much slower (CPU burnt in proportion to the CPU they use):
 * the deliberate regression the regression gate must catch.
 */
import type { BenchConsumer, BenchDriver, BenchProducer, ConsumerCallback, DriverContext, DriverLink, DriverOptions, MessageBatch, Workload, WorkerAssignment } from './driver';
import { MqlabError } from '../../core/errors';
import { waitChange } from './wait-change';
import { threadCpuSec } from './thread-cpu';

const SLOTS = 64;
const SLOT_HEADER = 8;
const MIN_SLOT_BYTES = 256 * 1024;
/** How long a waiting producer or consumer blocks its worker (futex) before it yields to the event loop. */
const SPIN_MS = 5;
const SENT: Promise<void> = Promise.resolve();

interface NoopLink {
  /** rings[topic][producer][subscription][consumer] */
  rings: SharedArrayBuffer[][][][];
  /** doorbells[topic][subscription]: one Int32 per consumer. */
  doorbells: SharedArrayBuffer[][];
  slotBytes: number;
}

class Ring {
  readonly ctl: Int32Array;
  /** The whole buffer as Int32 (slot headers), so reading one needs no new view. */
  readonly headers: Int32Array;
  readonly bytes: Uint8Array;
  readonly slotStride: number;
  constructor(readonly sab: SharedArrayBuffer, readonly slotBytes: number) {
    this.ctl = new Int32Array(sab, 0, 2);
    this.headers = new Int32Array(sab, 0, sab.byteLength >> 2);
    this.slotStride = SLOT_HEADER + slotBytes;
    this.bytes = new Uint8Array(sab, 8);
  }
  static bytesFor(slotBytes: number): number {
    return 8 + SLOTS * (SLOT_HEADER + slotBytes);
  }
}

function slowdownFraction(options: DriverOptions): number {
  const raw = options.slowdown ?? process.env.MQLAB_BENCH_NOOP_SLOWDOWN;
  if (raw === undefined || raw === null || raw === '') return 0;
  const f = Number(raw);
  if (!Number.isFinite(f) || f < 0 || f >= 0.95) throw new MqlabError('ERR_INVALID_ARG', `noop slowdown must be a fraction from 0 to 0.95, got ${String(raw)}`);
  return f;
}

/**
 * The deliberate regression: keeps this thread's CPU time at 1/(1−s) × the CPU its real work
 * took, by burning the difference at checkpoints (every 16 slots), so each message costs
 * 1/(1−s) as much CPU and the figure drops to (1 − s) of itself (s = 0.2: 20% slower). Thread
 * CPU time counts everything the thread does (harness included) and nothing it waits.
 */
class Slowdown {
  private calls = 0;
  private start: number | undefined;
  private burnt = 0;
  constructor(private readonly fraction: number) {}
  checkpoint(): void {
    if (this.fraction <= 0 || ++this.calls % 16 !== 0) return;
    const now = threadCpuSec();
    if (now === undefined) return;
    this.start ??= now;
    const work = now - this.start - this.burnt;
    const owed = (work * this.fraction) / (1 - this.fraction) - this.burnt;
    if (owed <= 0) return;
    let t = now;
    while (t - now < owed) t = threadCpuSec() ?? Number.POSITIVE_INFINITY;
    this.burnt += t - now;
  }
}

class NoopProducer implements BenchProducer {
  private next = 0;
  private closed = false;
  constructor(
    /** rings[subscription][consumer] */
    private readonly rings: Ring[][],
    private readonly doorbells: Int32Array[],
    private readonly slowdown: Slowdown,
  ) {}

  send(key: string | undefined, payload: Uint8Array): Promise<void> {
    return this.sendBatch({ data: payload, count: 1, size: payload.length, keys: key === undefined ? undefined : [key] });
  }

  sendBatch(batch: MessageBatch): Promise<void> {
    if (this.closed) return Promise.reject(new MqlabError('ERR_CLOSED', 'noop producer is closed'));
    const consumerPick = this.next++;
    const perSlot = Math.max(1, Math.floor(this.slotBytesOf() / Math.max(1, batch.size)));
    // Fast path, no promise of our own: every target ring has room for the whole batch now (each
    // ring has one producer, so its free space can only grow meanwhile).
    const slots = Math.ceil(batch.count / perSlot);
    let room = true;
    for (let s = 0; s < this.rings.length && room; s++) {
      const ring = this.rings[s]![consumerPick % this.rings[s]!.length]!;
      room = SLOTS - ((Atomics.load(ring.ctl, 0) - Atomics.load(ring.ctl, 1)) | 0) >= slots;
    }
    if (!room) return this.sendBatchWaiting(batch, consumerPick, perSlot);
    for (let s = 0; s < this.rings.length; s++) {
      const c = consumerPick % this.rings[s]!.length;
      const ring = this.rings[s]![c]!;
      for (let first = 0; first < batch.count; first += perSlot) this.write(ring, batch, first, Math.min(perSlot, batch.count - first));
      Atomics.add(this.doorbells[s]!, c, 1);
      Atomics.notify(this.doorbells[s]!, c);
    }
    return SENT;
  }

  private async sendBatchWaiting(batch: MessageBatch, consumerPick: number, perSlot: number): Promise<void> {
    for (let s = 0; s < this.rings.length; s++) {
      const subRings = this.rings[s]!;
      const c = consumerPick % subRings.length;
      const ring = subRings[c]!;
      for (let first = 0; first < batch.count; first += perSlot) {
        const n = Math.min(perSlot, batch.count - first);
        await this.put(ring, batch, first, n);
      }
      Atomics.add(this.doorbells[s]!, c, 1);
      Atomics.notify(this.doorbells[s]!, c);
    }
  }

  private slotBytesOf(): number {
    return this.rings[0]?.[0]?.slotBytes ?? MIN_SLOT_BYTES;
  }

  private async put(ring: Ring, batch: MessageBatch, first: number, n: number): Promise<void> {
    let fullSince = 0;
    for (;;) {
      const head = Atomics.load(ring.ctl, 0);
      const tail = Atomics.load(ring.ctl, 1);
      if (((head - tail) | 0) < SLOTS) {
        this.write(ring, batch, first, n);
        return;
      }
      if (this.closed) return;
      // Full: block this worker on the tail (a futex wake-up is a few µs; waking through the
      // event loop costs tens of µs and would pace the ring one slot per wake-up). Bounded, and
      // the event loop gets a turn now and then, so a stopped consumer cannot hang us.
      if (fullSince === 0) fullSince = Date.now();
      Atomics.wait(ring.ctl, 1, tail, 1);
      if (Date.now() - fullSince > SPIN_MS) {
        fullSince = 0;
        await new Promise<void>((r) => setImmediate(r));
      }
    }
  }

  /** Writes messages [first, first + n) of the batch into the ring's next slot (the caller checked there is one). */
  private write(ring: Ring, batch: MessageBatch, first: number, n: number): void {
    const head = Atomics.load(ring.ctl, 0);
    const slot = ((head % SLOTS) + SLOTS) % SLOTS;
    const base = slot * ring.slotStride;
    const header = ring.headers;
    header[(8 + base) >> 2] = n;
    header[((8 + base) >> 2) + 1] = batch.size;
    const bytes = n * batch.size;
    const from = first * batch.size;
    const data = batch.data;
    const to = base + SLOT_HEADER;
    // A loop for small copies: TypedArray#set of a subarray allocates a view per call.
    if (bytes <= 1024) for (let i = 0; i < bytes; i++) ring.bytes[to + i] = data[from + i]!;
    else ring.bytes.set(data.subarray(from, from + bytes), to);
    this.slowdown.checkpoint();
    Atomics.store(ring.ctl, 0, (head + 1) | 0);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

class NoopConsumer implements BenchConsumer {
  private closed = false;
  readonly done: Promise<void>;
  constructor(private readonly rings: Ring[], private readonly doorbell: Int32Array, private readonly bellIndex: number, private readonly callback: ConsumerCallback, private readonly slowdown: Slowdown) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    let idleSince = 0;
    while (!this.closed) {
      const bell = Atomics.load(this.doorbell, this.bellIndex);
      let moved = 0;
      for (const ring of this.rings) moved += this.drain(ring);
      if (moved > 0) {
        idleSince = 0;
        // Let other work on this thread (timers, the harness's stop check) run between drains.
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      if (idleSince === 0) idleSince = Date.now();
      if (Date.now() - idleSince < SPIN_MS) {
        // Block briefly on the doorbell: a futex wake-up is much quicker than the event loop's.
        Atomics.wait(this.doorbell, this.bellIndex, bell, 1);
      } else {
        await waitChange(this.doorbell, this.bellIndex, bell, 20);
        idleSince = 0;
      }
    }
  }

  private drain(ring: Ring): number {
    let moved = 0;
    for (;;) {
      const head = Atomics.load(ring.ctl, 0);
      const tail = Atomics.load(ring.ctl, 1);
      if (head === tail) return moved;
      const slot = ((tail % SLOTS) + SLOTS) % SLOTS;
      const base = slot * ring.slotStride;
      const count = ring.headers[(8 + base) >> 2]!;
      const size = ring.headers[((8 + base) >> 2) + 1]!;
      this.callback.onBatch({ data: new Uint8Array(ring.sab, 8 + base + SLOT_HEADER, count * size), count, size });
      this.slowdown.checkpoint();
      Atomics.store(ring.ctl, 1, (tail + 1) | 0);
      Atomics.notify(ring.ctl, 1);
      moved++;
      if (moved >= SLOTS) return moved;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    Atomics.add(this.doorbell, this.bellIndex, 1);
    Atomics.notify(this.doorbell, this.bellIndex);
    await this.done;
  }
}

export class NoopDriver implements BenchDriver {
  private link: NoopLink | undefined;
  private readonly slowdown: number;
  private readonly open = new Set<{ close(): Promise<void> }>();
  private ctx: DriverContext | undefined;
  private workload: Workload | undefined;

  constructor(options: DriverOptions) {
    this.slowdown = slowdownFraction(options);
  }

  async initialize(workload: Workload, ctx: DriverContext): Promise<void> {
    this.workload = workload;
    this.ctx = ctx;
    if (ctx.role === 'host') {
      const slotBytes = Math.max(MIN_SLOT_BYTES, workload.messageSize);
      const rings: SharedArrayBuffer[][][][] = [];
      const doorbells: SharedArrayBuffer[][] = [];
      for (let t = 0; t < workload.topics; t++) {
        const perProducer: SharedArrayBuffer[][][] = [];
        for (let p = 0; p < workload.producersPerTopic; p++) {
          const perSub: SharedArrayBuffer[][] = [];
          for (let s = 0; s < workload.subscriptionsPerTopic; s++) {
            const perConsumer: SharedArrayBuffer[] = [];
            for (let c = 0; c < workload.consumerPerSubscription; c++) perConsumer.push(new SharedArrayBuffer(Ring.bytesFor(slotBytes)));
            perSub.push(perConsumer);
          }
          perProducer.push(perSub);
        }
        rings.push(perProducer);
        const bells: SharedArrayBuffer[] = [];
        for (let s = 0; s < workload.subscriptionsPerTopic; s++) bells.push(new SharedArrayBuffer(4 * workload.consumerPerSubscription));
        doorbells.push(bells);
      }
      this.link = { rings, doorbells, slotBytes };
    } else {
      const link = ctx.link as NoopLink | undefined;
      if (!link || !Array.isArray(link.rings)) throw new MqlabError('ERR_INVALID_ARG', 'noop driver in a worker needs the link from the host driver');
      this.link = link;
    }
  }

  async share(_assignment: WorkerAssignment): Promise<DriverLink> {
    if (!this.link) throw new MqlabError('ERR_CLOSED', 'noop driver is not initialized');
    return { value: this.link };
  }

  async createTopic(_topic: string, _partitions: number): Promise<void> {
    // Rings for every topic exist from initialize; nothing to do.
  }

  async createProducer(_topic: string): Promise<BenchProducer> {
    const { link, a } = this.worker('producer');
    const perSub = link.rings[a.topicIndex]![a.index]!;
    const rings = perSub.map((cs) => cs.map((sab) => new Ring(sab, link.slotBytes)));
    const bells = link.doorbells[a.topicIndex]!.map((sab) => new Int32Array(sab));
    const p = new NoopProducer(rings, bells, new Slowdown(this.slowdown));
    this.open.add(p);
    return p;
  }

  async createConsumer(_topic: string, _subscription: string, callback: ConsumerCallback): Promise<BenchConsumer> {
    const { link, a } = this.worker('consumer');
    const s = a.subscriptionIndex ?? 0;
    const rings = link.rings[a.topicIndex]!.map((perSub) => new Ring(perSub[s]![a.index]!, link.slotBytes));
    const c = new NoopConsumer(rings, new Int32Array(link.doorbells[a.topicIndex]![s]!), a.index, callback, new Slowdown(this.slowdown));
    this.open.add(c);
    return c;
  }

  private worker(kind: 'producer' | 'consumer'): { link: NoopLink; a: WorkerAssignment } {
    const a = this.ctx?.assignment;
    if (!this.link || !a || a.kind !== kind || !this.workload) throw new MqlabError('ERR_INVALID_ARG', `noop ${kind} must be created in a worker assigned to a ${kind}`);
    return { link: this.link, a };
  }

  async close(): Promise<void> {
    for (const o of this.open) await o.close();
    this.open.clear();
  }
}

export function createDriver(options: DriverOptions): BenchDriver {
  return new NoopDriver(options);
}
