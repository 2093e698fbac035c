/**
 * Helpers shared by the RabbitMQ-model checks (this file exports no `checks`, so the registry
 * loads it and moves on).
 */
import type { QueueDelivery } from '../../adapters/queue-model';
import type { CheckContext } from '../framework/check';
import type { RecordingQueueChannel } from '../recording/recording-queue';

export type Ctx = CheckContext<'rabbitmq'>;

/**
 * Pulls with `get` until the queue stays empty for the idle time, acking each delivery unless
 * `ack` is false, then marks the queue drained (the checker may now call missing messages lost).
 */
export async function pullAll(ctx: Ctx, ch: RecordingQueueChannel, queue: string, o: { ack?: boolean; noAck?: boolean } = {}): Promise<QueueDelivery[]> {
  const out: QueueDelivery[] = [];
  let quietSince = Date.now();
  for (;;) {
    const d = await ch.get(queue, { noAck: o.noAck ?? false });
    if (d) {
      out.push(d);
      if (!o.noAck && o.ack !== false) await ch.ack(d.deliveryTag);
      quietSince = Date.now();
      continue;
    }
    if (Date.now() - quietSince >= ctx.scale.idleMs) break;
    await ctx.sleep(5);
  }
  ctx.drained([queue]);
  return out;
}

/**
 * A dead-letter exchange and the queue that collects what reaches it: a fanout exchange, or with
 * `key` a direct one bound by that key. The queue is named from `deadPrefix` (default 'dead').
 */
export async function deadLetterTarget(ctx: Ctx, ch: RecordingQueueChannel, o: { deadPrefix?: string; key?: string } = {}): Promise<{ dlx: string; dead: string }> {
  const dlx = ctx.name('dlx');
  const dead = ctx.name(o.deadPrefix ?? 'dead');
  await ch.assertExchange(dlx, o.key === undefined ? 'fanout' : 'direct');
  await ch.assertQueue(dead);
  await ch.bindQueue(dead, dlx, o.key ?? '');
  return { dlx, dead };
}

/** Waits until `cond()` holds or `ms` pass; returns whether it held. */
export async function waitFor(ctx: Ctx, cond: () => boolean, ms = 5_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await ctx.sleep(5);
  }
  return true;
}

export function ids(list: readonly QueueDelivery[]): string[] {
  return list.map((d) => d.id);
}

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

/** How many messages a check sends: the run's scale, capped for checks that are per-message heavy. */
export function count(ctx: Ctx, cap = 1_000): number {
  return Math.max(10, Math.min(cap, ctx.scale.messages));
}
