/**
 * The Kafka engine's benchmarks (issue 4), ids:
 *   kafka.produce.100B  one producer, acks 1, in process: sends of 1000 × 100-byte records
 *                       (records/s and bytes/s of payload);
 *   kafka.consume.100B  one consumer, in process, polling (max.poll.records 500) a partition
 *                       filled beforehand, reading every record's value;
 *   kafka.e2e.100B      producer and consumer on worker threads (the engine on the main thread),
 *                       fixed rate 100 k records/s, end-to-end latency p50 / p99 / p99.9 in µs
 *                       from the intended send time (coordinated omission corrected), through
 *                       bench/drivers/run-workload.ts with the kafka-engine driver (direct data
 *                       path); the harness's no-op engine runs the same shape right after each
 *                       run as a baseline (extra.noopBaseline*Us and *VsNoop ratios: the
 *                       machine's own latency floor in that run); and two bare threads (no V8,
 *                       bench/drivers/bare-floor.ts) pace and hand off at the same rate with the
 *                       same sleeps, once before the runs and after each (extra.bareFloor*Us and
 *                       *VsBare ratios: the machine's floor without any JS).
 * Each id runs several times; the result is the median with min / max (summarizeRuns).
 *
 * Standalone: `npx tsx bench/drivers/kafka-bench.ts [quick] [--filter REGEX] [--runs N]` prints the results JSON.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MqlabError } from '../../core/errors';
import { KafkaEngine } from '../../core/kafka/engine';
import type { Message } from '../../core/kafka/types';
import { summarizeRuns, type BenchResult } from '../report/result';
import type { BenchFunctionOptions, Workload } from './driver';
import { benchWorkload } from './workload-bench';
import { bareFloor, setThreadTimerSlack, threadTimerSlack, type BareFloorResult } from './bare-floor';

const RECORD_BYTES = 100;
/**
 * MQLAB_BENCH_TIMER_SLACK_NS: timer slack (ns) for the e2e's worker threads and the bare probe.
 * Linux lets a sleeping thread wake up to its slack late (50 µs by default), so the fixed-rate
 * producer wakes about 70 µs apart. When the variable is set, the main thread takes that slack
 * while the id runs, and the worker threads inherit it: the engine, the no-op baseline and the bare
 * probe then all pace the same way. Unset or 0 leaves every thread's slack alone (the default).
 * On a quiet machine 10 µs halved p50 (53 → 29 µs) and left p99 / p99.9 where they were, at
 * 0.59 instead of 0.37 of a core (docs/kafka.md).
 */
const E2E_TIMER_SLACK_NS = 0;

function e2eTimerSlackNs(): number {
  const env = process.env.MQLAB_BENCH_TIMER_SLACK_NS;
  if (env === undefined || env === '') return E2E_TIMER_SLACK_NS;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 0 || n > 1e9) throw new MqlabError('ERR_INVALID_ARG', `MQLAB_BENCH_TIMER_SLACK_NS must be an integer number of ns (0: leave the default), got ${env}`);
  return n;
}
const SEND_BATCH = 1000;

