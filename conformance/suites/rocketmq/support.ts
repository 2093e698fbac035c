/**
 * Helpers shared by the RocketMQ-model checks (this file exports no `checks`, so the registry
 * loads it and moves on).
 */
import type { BrokerConsumerOptions, ConsumeStatus, OutgoingMessage, ReceivedMessage, SendResult } from '../../adapters/broker-model';
import type { CheckContext } from '../framework/check';
import type { RecordingBrokerConsumer, RecordingBrokerProducer } from '../recording/recording-broker';

export type Ctx = CheckContext<'rocketmq'>;

/** How many messages a check sends: the run's scale, capped. */
export function count(ctx: Ctx, cap = 400): number {
  return Math.max(16, Math.min(cap, ctx.scale.messages));
}

export async function sendAll(p: RecordingBrokerProducer, msgs: readonly OutgoingMessage[], options: (m: OutgoingMessage) => Parameters<RecordingBrokerProducer['send']>[1] = () => undefined): Promise<SendResult[]> {
  const out: SendResult[] = [];
  for (const m of msgs) out.push(await p.send(m, options(m)));
  return out;
}

/** A started consumer subscribed to `topic`. */
export async function startConsumer(ctx: Ctx, topic: string, expression: string, options: BrokerConsumerOptions): Promise<RecordingBrokerConsumer> {
  const c = await ctx.adapter.consumer(options);
  await c.subscribe(topic, expression);
  await c.start();
  return c;
}

/**
 * Receives (and settles with `status`) until `n` messages came or `ms` of real time pass; returns
 * what came. Does not mark anything drained.
 */
export async function receiveUntil(consumers: readonly RecordingBrokerConsumer[], n: number, ms = 10_000, status: (m: ReceivedMessage) => ConsumeStatus = () => 'CONSUME_SUCCESS'): Promise<ReceivedMessage[]> {
  const got: ReceivedMessage[] = [];
  const end = Date.now() + ms;
  while (got.length < n && Date.now() < end) {
    for (const c of consumers) {
      const ms2 = await c.receive({ maxMessages: 64, timeoutMs: 20 });
      for (const m of ms2) {
        got.push(m);
        await c.settle(m, status(m));
      }
    }
  }
  return got;
}

/** Receives for `ms` of real time, expecting nothing; returns what came anyway. */
export async function receiveNothing(c: RecordingBrokerConsumer, ms: number): Promise<ReceivedMessage[]> {
  const got: ReceivedMessage[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ms2 = await c.receive({ maxMessages: 64, timeoutMs: 20 });
    for (const m of ms2) {
      got.push(m);
      await c.settle(m, 'CONSUME_SUCCESS');
    }
  }
  return got;
}

export function messages(ctx: Ctx, topic: string, n: number, extra: (i: number) => Partial<OutgoingMessage> = () => ({})): OutgoingMessage[] {
  return Array.from({ length: n }, (_, i) => ({ id: ctx.id(), topic, body: `m${i}`, ...extra(i) }));
}

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

/** An adapter method beyond the interface, when the adapter has it (e.g. the built-in `stopBroker`). */
export function extension<T>(ctx: Ctx, method: string): T | undefined {
  const inner = ctx.adapter.inner as unknown as Record<string, unknown>;
  const f = inner[method];
  return typeof f === 'function' ? ((f as (...a: unknown[]) => unknown).bind(inner) as T) : undefined;
}
