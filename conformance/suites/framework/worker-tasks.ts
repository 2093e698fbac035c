/**
 * Producer / consumer work that can run on a worker thread. Each task re-creates the adapter
 * from the main thread's WorkerSpec, wraps it in a recording adapter whose recorder shares the
 * main recorder's time origin, does its work, closes the adapter and returns the recorded events
 * (merged into the main history by time).
 */
import { toWireError, type WireError } from '../../../core/threads';
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
  | { kind: 'broker-send'; group: string; messages: OutgoingMessage[]; meta?: BrokerSendMeta }
  | LogConsumeTask
  | QueueConsumeTask
  | BrokerConsumeTask
  | { kind: 'probe-consumers' };

/**
 * Consumer tasks read until they have `expect` messages and nothing more came for `idleMs`
 * (late duplicates), or nothing at all came for `giveUpMs` (a lossy implementation), settling
 * each message (commit after each poll, ack, CONSUME_SUCCESS). The main thread then marks the
 * target drained.
 */
interface ConsumeBounds {
  expect: number;
  idleMs: number;
  giveUpMs: number;
}

export interface LogConsumeTask extends ConsumeBounds {
  kind: 'log-consume';
  topics: string[];
  groupId: string;
}

export interface QueueConsumeTask extends ConsumeBounds {
  kind: 'queue-consume';
  queue: string;
  prefetch?: number;
}

export interface BrokerConsumeTask extends ConsumeBounds {
  kind: 'broker-consume';
  group: string;
  topic: string;
  expression: string;
  instanceName: string;
}

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
  /** Messages the task completed (ok): sent, or received by a consumer task. */
  sent: number;
  /** Why the task failed, with the error's code and details (core/threads wire-error.ts). */
  error?: WireError;
}

/**
 * Waits until `count()` reached `b.expect` and stayed still for `b.idleMs`, or stayed still for
 * `b.giveUpMs` short of it (30 s before the first message: producers may still be starting).
 */
async function untilQuiet(b: ConsumeBounds, count: () => number, step: () => Promise<void>): Promise<void> {
  let last = count();
  let since = Date.now();
  for (;;) {
    await step();
    const n = count();
    const now = Date.now();
    if (n !== last) {
      last = n;
      since = now;
    } else if ((n >= b.expect && now - since >= b.idleMs) || now - since >= (n === 0 ? Math.max(b.giveUpMs, 30_000) : b.giveUpMs)) return;
  }
}

export async function runWorkerTask(input: WorkerTaskInput): Promise<WorkerTaskOutput> {
  const rec = new HistoryRecorder(BigInt(input.origin));
  let sent = 0;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = assertAdapterModule(require(input.spec.modulePath), input.spec.modulePath);
    const raw = await mod.createAdapter({ ...input.spec.options, worker: { data: input.spec.data } });
    const t = input.task;
    if (t.kind === 'probe-consumers') {
      // Whether this adapter's worker side can consume (some serve only producers to workers).
      try {
        if (input.model === 'kafka') await (await assertAdapter('kafka', raw, input.spec.modulePath).consumer({ groupId: `probe-${process.pid}`, autoOffsetReset: 'earliest' })).close();
        else if (input.model === 'rabbitmq') await (await assertAdapter('rabbitmq', raw, input.spec.modulePath).openChannel()).close();
        else await (await assertAdapter('rocketmq', raw, input.spec.modulePath).consumer({ group: `probe-${process.pid}`, model: 'CLUSTERING', instanceName: 'probe' })).shutdown();
        sent = 1;
      } catch {
        sent = 0;
      } finally {
        await (raw as { close(): Promise<void> }).close().catch(() => undefined);
      }
    } else if (t.kind === 'log-consume') {
      const a = new RecordingLogAdapter(assertAdapter('kafka', raw, input.spec.modulePath), rec, input.timeouts, input.scope);
      try {
        const c = await a.consumer({ groupId: t.groupId, autoOffsetReset: 'earliest' });
        await c.subscribe(t.topics);
        await untilQuiet(t, () => sent, async () => {
          const rs = await c.poll({ maxRecords: 500, timeoutMs: Math.min(50, t.idleMs) });
          if (rs.length === 0) return;
          sent += rs.length;
          await c.commit();
        });
        await c.close();
      } finally {
        await a.close();
      }
    } else if (t.kind === 'queue-consume') {
      const a = new RecordingQueueAdapter(assertAdapter('rabbitmq', raw, input.spec.modulePath), rec, input.timeouts, input.scope);
      try {
        const ch = await a.openChannel();
        if (t.prefetch !== undefined) await ch.prefetch(t.prefetch);
        const settles: Promise<void>[] = [];
        await ch.consume(t.queue, (d) => {
          sent++;
          settles.push(ch.ack(d.deliveryTag));
        });
        await untilQuiet(t, () => sent, () => new Promise((r) => setTimeout(r, 20)));
        await Promise.all(settles);
        await ch.close();
      } finally {
        await a.close();
      }
    } else if (t.kind === 'broker-consume') {
      const a = new RecordingBrokerAdapter(assertAdapter('rocketmq', raw, input.spec.modulePath), rec, input.timeouts, input.scope);
      try {
        const c = await a.consumer({ group: t.group, model: 'CLUSTERING', instanceName: t.instanceName, consumeFrom: { from: 'first' } });
        await c.subscribe(t.topic, t.expression);
        await c.start();
        await untilQuiet(t, () => sent, async () => {
          const ms = await c.receive({ maxMessages: 64, timeoutMs: Math.min(50, t.idleMs) });
          for (const m of ms) await c.settle(m, 'CONSUME_SUCCESS');
          sent += ms.length;
        });
        await c.shutdown();
      } finally {
        await a.close();
      }
    } else if (t.kind === 'log-send') {
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
    return { events: rec.pending(), sent, error: toWireError(e, 'ERR_WORKER') };
  }
}

export default runWorkerTask;