function tempEngine(): { engine: KafkaEngine; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-kafka-bench-'));
  const engine = KafkaEngine.open(dir, { retentionCheckIntervalMs: 0, segmentBytes: 256 * 1024 * 1024 });
  return {
    engine,
    cleanup: () => {
      engine.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function batchOf100B(): Message[] {
  const value = Buffer.alloc(RECORD_BYTES, 0x61);
  return Array.from({ length: SEND_BATCH }, () => ({ value }));
}

/** Records/s of one producer (acks 1) sending SEND_BATCH-record sends for `seconds`. */
async function produceRun(seconds: number): Promise<number> {
  const { engine, cleanup } = tempEngine();
  try {
    engine.createTopic('bench', { numPartitions: 1 });
    const producer = engine.producer({ acks: 1 });
    const messages = batchOf100B();
    for (let i = 0; i < 200; i++) await producer.send({ topic: 'bench', messages }); // warm-up
    let n = 0;
    const t0 = process.hrtime.bigint();
    const end = t0 + BigInt(Math.round(seconds * 1e9));
    let now = t0;
    while (now < end) {
      for (let i = 0; i < 50; i++) await producer.send({ topic: 'bench', messages });
      n += 50 * SEND_BATCH;
      now = process.hrtime.bigint();
    }
    return n / (Number(now - t0) / 1e9);
  } finally {
    cleanup();
  }
}

/** Records/s of one consumer polling `records` 100-byte records from one partition. */
async function consumeRuns(records: number, runs: number): Promise<number[]> {
  const { engine, cleanup } = tempEngine();
  try {
    engine.createTopic('bench', { numPartitions: 1 });
    const producer = engine.producer({ acks: 1 });
    const messages = batchOf100B();
    for (let i = 0; i < records / SEND_BATCH; i++) await producer.send({ topic: 'bench', messages });
    const rates: number[] = [];
    for (let r = 0; r <= runs; r++) {
      const consumer = engine.consumer({ groupId: `bench-${r}`, autoOffsetReset: 'earliest', autoCommit: false });
      consumer.assign([{ topic: 'bench', partition: 0 }]);
      let n = 0;
      let bytes = 0;
      const t0 = process.hrtime.bigint();
      for (;;) {
        const batch = await consumer.poll(0);
        if (batch.length === 0) break;
        for (let i = 0; i < batch.length; i++) bytes += batch[i]!.value!.length;
        n += batch.length;
      }
      const sec = Number(process.hrtime.bigint() - t0) / 1e9;
      await consumer.close();
      if (n !== records || bytes !== records * RECORD_BYTES) throw new Error(`consume bench read ${n} records (${bytes} B), expected ${records}`);
      if (r > 0) rates.push(n / sec); // run 0 warms up
    }
    return rates;
  } finally {
    cleanup();
  }
}

export const E2E_WORKLOAD: Workload = {
  name: 'kafka-e2e-100b-100k-rate',
  model: 'kafka',
  topics: 1,
  partitionsPerTopic: 1,
  messageSize: RECORD_BYTES,
  producersPerTopic: 1,
  subscriptionsPerTopic: 1,
  consumerPerSubscription: 1,
  producerRate: 100_000,
  keyDistributor: 'NO_KEY',
  testDurationMinutes: 0.25,
  warmupDurationMinutes: 0.05,
  acks: 1,
  description: 'kafka.e2e.100B: producer and consumer on worker threads, 100 k records/s',
};

export async function runKafkaBench(opts: BenchFunctionOptions & { quick?: boolean } = {}): Promise<BenchResult[]> {
  const quick = opts.quick === true;
  const runs = opts.runs ?? (quick ? 3 : 5);
  const want = (id: string) => !opts.filter || opts.filter.test(id);
  const ids = ['kafka.produce.100B', 'kafka.consume.100B', 'kafka.e2e.100B'].filter(want);
  const results: BenchResult[] = [];
  const progress = (id: string, done: number, message?: string) => opts.onProgress?.({ id, done, total: ids.length, ...(message ? { message } : {}) });
  let done = 0;
  const load = os.loadavg()[0]!;

  if (want('kafka.produce.100B') && !opts.signal?.aborted) {
    progress('kafka.produce.100B', done, 'one producer, acks 1');
    const rates: number[] = [];
    for (let i = 0; i < runs && !opts.signal?.aborted; i++) rates.push(await produceRun(quick ? 0.5 : 2));
    results.push(summarizeRuns('kafka.produce.100B', rates, RECORD_BYTES, { extra: { acks: 1, recordsPerSend: SEND_BATCH, partitions: 1, loadAvg1m: load }, samples: rates }));
    progress('kafka.produce.100B', ++done);
  }
  if (want('kafka.consume.100B') && !opts.signal?.aborted) {
    progress('kafka.consume.100B', done, 'one consumer, max.poll.records 500');
    const records = quick ? 500_000 : 2_000_000;
    const rates = await consumeRuns(records, runs);
    results.push(summarizeRuns('kafka.consume.100B', rates, RECORD_BYTES, { extra: { records, maxPollRecords: 500, partitions: 1, loadAvg1m: load }, samples: rates }));
    progress('kafka.consume.100B', ++done);
  }
  if (want('kafka.e2e.100B') && !opts.signal?.aborted) {
    progress('kafka.e2e.100B', done, 'workers, 100 k records/s');
    // Baseline in the same run: the harness's no-op engine (SharedArrayBuffer rings, no storage)
    // with the same workload shape, one run right after each engine run, so a reader can tell
    // the engine's latency from the machine's (ratios in extra.*VsNoop).
    const e2eRuns = opts.runs ?? (quick ? 2 : 3);
    const probeMs = quick ? 2000 : 5000;
    const slackNs = process.platform === 'linux' ? e2eTimerSlackNs() : 0;
    const bare: BareFloorResult[] = [];
    const probe = async (): Promise<void> => {
      if (!opts.signal?.aborted) bare.push(await bareFloor({ rate: E2E_WORKLOAD.producerRate, durationMs: probeMs, warmupMs: 500, ...(slackNs > 0 ? { timerSlackNs: slackNs } : {}) }));
    };
    // Worker threads made from now on inherit this thread's timer slack (restored below).
    const mainSlack = slackNs > 0 ? threadTimerSlack() : -1;
    if (slackNs > 0) setThreadTimerSlack(slackNs);
    let outcome: Awaited<ReturnType<typeof benchWorkload>>;
    try {
      await probe();
      outcome = await benchWorkload(E2E_WORKLOAD, {
        runs: e2eRuns,
        durationSec: quick ? 4 : 15,
        warmupSec: quick ? 1 : 3,
        baseline: { workload: { ...E2E_WORKLOAD, model: 'noop', name: 'kafka-e2e-baseline-noop' } },
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      for (let i = 1; i < e2eRuns; i++) await probe();
    } finally {
      if (mainSlack > 0) setThreadTimerSlack(mainSlack);
    }
    if (outcome) {
      const r = outcome.result;
      r.id = 'kafka.e2e.100B';
      r.extra = { ...(r.extra ?? {}), loadAvg1m: load, loadAvg1mAfter: os.loadavg()[0]!, threads: 'producer worker + consumer worker (direct data path) + engine on main', timerSlackNs: slackNs > 0 ? slackNs : 'default' };
      const b = outcome.baseline?.result;
      if (b?.p50Us !== undefined) {
        r.extra.noopBaselineP50Us = b.p50Us;
        r.extra.noopBaselineP99Us = b.p99Us ?? -1;
        r.extra.noopBaselineP999Us = b.p999Us ?? -1;
        r.extra.noopBaselineRuns = b.runs;
        const ratio = (x: number | undefined, y: number | undefined) => (x !== undefined && y !== undefined && y > 0 ? Math.round((x / y) * 100) / 100 : -1);
        r.extra.p50VsNoop = ratio(r.p50Us, b.p50Us);
        r.extra.p99VsNoop = ratio(r.p99Us, b.p99Us);
        r.extra.p999VsNoop = ratio(r.p999Us, b.p999Us);
      }
      if (bare.length > 0) {
        const med = (k: 'p50Us' | 'p99Us' | 'p999Us') => Math.round(medianOf(bare.map((b) => b[k])) * 10) / 10;
        r.extra.bareFloorP50Us = med('p50Us');
        r.extra.bareFloorP99Us = med('p99Us');
        r.extra.bareFloorP999Us = med('p999Us');
        r.extra.bareFloorRuns = bare.length;
        r.extra.bareFloorSecPerRun = probeMs / 1000;
        r.extra.bareFloorP999UsEach = bare.map((b) => b.p999Us).join(' ');
        r.extra.bareFloorLateWakeups = bare.map((b) => b.lateWakeups).join(' ');
        const ratio = (x: number | undefined, y: number) => (x !== undefined && y > 0 ? Math.round((x / y) * 100) / 100 : -1);
        r.extra.p99VsBare = ratio(r.p99Us, r.extra.bareFloorP99Us);
        r.extra.p999VsBare = ratio(r.p999Us, r.extra.bareFloorP999Us);
      }
      results.push(r);
    }
    progress('kafka.e2e.100B', ++done);
  }
  return results;
}

function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const quick = argv.includes('quick') || argv.includes('--quick');
  const valueOf = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write('usage: npx tsx bench/drivers/kafka-bench.ts [quick] [--filter REGEX] [--runs N]\n  ids: kafka.produce.100B kafka.consume.100B kafka.e2e.100B; prints the results JSON\n');
    process.exit(0);
  }
  const filter = valueOf('--filter');
  const runs = valueOf('--runs');
  runKafkaBench({
    quick,
    ...(filter !== undefined ? { filter: new RegExp(filter) } : {}),
    ...(runs !== undefined ? { runs: Number(runs) } : {}),
    onProgress: (p) => p.message && process.stderr.write(`${p.id}: ${p.message}\n`),
  }).then(
    (results) => process.stdout.write(JSON.stringify({ results }, null, 2) + '\n'),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
