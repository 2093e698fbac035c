/**
 * RabbitMQ PerfTest (com.rabbitmq:perf-test from Maven Central, peers/rabbitmq/pom.xml) against
 * the real broker: one producer, one consumer, 100-byte messages, a fixed count each side,
 * auto-ack consumer, transient queue (PerfTest's defaults otherwise):
 *   peer.rabbitmq.perftest-publish.100B   "sending rate avg" msg/s
 *   peer.rabbitmq.perftest-consume.100B   "receiving rate avg" msg/s, consumer latency
 *                                         median / 99th in µs (PerfTest's own measure)
 */
import { MqlabError } from '../../core/errors';
import { summarizeRuns, type BenchResult } from '../report/result';
import { MESSAGE_BYTES, peerLib, runTool } from './peer-tools';

export interface RabbitToolRun {
  send: number;
  receive: number;
  p50Us: number;
  p99Us: number;
}

export async function rabbitToolRun(count: number, timeLimitSec: number): Promise<RabbitToolRun> {
  const lib = await peerLib('rabbitmq', 'perftest-lib', 'rabbitmq/pom.xml');
  const out = await runTool('java', [
    '-Xmx512m', '-cp', `${lib}/*`, 'com.rabbitmq.perf.PerfTest', '-h', 'amqp://guest:guest@127.0.0.1:5672',
    '-x', '1', '-y', '1', '-s', String(MESSAGE_BYTES), '-C', String(count), '-D', String(count), '-a', '-z', String(timeLimitSec),
  ], (timeLimitSec + 60) * 1000);
  const send = /sending rate avg: ([\d.]+) msg\/s/.exec(out);
  const recv = /receiving rate avg: ([\d.]+) msg\/s/.exec(out);
  const lat = /consumer latency min\/median\/75th\/95th\/99th (\d+)\/(\d+)\/(\d+)\/(\d+)\/(\d+) µs/.exec(out);
  if (!send || !recv) throw new MqlabError('ERR_PEER_TOOL', `PerfTest printed no summary: ${out.trim().split('\n').slice(-2).join(' | ')}`);
  return { send: Number(send[1]), receive: Number(recv[1]), p50Us: lat ? Number(lat[2]) : NaN, p99Us: lat ? Number(lat[5]) : NaN };
}

export function rabbitToolResults(runs: readonly RabbitToolRun[], count: number, extra: Record<string, number | string>): BenchResult[] {
  const mid = runs[Math.floor(runs.length / 2)]!;
  const lat = Number.isFinite(mid.p50Us) ? { p50Us: mid.p50Us, p99Us: mid.p99Us } : {};
  return [
    summarizeRuns('peer.rabbitmq.perftest-publish.100B', runs.map((r) => r.send), MESSAGE_BYTES, {
      extra: { ...extra, tool: 'com.rabbitmq.perf.PerfTest 2.22.1', messages: count, producers: 1, consumers: 1, autoAck: true },
    }),
    summarizeRuns('peer.rabbitmq.perftest-consume.100B', runs.map((r) => r.receive), MESSAGE_BYTES, {
      ...lat,
      extra: { ...extra, tool: 'com.rabbitmq.perf.PerfTest 2.22.1', messages: count, producers: 1, consumers: 1, autoAck: true, latency: 'PerfTest consumer latency, median run' },
    }),
  ];
}
