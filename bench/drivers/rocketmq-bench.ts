/**
 * The RocketMQ engine's benchmarks (issue 6), ids:
 *   rocketmq.send.100B          one Producer, in process: RocketMQ batch sends of 1024 × 100-byte
 *                               messages to a 4-queue topic (messages/s); the ConsumeQueue
 *                               dispatch runs behind the writers: its peak lag and the in-line
 *                               dispatches the lag bound forced are in `extra`, and so is the raw
 *                               core CommitLog.appendBatch rate of same-size records measured in the
 *                               same run (the ceiling; `ratioToCoreAppend`);
 *   rocketmq.send-consume.100B  one Producer and one CLUSTERING PushConsumer (4 queues) in process,
 *                               sending and consuming at once: messages/s until the last is consumed;
 *   rocketmq.e2e.100B           in process, fixed rate 50 k messages/s, one message per send, end to
 *                               end latency p50 / p99 / p99.9 in µs from the *intended* send time
 *                               (coordinated omission corrected), HDR histogram; `extra.engineP50Us`
 *                               / `engineP99Us`: from the actual send call instead (the engine's share);
 *   rocketmq.e2e-workers.100B   the same rate with producer and consumer on worker threads (engine
 *                               on the main thread), through the workload runner and the
 *                               rocketmq-engine driver.
 * Each id runs several times; the result is the median with min / max (summarizeRuns).
 *
 * Standalone: `npx tsx bench/drivers/rocketmq-bench.ts [quick] [--filter=REGEX]` prints the results JSON
 * (MQLAB_RMQ_E2E_RATE overrides the 50 k messages/s of the e2e ids, for exploring).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CommitLog } from '../../core/log';
import { Producer, PushConsumer, RocketCluster, type MessageInit } from '../../core/rocketmq';
import { encodedSize } from '../../core/rocketmq/message-codec';
import { summarizeRuns, type BenchResult } from '../report/result';
import { nowNs, type BenchFunctionOptions, type Workload } from './driver';
import { summarizeLatency } from './run-workload';
import { benchWorkload } from './workload-bench';
import { newLatencyHistogram } from './workload-worker';
import { sendAtFixedRate } from './fixed-rate-sender';

const BODY_BYTES = 100;
const BATCH = 1024;
const TOPIC = 'BenchTopic';
const QUEUES = 4;
const E2E_RATE = Number(process.env.MQLAB_RMQ_E2E_RATE ?? 50_000);


function tempCluster(): { cluster: RocketCluster; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-rocketmq-bench-'));
  const cluster = new RocketCluster({ dataDir: dir, broker: { segmentBytes: 256 * 1024 * 1024 } });
  cluster.createTopic(TOPIC, QUEUES);
  return {
    cluster,
    cleanup: () => {
      cluster.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function batch(): MessageInit[] {
  const body = Buffer.alloc(BODY_BYTES, 0x61);
  return Array.from({ length: BATCH }, () => ({ topic: TOPIC, body }));
}

async function timed(seconds: number, step: () => Promise<number>): Promise<number> {
  let n = 0;
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(Math.round(seconds * 1e9));
  let now = t0;
  while (now < end) {
    for (let i = 0; i < 20; i++) n += await step();
    now = process.hrtime.bigint();
  }
  return n / (Number(now - t0) / 1e9);
}

/** The ceiling: CommitLog.appendBatch of records the size RocketMQ messages take, same batch. */
async function coreAppendRun(seconds: number): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-rocketmq-bench-core-'));
  const log = CommitLog.open(dir, { segmentBytes: 256 * 1024 * 1024 });
  try {
    const payload = Buffer.alloc(encodedSize(TOPIC.length, 0, BODY_BYTES), 0x61);
    const payloads = Array.from({ length: BATCH }, () => payload);
    for (let i = 0; i < 100; i++) log.appendBatch(payloads);
    return await timed(seconds, async () => {
      log.appendBatch(payloads);
      return BATCH;
    });
  } finally {
    log.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function sendRun(seconds: number): Promise<{ rate: number; maxLag: number; inline: number; finalLag: number }> {
  const { cluster, cleanup } = tempCluster();
  try {
    const producer = new Producer({ group: 'bench', transport: cluster.transport });
    await producer.start();
    const msgs = batch();
    for (let i = 0; i < 100; i++) await producer.send(msgs); // warm-up
    cluster.dispatchNow();
    cluster.broker().resetMaxDispatchLag();
    const rate = await timed(seconds, async () => {
      await producer.send(msgs);
      return BATCH;
    });
    const s = cluster.broker().stats();
    return { rate, maxLag: s.maxDispatchLagBytes, inline: s.inlineDispatches, finalLag: s.dispatchLagBytes };
  } finally {
    cleanup();
  }
}

async function sendConsumeRun(total: number): Promise<number> {
  const { cluster, cleanup } = tempCluster();
  try {
    const producer = new Producer({ group: 'bench', transport: cluster.transport });
    await producer.start();
    let consumed = 0;
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    const consumer = new PushConsumer({
      group: 'bench-consumers', transport: cluster.transport, consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
      pullBatchSize: 512, consumeMessageBatchMaxSize: 512, pollTimeoutMs: 200,
    });
    consumer.subscribe(TOPIC, '*');
    let bytes = 0;
    consumer.registerMessageListener((msgs) => {
      for (let i = 0; i < msgs.length; i++) bytes += msgs[i]!.body.length;
      consumed += msgs.length;
      if (consumed >= total) done();
      return 'CONSUME_SUCCESS';
    });
    await consumer.start();
    const msgs = batch();
    const t0 = process.hrtime.bigint();
    for (let sent = 0; sent < total; sent += BATCH) {
      await producer.send(msgs);
      // Let the consumer run between sends, as a concurrent client would.
      if ((sent / BATCH) % 8 === 7) await new Promise((r) => setImmediate(r));
    }
    await all;
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    await consumer.shutdown();
    if (consumed !== total || bytes !== total * BODY_BYTES) throw new Error(`send-consume bench consumed ${consumed} messages (${bytes} B), expected ${total}`);
    return total / sec;
  } finally {
    cleanup();
  }
}

/** Fixed rate, one message per send, in process; latency from the intended send time. */
async function e2eRun(seconds: number, warmupSec: number) {
  const { cluster, cleanup } = tempCluster();
  try {
    const producer = new Producer({ group: 'bench', transport: cluster.transport });
    await producer.start();
    const hist = newLatencyHistogram();
    // Send call → listener: the engine's own share (the payload also carries the actual send time).
    const engineHist = newLatencyHistogram();
    let warmEndNs = Number.POSITIVE_INFINITY;
    let received = 0;
    const consumer = new PushConsumer({
      group: 'bench-e2e', transport: cluster.transport, consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', pullBatchSize: 64, consumeMessageBatchMaxSize: 64, pollTimeoutMs: 1000,
    });
    consumer.subscribe(TOPIC, '*');
    consumer.registerMessageListener((msgs) => {
      const now = nowNs();
      for (const m of msgs) {
        const intended = m.body.readDoubleLE(0);
        if (intended >= warmEndNs) {
          hist.recordValue(Math.max(1, Math.round(now - intended)));
          engineHist.recordValue(Math.max(1, Math.round(now - m.body.readDoubleLE(8))));
        }
      }
      received += msgs.length;
      return 'CONSUME_SUCCESS';
    });
    await consumer.start();
    const body = Buffer.alloc(BODY_BYTES, 0x61);
    const intervalNs = 1e9 / E2E_RATE;
    const total = Math.floor(seconds * E2E_RATE);
    const onFail = () => failed++;
    const t0 = nowNs();
    warmEndNs = t0 + warmupSec * 1e9;
    let failed = 0;
    await sendAtFixedRate({
      start: t0, intervalNs, total, now: nowNs,
      send: (i) => {
        const b = Buffer.from(body);
        b.writeDoubleLE(t0 + i * intervalNs, 0);
        b.writeDoubleLE(nowNs(), 8);
        producer.send({ topic: TOPIC, body: b }).catch(onFail);
      },
    });
    const sent = total;
    const deadline = Date.now() + 5000;
    while (received < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await consumer.shutdown();
    const lag = cluster.broker().stats().maxDispatchLagBytes;
    if (failed > 0) throw new Error(`e2e bench: ${failed} sends failed`);
    return { hist, engineHist, rate: received / seconds, sent, received, maxLag: lag };
  } finally {
    cleanup();
  }
}

export const E2E_WORKERS_WORKLOAD: Workload = {
  name: 'rocketmq-e2e-workers-100b-50k-rate',
  model: 'rocketmq',
  topics: 1,
  partitionsPerTopic: QUEUES,
  messageSize: BODY_BYTES,
  producersPerTopic: 1,
  subscriptionsPerTopic: 1,
  consumerPerSubscription: 1,
  producerRate: E2E_RATE,
  keyDistributor: 'NO_KEY',
  testDurationMinutes: 0.25,
  warmupDurationMinutes: 0.05,
  messageModel: 'CLUSTERING',
  description: 'rocketmq.e2e-workers.100B: producer and consumer on worker threads, 50 k messages/s',
};

const IDS = ['rocketmq.send.100B', 'rocketmq.send-consume.100B', 'rocketmq.e2e.100B', 'rocketmq.e2e-workers.100B'];

export async function runRocketmqBench(opts: BenchFunctionOptions & { quick?: boolean } = {}): Promise<BenchResult[]> {
  const quick = opts.quick === true;
  const runs = opts.runs ?? (quick ? 3 : 5);
  const want = (id: string) => !opts.filter || opts.filter.test(id);
  const ids = IDS.filter(want);
  const results: BenchResult[] = [];
  const progress = (id: string, done: number, message?: string) => opts.onProgress?.({ id, done, total: ids.length, ...(message ? { message } : {}) });
  let done = 0;
  const load = os.loadavg()[0]!;
  const stopped = () => opts.signal?.aborted === true;

  if (want('rocketmq.send.100B') && !stopped()) {
    progress('rocketmq.send.100B', done, 'one producer, batches of 1024, 4 queues; core appendBatch alongside');
    const rates: number[] = [];
    const core: number[] = [];
    let maxLag = 0;
    let inline = 0;
    for (let i = 0; i < runs && !stopped(); i++) {
      // Interleaved, so both see the same machine load.
      core.push(await coreAppendRun(quick ? 0.4 : 1.5));
      const r = await sendRun(quick ? 0.5 : 2);
      rates.push(r.rate);
      maxLag = Math.max(maxLag, r.maxLag);
      inline += r.inline;
    }
    if (rates.length > 0) {
      const coreMedian = [...core].sort((a, b) => a - b)[core.length >> 1]!;
      const res = summarizeRuns('rocketmq.send.100B', rates, BODY_BYTES, { samples: rates });
      res.extra = {
        batch: BATCH, queues: QUEUES, maxDispatchLagBytes: maxLag, inlineDispatches: inline, coreAppendBatchPerSec: Math.round(coreMedian),
        ratioToCoreAppend: Math.round((res.opsPerSec / coreMedian) * 1000) / 1000, loadAvg1m: load,
      };
      results.push(res);
    }
    progress('rocketmq.send.100B', ++done);
  }
  if (want('rocketmq.send-consume.100B') && !stopped()) {
    progress('rocketmq.send-consume.100B', done, 'producer + CLUSTERING push consumer, 4 queues');
    const total = quick ? 200 * BATCH : 1000 * BATCH;
    const rates: number[] = [];
    for (let i = 0; i < runs && !stopped(); i++) rates.push(await sendConsumeRun(total));
    if (rates.length > 0) {
      results.push(summarizeRuns('rocketmq.send-consume.100B', rates, BODY_BYTES, { samples: rates, extra: { messages: total, queues: QUEUES, model: 'CLUSTERING', loadAvg1m: load } }));
    }
    progress('rocketmq.send-consume.100B', ++done);
  }
  if (want('rocketmq.e2e.100B') && !stopped()) {
    progress('rocketmq.e2e.100B', done, 'in process, 50 k messages/s');
    const rates: number[] = [];
    const merged = newLatencyHistogram();
    const mergedEngine = newLatencyHistogram();
    let maxLag = 0;
    let lost = 0;
    for (let i = 0; i < (quick ? 2 : 3) && !stopped(); i++) {
      const r = await e2eRun(quick ? 3 : 8, 1);
      rates.push(r.rate);
      maxLag = Math.max(maxLag, r.maxLag);
      lost += r.sent - r.received;
      merged.add(r.hist);
      mergedEngine.add(r.engineHist);
    }
    const lat = summarizeLatency(merged);
    const engineLat = summarizeLatency(mergedEngine);
    if (rates.length > 0 && lat) {
      results.push(summarizeRuns('rocketmq.e2e.100B', rates, BODY_BYTES, {
        samples: rates, p50Us: lat.p50Us, p99Us: lat.p99Us, p999Us: lat.p999Us, p9999Us: lat.p9999Us, maxUs: lat.maxUs,
        extra: {
          rate: E2E_RATE, threads: 'producer, broker and consumer on one thread', maxDispatchLagBytes: maxLag, notDelivered: lost, latencyCount: lat.count, loadAvg1m: load,
          // Send call → listener (not from the intended time): the engine's own share, as rabbitmq.e2e reports it.
          ...(engineLat ? { engineP50Us: engineLat.p50Us, engineP99Us: engineLat.p99Us, engineP999Us: engineLat.p999Us } : {}),
        },
      }));
    }
    progress('rocketmq.e2e.100B', ++done);
  }
  if (want('rocketmq.e2e-workers.100B') && !stopped()) {
    progress('rocketmq.e2e-workers.100B', done, 'producer and consumer on workers, 50 k messages/s');
    const outcome = await benchWorkload(E2E_WORKERS_WORKLOAD, {
      runs: quick ? 2 : 3,
      durationSec: quick ? 4 : 15,
      warmupSec: quick ? 1 : 3,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (outcome) {
      const r = outcome.result;
      r.id = 'rocketmq.e2e-workers.100B';
      r.extra = { ...(r.extra ?? {}), loadAvg1m: load, threads: 'producer worker + consumer worker + engine on main' };
      results.push(r);
    }
    progress('rocketmq.e2e-workers.100B', ++done);
  }
  return results;
}

if (require.main === module) {
  const quick = process.argv.includes('quick') || process.argv.includes('--quick');
  const filterArg = process.argv.find((a) => a.startsWith('--filter='));
  runRocketmqBench({ quick, ...(filterArg ? { filter: new RegExp(filterArg.slice(9)) } : {}), onProgress: (p) => p.message && process.stderr.write(`${p.id}: ${p.message}\n`) }).then(
    (results) => process.stdout.write(JSON.stringify({ results }, null, 2) + '\n'),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
