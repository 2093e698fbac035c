/**
 * A driver that wraps another and applies the deliberate slowdown (throttle.ts) to its producers
 * and consumers: a check-in before every send and inside every delivery callback, so every
 * worker thread of the workload pauses at the same moments. The CLI builds it in place of the
 * engine's driver when MQLAB_BENCH_THROTTLE is set, keeping the result id unchanged.
 *
 * Options: `throttleInner` (the wrapped driver module), `throttleFraction`, `throttleMode`,
 * `throttlePeriodMs` (duty cycle only);
 * all other options go to the wrapped driver unchanged.
 */
import type { BenchConsumer, BenchDriver, BenchProducer, ConsumerCallback, DriverContext, DriverLink, DriverOptions, DriverSpec, MessageBatch, WorkerAssignment, Workload } from '../drivers/driver';
import { loadDriverModule } from '../drivers/load-driver';
import { MqlabError } from '../../core/errors';
import { DEFAULT_PERIOD_MS, Throttle, parseFraction, type ThrottleMode } from './throttle';

const OWN_KEYS = new Set(['throttleInner', 'throttleFraction', 'throttlePeriodMs', 'throttleMode']);

/** The spec that runs `inner` throttled by `fraction` (0.2 = 20% slower). */
export function throttledSpec(inner: DriverSpec, fraction: number, mode: ThrottleMode = 'proportional', periodMs = DEFAULT_PERIOD_MS): DriverSpec {
  return { module: 'bench/gate/throttled-driver.ts', options: { ...(inner.options ?? {}), throttleInner: inner.module, throttleFraction: fraction, throttleMode: mode, throttlePeriodMs: periodMs } };
}

class ThrottledProducer implements BenchProducer {
  sendBatch?: (batch: MessageBatch) => Promise<void>;
  constructor(private readonly inner: BenchProducer, private readonly throttle: Throttle) {
    if (inner.sendBatch) {
      const send = inner.sendBatch.bind(inner);
      this.sendBatch = (batch) => {
        this.throttle.checkpoint();
        return send(batch);
      };
    }
  }
  send(key: string | undefined, payload: Uint8Array): Promise<void> {
    this.throttle.checkpoint();
    return this.inner.send(key, payload);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

class ThrottledDriver implements BenchDriver {
  private readonly inner: BenchDriver;
  private readonly throttle: Throttle;
  share?: (assignment: WorkerAssignment) => Promise<DriverLink>;
  stats: () => Promise<Record<string, number | string | boolean>>;

  constructor(options: DriverOptions) {
    const module = options.throttleInner;
    if (typeof module !== 'string' || module === '') throw new MqlabError('ERR_INVALID_ARG', 'throttled driver needs option throttleInner (the wrapped driver module)');
    const fraction = parseFraction(options.throttleFraction ?? 0, 'throttleFraction');
    const period = Number(options.throttlePeriodMs ?? DEFAULT_PERIOD_MS);
    const rest: DriverOptions = {};
    for (const [k, v] of Object.entries(options)) if (!OWN_KEYS.has(k)) rest[k] = v;
    this.inner = loadDriverModule({ module, options: rest }).createDriver(rest);
    this.throttle = new Throttle(fraction, options.throttleMode === 'duty-cycle' ? 'duty-cycle' : 'proportional', period);
    if (this.inner.share) this.share = this.inner.share.bind(this.inner);
    const inner = this.inner;
    this.stats = async () => ({ ...(inner.stats ? await inner.stats() : {}), throttle: fraction });
  }

  initialize(workload: Workload, ctx: DriverContext): Promise<void> {
    return this.inner.initialize(workload, ctx);
  }
  createTopic(topic: string, partitions: number): Promise<void> {
    return this.inner.createTopic(topic, partitions);
  }
  async createProducer(topic: string): Promise<BenchProducer> {
    return new ThrottledProducer(await this.inner.createProducer(topic), this.throttle);
  }
  createConsumer(topic: string, subscription: string, callback: ConsumerCallback): Promise<BenchConsumer> {
    const throttle = this.throttle;
    return this.inner.createConsumer(topic, subscription, {
      onMessage(payload: Uint8Array, publishTimestampNs?: number): void {
        throttle.checkpoint();
        callback.onMessage(payload, publishTimestampNs);
      },
      onBatch(batch: MessageBatch): void {
        throttle.checkpoint();
        callback.onBatch(batch);
      },
    });
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export function createDriver(options: DriverOptions): BenchDriver {
  return new ThrottledDriver(options);
}
