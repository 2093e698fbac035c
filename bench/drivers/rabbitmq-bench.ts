/**
 * The RabbitMQ engine's own benchmarks, in process (producer, engine and consumer on one
 * thread, as an application embedding the engine would run them):
 *
 *   rabbitmq.publish-consume.100B      max rate, auto-ack consumer, transient messages
 *   rabbitmq.publish-consume-ack.100B  max rate, confirm channel (≤ 1000 unconfirmed), manual ack
 *                                      of every message, prefetch 100
 *   rabbitmq.e2e.100B                  fixed 50 k messages/s, auto-ack; end-to-end latency from the
 *                                      *intended* send time (coordinated omission corrected),
 *                                      HDR histogram, p50 / p99 / p99.9 in µs; `extra.engineP50Us` /
 *                                      `engineP99Us` measure from the actual publish call instead
 *
 * Each id runs several times; the result is the median with min/max (bench/report/result.ts).
 * Queues are transient (durable: false) on an engine with a data directory, so nothing touches
 * the disk — as RabbitMQ's PerfTest defaults. Run alone: `npx tsx bench/drivers/rabbitmq-bench.ts [quick]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'hdr-histogram-js';
import { RabbitEngine } from '../../core/rabbitmq';
import type { Channel, ConfirmChannel } from '../../core/rabbitmq';
import { summarizeRuns, type BenchResult } from '../report/result';
import type { BenchFunctionOptions } from './driver';
import { sendAtFixedRate } from './fixed-rate-sender';

const SIZE = 100;
const BATCH = 1000;

const yieldTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

function openEngine(): { engine: RabbitEngine; cleanup: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'mqlab-rabbit-bench-'));
  let engine: RabbitEngine;
  try {
    engine = RabbitEngine.open(dir);
  } catch {
    // Without the storage core's addon the figures are the same (transient queues never touch it).
    engine = RabbitEngine.open(null);
  }
  return {
    engine,
    cleanup: async () => {
      await engine.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Auto-ack: publish in batches of 1000, let the engine dispatch between batches. */
async function runAutoAck(seconds: number): Promise<number> {
  const { engine, cleanup } = openEngine();
  try {
    const ch: Channel = await engine.createChannel();
    await ch.assertQueue('bench', { durable: false });
    let consumed = 0;
    await ch.consume('bench', () => void consumed++, { noAck: true });
    const payload = Buffer.alloc(SIZE, 7);
    let sent = 0;
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    while (performance.now() < end) {
      for (let i = 0; i < BATCH; i++) ch.sendToQueue('bench', payload);
      sent += BATCH;
      await yieldTurn();
    }
    while (consumed < sent) await yieldTurn();
    return consumed / ((performance.now() - t0) / 1000);
  } finally {
    await cleanup();
  }
}

/** Confirms + manual ack + prefetch 100: the producer keeps at most 1000 messages unconfirmed. */
async function runManualAck(seconds: number): Promise<number> {
  const { engine, cleanup } = openEngine();
  try {
    const pub: ConfirmChannel = await engine.createConfirmChannel();
    const sub: Channel = await engine.createChannel();
    await pub.assertQueue('bench', { durable: false });
    await sub.prefetch(100);
    let consumed = 0;
    await sub.consume('bench', (m) => {
      consumed++;
      sub.ack(m!);
    });
    const payload = Buffer.alloc(SIZE, 7);
    let sent = 0;
    let confirmed = 0;
    const onConfirm = (err: Error | null): void => {
      if (err) throw err;
      confirmed++;
    };
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    while (performance.now() < end) {
      if (sent - confirmed < BATCH) {
        for (let i = 0; i < BATCH; i++) pub.sendToQueue('bench', payload, undefined, onConfirm);
        sent += BATCH;
      }
      await yieldTurn();
    }
    while (consumed < sent || confirmed < sent) await yieldTurn();
    return consumed / ((performance.now() - t0) / 1000);
  } finally {
    await cleanup();
  }
}

interface LatencyRun {
  rate: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  count: number;
  /** From the actual publish call to the consumer (what the engine adds, without send lateness). */
  engineP50Us: number;
  engineP99Us: number;
}

/**
 * Fixed rate: message i is due at t0 + i / rate. Each turn the producer publishes every message
 * that is due, stamped with its intended send time; the consumer records now − intended.
 */
