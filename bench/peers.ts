/**
 * `npm run bench -- peers`: the real brokers side by side, for 100-byte messages and a fixed count
 * per run (quick 20 000 through each broker's own tool and 5 000 through mqlab's adapters; full
 * 100 000 and 20 000), each run bounded in time:
 *   peer.kafka.producer-perf.100B, peer.kafka.consumer-perf.100B        (Kafka's perf tools)
 *   peer.rabbitmq.perftest-publish.100B, peer.rabbitmq.perftest-consume.100B   (PerfTest)
 *   peer.rocketmq.java-producer.100B, peer.rocketmq.java-consumer.100B  (RocketMQ Java client)
 *   peer.<broker>.adapter-e2e.100B                                      (mqlab's adapters)
 * A broker that is not running (start them with `bash peers/start-all.sh`) or a tool that fails
 * is reported on stderr and left out; the other ids still come. Figures depend on the machine's
 * load: compare them with the built-in engines' ids from the same run.
 */
import { loadavg } from 'node:os';
import { summarizeRuns, type BenchResult } from './report/result';
import type { BenchFunctionOptions } from './drivers/driver';
import { kafkaAdapterRun, rabbitAdapterRun, rocketAdapterRun } from './drivers/peer-adapters';
import { kafkaToolResults, kafkaToolRun, type KafkaToolRun } from './drivers/peer-kafka';
import { rabbitToolResults, rabbitToolRun, type RabbitToolRun } from './drivers/peer-rabbitmq';
import { rocketToolResults, rocketToolRun, type RocketToolRun } from './drivers/peer-rocketmq';
import { MESSAGE_BYTES, peerCounts, portOpen } from './drivers/peer-tools';

interface PeerPlan {
  name: 'kafka' | 'rabbitmq' | 'rocketmq';
  port: number;
  toolIds: string[];
  tool: (count: number) => Promise<BenchResult[] | null>;
  adapter: (count: number) => Promise<number>;
}

export async function runPeerBench(opts: BenchFunctionOptions = {}): Promise<BenchResult[]> {
  const quick = opts.quick ?? false;
  const runs = Math.max(1, opts.runs ?? (quick ? 1 : 3));
  const counts = peerCounts(quick);
  const want = (id: string): boolean => !opts.filter || opts.filter.test(id);
  const note = (s: string): void => { process.stderr.write(`[peers] ${s}\n`); };
  const extra = (): Record<string, number | string> => ({ loadAvg1m: Number(loadavg()[0]!.toFixed(2)) });

  async function repeat<T>(id: string, fn: () => Promise<T>): Promise<T[] | null> {
    const out: T[] = [];
    for (let i = 0; i < runs && !opts.signal?.aborted; i++) {
      try {
        out.push(await fn());
      } catch (e) {
        note(`${id}: ${(e as Error).message}`);
        return null;
      }
    }
    return out.length > 0 ? out : null;
  }

  const plans: PeerPlan[] = [
    {
      name: 'kafka', port: 9092, toolIds: ['peer.kafka.producer-perf.100B', 'peer.kafka.consumer-perf.100B'],
      tool: async (n) => { const r = await repeat<KafkaToolRun>('kafka perf tools', () => kafkaToolRun(n)); return r && kafkaToolResults(r, n, extra()); },
      adapter: (n) => kafkaAdapterRun(n, 120_000),
    },
    {
      name: 'rabbitmq', port: 5672, toolIds: ['peer.rabbitmq.perftest-publish.100B', 'peer.rabbitmq.perftest-consume.100B'],
      tool: async (n) => { const r = await repeat<RabbitToolRun>('rabbitmq PerfTest', () => rabbitToolRun(n, 120)); return r && rabbitToolResults(r, n, extra()); },
      adapter: (n) => rabbitAdapterRun(n, 120_000),
    },
    {
      name: 'rocketmq', port: 9876, toolIds: ['peer.rocketmq.java-producer.100B', 'peer.rocketmq.java-consumer.100B'],
      tool: async (n) => { const r = await repeat<RocketToolRun>('rocketmq Java client bench', () => rocketToolRun(n)); return r && rocketToolResults(r, n, extra()); },
      adapter: (n) => rocketAdapterRun(n, 120_000),
    },
  ];

  const results: BenchResult[] = [];
  const total = plans.length * 2;
  let done = 0;
  for (const p of plans) {
    if (opts.signal?.aborted) break;
    const adapterId = `peer.${p.name}.adapter-e2e.100B`;
    if (!(await portOpen(p.port))) {
      note(`${p.name} is not running on 127.0.0.1:${p.port}; start it with bash peers/${p.name}/start.sh (its ids are left out)`);
      done += 2;
      continue;
    }
    if (p.toolIds.some(want)) {
      opts.onProgress?.({ id: p.toolIds[0]!, done, total, message: `${p.name}: broker's own tool, ${counts.tool} messages x ${runs}` });
      const r = await p.tool(counts.tool);
      if (r) results.push(...r.filter((x) => want(x.id)));
    }
    done++;
    if (want(adapterId) && !opts.signal?.aborted) {
      opts.onProgress?.({ id: adapterId, done, total, message: `${p.name}: mqlab adapter, ${counts.adapter} messages x ${runs}` });
      const rates = await repeat(adapterId, () => p.adapter(counts.adapter));
      if (rates) results.push(summarizeRuns(adapterId, rates, MESSAGE_BYTES, { extra: { ...extra(), messages: counts.adapter, client: `mqlab real adapter (conformance/adapters/real/${p.name}.ts)` } }));
    }
    done++;
  }
  opts.onProgress?.({ done: total, total });
  return results;
}

if (require.main === module) {
  runPeerBench({ quick: process.argv.includes('quick') }).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (e: unknown) => { process.stderr.write(`${String(e)}\n`); process.exit(1); },
  );
}
