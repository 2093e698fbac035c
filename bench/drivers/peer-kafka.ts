/**
 * Kafka's own perf tools against the real broker, from the kafka-tools jar peers/kafka/start.sh
 * resolved (org.apache.kafka.tools.ProducerPerformance / ConsumerPerformance):
 *   peer.kafka.producer-perf.100B   ProducerPerformance, acks 1, unthrottled, 100-byte records
 *                                   (records/s; latency p50 / p99 / p99.9 in µs from its summary)
 *   peer.kafka.consumer-perf.100B   ConsumerPerformance reading the same records (nMsg.sec)
 * Each run uses a fresh topic (created first, so topic creation is not timed).
 */
import { join } from 'node:path';
import { MqlabError } from '../../core/errors';
import { summarizeRuns, type BenchResult } from '../report/result';
import { MESSAGE_BYTES, PEERS_WORK, peerLib, runTool, uniqueName } from './peer-tools';

const BOOTSTRAP = '127.0.0.1:9092';

function java(lib: string, main: string, args: readonly string[]): [string, string[]] {
  return ['java', ['-Xmx512m', '-cp', `${lib}/*`, `-Dlog4j.configuration=file:${join(PEERS_WORK, 'kafka', 'log4j.properties')}`, main, ...args]];
}

export interface KafkaToolRun {
  producer: { rate: number; p50Us: number; p99Us: number; p999Us: number };
  consumer: { rate: number };
}

export async function kafkaToolRun(count: number): Promise<KafkaToolRun> {
  const lib = await peerLib('kafka', 'lib');
  const topic = uniqueName('mqlab-perf-');
  const [c1, a1] = java(lib, 'org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', BOOTSTRAP, '--create', '--topic', topic, '--partitions', '1', '--replication-factor', '1']);
  await runTool(c1, a1, 60_000);
  const [c2, a2] = java(lib, 'org.apache.kafka.tools.ProducerPerformance', [
    '--topic', topic, '--num-records', String(count), '--record-size', String(MESSAGE_BYTES), '--throughput', '-1',
    '--producer-props', `bootstrap.servers=${BOOTSTRAP}`, 'acks=1',
  ]);
  const pout = await runTool(c2, a2, 180_000);
  // "N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency, P50 ms 50th, P95 ms 95th, P99 ms 99th, P999 ms 99.9th."
  const summary = pout.split('\n').filter((l) => /records sent, .* 50th/.test(l)).pop();
  const m = summary && /records sent, ([\d.]+) records\/sec.*?(\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/.exec(summary);
  if (!m) throw new MqlabError('ERR_PEER_TOOL', `ProducerPerformance printed no summary: ${pout.trim().split('\n').slice(-2).join(' | ')}`);
  const [c3, a3] = java(lib, 'org.apache.kafka.tools.ConsumerPerformance', ['--bootstrap-server', BOOTSTRAP, '--topic', topic, '--messages', String(count), '--timeout', '60000']);
  const cout = await runTool(c3, a3, 180_000);
  // header "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ..." then one data line
  const lines = cout.split('\n').map((l) => l.trim()).filter(Boolean);
  const h = lines.findIndex((l) => l.startsWith('start.time'));
  const header = h >= 0 ? lines[h]!.split(',').map((s) => s.trim()) : [];
  const data = h >= 0 ? (lines[h + 1] ?? '').split(',').map((s) => s.trim()) : [];
  const rate = Number(data[header.indexOf('nMsg.sec')]);
  const consumed = Number(data[header.indexOf('data.consumed.in.nMsg')]);
  if (!Number.isFinite(rate) || consumed < count) throw new MqlabError('ERR_PEER_TOOL', `ConsumerPerformance read ${consumed} of ${count}: ${lines.slice(-2).join(' | ')}`);
  const [c4, a4] = java(lib, 'org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', BOOTSTRAP, '--delete', '--topic', topic]);
  await runTool(c4, a4, 60_000).catch(() => undefined);
  return {
    producer: { rate: Number(m[1]), p50Us: Number(m[2]) * 1000, p99Us: Number(m[4]) * 1000, p999Us: Number(m[5]) * 1000 },
    consumer: { rate },
  };
}

export function kafkaToolResults(runs: readonly KafkaToolRun[], count: number, extra: Record<string, number | string>): BenchResult[] {
  const mid = runs[Math.floor(runs.length / 2)]!.producer;
  return [
    summarizeRuns('peer.kafka.producer-perf.100B', runs.map((r) => r.producer.rate), MESSAGE_BYTES, {
      p50Us: mid.p50Us, p99Us: mid.p99Us, p999Us: mid.p999Us,
      extra: { ...extra, tool: 'org.apache.kafka.tools.ProducerPerformance', records: count, acks: 1, partitions: 1, latency: 'send to ack, ms resolution, median run' },
    }),
    summarizeRuns('peer.kafka.consumer-perf.100B', runs.map((r) => r.consumer.rate), MESSAGE_BYTES, {
      extra: { ...extra, tool: 'org.apache.kafka.tools.ConsumerPerformance', records: count, partitions: 1 },
    }),
  ];
}
