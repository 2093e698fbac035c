/**
 * Reading targets to quiescence, then saying so in the history (`drain`), which is what lets
 * the checker call a message that never arrived lost. A drain that does not go quiet within its
 * deadline throws instead of marking anything.
 */
import { MqlabError } from '../../../core/errors';
import type { ModelName } from '../../adapters/common';
import type { ConsumeStatus, ReceivedMessage } from '../../adapters/broker-model';
import type { ConsumedRecord } from '../../adapters/log-model';
import type { RecordingBrokerConsumer } from '../recording/recording-broker';
import type { RecordingLogConsumer } from '../recording/recording-log';
import type { CheckContext } from './check';

export interface DrainOptions {
  /** Quiet time that counts as drained; default ctx.scale.idleMs. */
  idleMs?: number;
  /** Give up (throw) after this long; default 30 s, or 10 min in --long. */
  deadlineMs?: number;
}

function deadlineError(what: string, ms: number): MqlabError {
  return new MqlabError('ERR_TIMEOUT', `${what} did not go quiet within ${ms} ms`, { timeoutMs: ms });
}

function checkOverflow<M extends ModelName>(ctx: CheckContext<M>): void {
  if (ctx.recorder.overflowed) throw new MqlabError('ERR_HISTORY_LIMIT', `more than ${ctx.recorder.limit} operations recorded: a runaway delivery loop?`);
}

function limits<M extends ModelName>(ctx: CheckContext<M>, o: DrainOptions): { idle: number; deadline: number; budget: number } {
  const budget = o.deadlineMs ?? (ctx.scale.long ? 600_000 : 30_000);
  return { idle: o.idleMs ?? ctx.scale.idleMs, deadline: Date.now() + budget, budget };
}

export interface LogDrainOptions extends DrainOptions {
  /** Commit after each non-empty poll (default true). */
  commit?: boolean;
  maxRecords?: number;
  onRecord?: (consumer: RecordingLogConsumer, record: ConsumedRecord) => void;
}

/** Polls every consumer in turn until all stay empty for the idle time; returns records per consumer name. */
export async function drainLog(ctx: CheckContext<'kafka'>, consumers: readonly RecordingLogConsumer[], o: LogDrainOptions = {}): Promise<Map<string, ConsumedRecord[]>> {
  const { idle, deadline, budget } = limits(ctx, o);
  const got = new Map<string, ConsumedRecord[]>(consumers.map((c) => [c.name, []]));
  let quietSince = Date.now();
  for (;;) {
    let any = false;
    for (const c of consumers) {
      const rs = await c.poll({ maxRecords: o.maxRecords ?? 500, timeoutMs: Math.min(50, idle) });
      if (rs.length === 0) continue;
      any = true;
      got.get(c.name)!.push(...rs);
      if (o.onRecord) for (const r of rs) o.onRecord(c, r);
      if (o.commit !== false) await c.commit();
    }
    checkOverflow(ctx);
    const now = Date.now();
    if (any) quietSince = now;
    else if (now - quietSince >= idle) break;
    if (now > deadline) throw deadlineError('draining the log consumers', budget);
  }
  ctx.drained([...new Set(consumers.map((c) => c.target))]);
  return got;
}

export interface BrokerDrainOptions extends DrainOptions {
  /** The listener's verdict per message; default CONSUME_SUCCESS. */
  settle?: (consumer: RecordingBrokerConsumer, message: ReceivedMessage) => ConsumeStatus;
  /** Advance virtual time by this much while idle (delays, retries), when the adapter can. */
  advanceMs?: number;
}

export async function drainBroker(ctx: CheckContext<'rocketmq'>, consumers: readonly RecordingBrokerConsumer[], o: BrokerDrainOptions = {}): Promise<Map<string, ReceivedMessage[]>> {
  const { idle, deadline, budget } = limits(ctx, o);
  const got = new Map<string, ReceivedMessage[]>(consumers.map((c) => [c.name, []]));
  let quietSince = Date.now();
  for (;;) {
    let any = false;
    for (const c of consumers) {
      const ms = await c.receive({ maxMessages: 64, timeoutMs: Math.min(50, idle) });
      if (ms.length === 0) continue;
      any = true;
      got.get(c.name)!.push(...ms);
      for (const m of ms) await c.settle(m, o.settle ? o.settle(c, m) : 'CONSUME_SUCCESS');
    }
    checkOverflow(ctx);
    const now = Date.now();
    if (any) quietSince = now;
    else if (o.advanceMs && ctx.has('virtual-time')) await ctx.adapter.advanceTime(o.advanceMs);
    if (!any && now - quietSince >= idle) break;
    if (now > deadline) throw deadlineError('draining the broker consumers', budget);
  }
  ctx.drained([...new Set(consumers.map((c) => c.target))]);
  return got;
}

/**
 * For push consumers (queue model): waits until `count()` (deliveries seen so far) stops
 * changing for the idle time, then marks `targets` drained.
 */
export async function drainPush<M extends ModelName>(ctx: CheckContext<M>, targets: readonly string[], count: () => number, o: DrainOptions = {}): Promise<void> {
  const { idle, deadline, budget } = limits(ctx, o);
  let last = count();
  let quietSince = Date.now();
  for (;;) {
    await ctx.sleep(Math.min(20, idle));
    const n = count();
    const now = Date.now();
    if (n !== last) {
      last = n;
      quietSince = now;
    } else if (now - quietSince >= idle) break;
    if (now > deadline) throw deadlineError('waiting for push deliveries', budget);
  }
  ctx.drained(targets);
}
