/**
 * RocketMQ through its own Java client (rocketmq-client from Maven Central). RocketMQ's
 * benchmark tool lives in rocketmq-example, which Maven Central does not carry, so
 * peers/rocketmq/bench/.../RocketBench.java (compiled here with javac) plays its part:
 *   peer.rocketmq.java-producer.100B   DefaultMQProducer, sync sends from 4 threads (msg/s;
 *                                      send latency p50 / p99 / p99.9 in µs)
 *   peer.rocketmq.java-consumer.100B   DefaultLitePullConsumer from the first offset (msg/s)
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { summarizeRuns, type BenchResult } from '../report/result';
import { MESSAGE_BYTES, PEERS_DIR, PEERS_WORK, peerLib, resultFields, runTool, uniqueName } from './peer-tools';

const SOURCE = join(PEERS_DIR, 'rocketmq', 'bench', 'src', 'dev', 'mqlab', 'peers', 'RocketBench.java');

export interface RocketToolRun {
  produce: Record<string, number>;
  consume: Record<string, number>;
}

async function compiled(lib: string): Promise<string> {
  const classes = join(PEERS_WORK, 'rocketmq', 'bench-classes');
  if (!existsSync(join(classes, 'dev', 'mqlab', 'peers', 'RocketBench.class'))) {
    mkdirSync(classes, { recursive: true });
    await runTool('javac', ['-nowarn', '-d', classes, '-cp', `${lib}/*`, SOURCE], 120_000);
  }
  return classes;
}

export async function rocketToolRun(count: number): Promise<RocketToolRun> {
  const lib = await peerLib('rocketmq', 'lib');
  const classes = await compiled(lib);
  const topic = uniqueName('mqlabperf');
  const java = (args: string[]): Promise<string> =>
    runTool('java', ['-Xmx512m', `-Duser.home=${join(PEERS_WORK, 'rocketmq', 'home')}`, '-cp', `${classes}:${lib}/*`, 'dev.mqlab.peers.RocketBench', ...args], 240_000);
  const produce = resultFields(await java(['produce', '127.0.0.1:9876', topic, String(count), String(MESSAGE_BYTES), '4']), 'produce');
  const consume = resultFields(await java(['consume', '127.0.0.1:9876', topic, `${topic}_g`, String(count), '120000']), 'consume');
  return { produce, consume };
}

export function rocketToolResults(runs: readonly RocketToolRun[], count: number, extra: Record<string, number | string>): BenchResult[] {
  const mid = runs[Math.floor(runs.length / 2)]!.produce;
  return [
    summarizeRuns('peer.rocketmq.java-producer.100B', runs.map((r) => r.produce.msgPerSec!), MESSAGE_BYTES, {
      p50Us: mid.p50Us!, p99Us: mid.p99Us!, p999Us: mid.p999Us!, maxUs: mid.maxUs!,
      extra: { ...extra, tool: 'peers/rocketmq/bench RocketBench over rocketmq-client 5.3.3', messages: count, threads: 4, failed: mid.failed ?? 0 },
    }),
    summarizeRuns('peer.rocketmq.java-consumer.100B', runs.map((r) => r.consume.msgPerSec!), MESSAGE_BYTES, {
      extra: { ...extra, tool: 'peers/rocketmq/bench RocketBench over rocketmq-client 5.3.3 (lite pull)', messages: count },
    }),
  ];
}