async function runFixedRate(seconds: number, rate: number): Promise<LatencyRun> {
  const { engine, cleanup } = openEngine();
  try {
    const ch = await engine.createChannel();
    await ch.assertQueue('bench', { durable: false });
    const hist = build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: 3 });
    const engineHist = build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: 3 });
    const warmupNs = Math.min(1, seconds / 5) * 1e9;
    let consumed = 0;
    let recorded = 0;
    // One clock for send stamps and receive times (a double in ns since the time origin).
    const nowNs = (): number => performance.now() * 1e6;
    await ch.consume(
      'bench',
      (m) => {
        consumed++;
        const intended = m!.content.readDoubleLE(0);
        if (intended >= warmupAt) {
          const now = nowNs();
          hist.recordValue(Math.max(1, now - intended));
          engineHist.recordValue(Math.max(1, now - m!.content.readDoubleLE(8)));
          recorded++;
        }
      },
      { noAck: true },
    );
    const payload = Buffer.alloc(SIZE, 7);
    const intervalNs = 1e9 / rate;
    const total = Math.floor(seconds * rate);
    const start = nowNs();
    const warmupAt = start + warmupNs;
    await sendAtFixedRate({
      start, intervalNs, total, now: nowNs,
      send: (i) => {
        payload.writeDoubleLE(start + i * intervalNs, 0);
        payload.writeDoubleLE(nowNs(), 8);
        ch.sendToQueue('bench', payload);
      },
    });
    const sent = total;
    while (consumed < sent) await yieldTurn();
    const elapsed = (nowNs() - start) / 1e9;
    const us = (q: number): number => hist.getValueAtPercentile(q) / 1000;
    const out = {
      rate: consumed / elapsed,
      p50Us: us(50),
      p99Us: us(99),
      p999Us: us(99.9),
      maxUs: hist.maxValue / 1000,
      count: recorded,
      engineP50Us: engineHist.getValueAtPercentile(50) / 1000,
      engineP99Us: engineHist.getValueAtPercentile(99) / 1000,
    };
    hist.destroy();
    engineHist.destroy();
    return out;
  } finally {
    await cleanup();
  }
}

export async function runRabbitmqBench(opts: BenchFunctionOptions = {}): Promise<BenchResult[]> {
  const quick = opts.quick ?? false;
  const runs = opts.runs ?? (quick ? 3 : 5);
  const seconds = quick ? 0.5 : 2;
  const e2eSeconds = quick ? 1 : 4;
  const rate = 50_000;
  const wanted = (id: string): boolean => !opts.filter || opts.filter.test(id);
  const ids = ['rabbitmq.publish-consume.100B', 'rabbitmq.publish-consume-ack.100B', 'rabbitmq.e2e.100B'].filter(wanted);
  const results: BenchResult[] = [];
  let done = 0;
  const progress = (id: string, message: string): void => opts.onProgress?.({ id, done, total: ids.length, message });
  for (const id of ids) {
    if (opts.signal?.aborted) break;
    if (id === 'rabbitmq.e2e.100B') {
      const lat: LatencyRun[] = [];
      for (let r = 0; r < runs && !opts.signal?.aborted; r++) {
        progress(id, `run ${r + 1}/${runs} at ${rate} msg/s`);
        lat.push(await runFixedRate(e2eSeconds, rate));
      }
      if (lat.length === 0) break;
      // Latency: the run with the median p99, reported whole (percentiles of one run belong together).
      const byP99 = [...lat].sort((a, b) => a.p99Us - b.p99Us);
      const mid = byP99[byP99.length >> 1]!;
      results.push(
        summarizeRuns(id, lat.map((l) => l.rate), SIZE, {
          p50Us: mid.p50Us,
          p99Us: mid.p99Us,
          p999Us: mid.p999Us,
          maxUs: mid.maxUs,
          extra: {
            targetRate: rate,
            messagesPerRun: Math.floor(e2eSeconds * rate),
            p99UsMin: byP99[0]!.p99Us,
            p99UsMax: byP99[byP99.length - 1]!.p99Us,
            // Publish call → consumer, same run: the engine's own share of the latency.
            engineP50Us: mid.engineP50Us,
            engineP99Us: mid.engineP99Us,
            ackMode: 'auto',
            inProcess: true,
          },
        }),
      );
    } else {
      const fn = id === 'rabbitmq.publish-consume.100B' ? runAutoAck : runManualAck;
      const rates: number[] = [];
      for (let r = 0; r < runs && !opts.signal?.aborted; r++) {
        progress(id, `run ${r + 1}/${runs}`);
        rates.push(await fn(seconds));
      }
      if (rates.length === 0) break;
      results.push(
        summarizeRuns(id, rates, SIZE, {
          extra: id === 'rabbitmq.publish-consume.100B' ? { ackMode: 'auto', inProcess: true } : { ackMode: 'manual', prefetch: 100, confirms: true, maxUnconfirmed: BATCH, inProcess: true },
        }),
      );
    }
    done++;
  }
  return results;
}

if (require.main === module) {
  const quick = process.argv.includes('quick') || process.argv.includes('--quick');
  // `--only e2e` (a regular expression over the ids) runs a subset.
  const only = process.argv.indexOf('--only') >= 0 ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  runRabbitmqBench({ quick, ...(only ? { filter: new RegExp(only) } : {}), onProgress: (p) => process.stderr.write(`${JSON.stringify(p)}\n`) }).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
