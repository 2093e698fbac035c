/**
 * Producer / consumer work that can run on a worker thread. Each task re-creates the adapter
 * from the main thread's WorkerSpec, wraps it in a recording adapter whose recorder shares the
 * main recorder's time origin, does its work, closes the adapter and returns the recorded events
 * (merged into the main history by time).
 */
import type { ModelName, OperationTimeouts, WorkerSpec } from '../../adapters/common';
import type { OutgoingMessage } from '../../adapters/broker-model';
import { assertAdapter, assertAdapterModule } from '../../adapters/guard';
import type { Acks, ProduceRecord } from '../../adapters/log-model';
import type { PublishMessage } from '../../adapters/queue-model';
import { HistoryRecorder, type PendingOp } from '../../history/recorder';
import { RecordingBrokerAdapter, type BrokerSendMeta } from '../recording/recording-broker';
import { RecordingLogAdapter, type SendMeta } from '../recording/recording-log';
import { RecordingQueueAdapter, type PublishMeta } from '../recording/recording-queue';

export type WorkerTask =
  | { kind: 'log-send'; topic: string; records: ProduceRecord[]; acks: Acks; batchSize: number; meta?: SendMeta }
  | { kind: 'queue-publish'; exchange: string; routingKey: string; messages: PublishMessage[]; confirms: boolean; meta?: PublishMeta }
  | { kind: 'broker-send'; group: string; messages: OutgoingMessage[]; meta?: BrokerSendMeta };

export interface WorkerTaskInput {
  model: ModelName;
  spec: Omit<WorkerSpec, 'transferList'>;
  /** Main recorder's origin, as a decimal string (bigints do not survive every transport). */
  origin: string;
  scope: string;
  timeouts: OperationTimeouts;
  task: WorkerTask;
}

export interface WorkerTaskOutput {
  events: PendingOp[];
  /** Messages the task completed (ok). */
  sent: number;
  error?: { code: string; message: string };
}

export async function runWorkerTask(input: WorkerTaskInput): Promise<WorkerTaskOutput> {
  const rec = new HistoryRecorder(BigInt(input.origin));
  let sent = 0;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = assertAdapterModule(require(input.spec.modulePath), input.spec.modulePath);
    const raw = await mod.createAdapter({ ...input.spec.options, worker: { data: input.spec.data } });
    const t = input.task;
    if (t.kind === 'log-send') {
      const a = new RecordingLogAdapter(assertAdapter('kafka', raw, input.spec.modulePath), rec, input.timeouts, input.scope);
      try {
        const p = await a.producer({ acks: t.acks });
        for (let i = 0; i < t.records.length; i += t.batchSize) {
          const rs = await p.send(t.topic, t.records.slice(i, i + t.batchSize), t.meta);
          sent += rs.length;
        }
        await p.close();
      } finally {
        await a.close();
      }
    } else if (t.kind === 'queue-publish') {
      const a = new RecordingQueueAdapter(assertAdapter('rabbitmq', raw, input.spec.modulePath), rec, input.timeouts, input.scope);
      try {
        const ch = await a.openChannel({ confirms: t.confirms });
        for (const m of t.messages) {
          await ch.publish(t.exchange, t.routingKey, m, {}, t.meta);
          sent++;
        }
        await ch.close();
      } finally {
        await a.close();
      }
    } else {
      const a = new RecordingBrokerAdapter(assertAdapter('rocketmq', raw, input.spec.modulePath), rec, input.timeouts, input.scope);
      try {
        const p = await a.producer({ group: t.group });
        for (const m of t.messages) {
          await p.send(m, {}, t.meta);
          sent++;
        }
        await p.close();
      } finally {
        await a.close();
      }
    }
    return { events: rec.pending(), sent };
  } catch (e) {
    const err = e instanceof Error ? { code: String((e as { code?: unknown }).code ?? 'ERR_WORKER'), message: e.message } : { code: 'ERR_WORKER', message: String(e) };
    return { events: rec.pending(), sent, error: err };
  }
}

export default runWorkerTask;
