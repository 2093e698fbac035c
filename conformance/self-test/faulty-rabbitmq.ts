/**
 * A queue-model adapter that wraps the in-memory example and breaks one rule. Faults:
 *  - drop:               some deliveries never reach the consumer (acked behind its back) -> lost
 *  - duplicate:          some deliveries are handed to the consumer twice              -> duplicate
 *  - never-redeliver:    nack/reject with requeue drops the message instead            -> missing-redelivery
 *  - ignore-limit:       the delivery limit is not applied                              -> redelivery-past-limit
 *  - deliver-unroutable: unroutable publishes are pushed into some queue anyway         -> unroutable-delivered
 *  - lose-on-crash:      a crashed channel's unacked deliveries are dropped             -> missing-redelivery
 *  - reorder:            consume holds some deliveries back behind the next one         -> reorder
 */
import type { AdapterOptions } from '../adapters/common';
import type { ChannelOptions, ConsumeOptions, PublishMessage, PublishOptions, QueueAdapter, QueueArguments, QueueChannel, QueueDelivery } from '../adapters/queue-model';
import { MemoryQueueAdapter } from '../adapters/memory/rabbitmq';
import { faultOf, hits } from './fault-plan';

export const RABBITMQ_FAULTS = ['drop', 'duplicate', 'never-redeliver', 'ignore-limit', 'deliver-unroutable', 'lose-on-crash', 'reorder'] as const;
export type RabbitmqFault = (typeof RABBITMQ_FAULTS)[number];

export function createAdapter(options: AdapterOptions): QueueAdapter {
  const fault = faultOf(options, RABBITMQ_FAULTS);
  const inner = new MemoryQueueAdapter();
  const queues: string[] = [];
  const wrapChannel = (ch: QueueChannel): QueueChannel => {
    const held = new Set<number>();
    const faulty: QueueChannel = {
      assertExchange: (n, t, o) => ch.assertExchange(n, t, o),
      assertQueue: (name: string, args: QueueArguments = {}) => {
        queues.push(name);
        if (fault !== 'ignore-limit') return ch.assertQueue(name, args);
        const { deliveryLimit: _ignored, ...rest } = args;
        return ch.assertQueue(name, rest);
      },
      deleteQueue: (n) => ch.deleteQueue(n),
      deleteExchange: (n) => ch.deleteExchange(n),
      purgeQueue: (n) => ch.purgeQueue(n),
      bindQueue: (q, e, k, a) => ch.bindQueue(q, e, k, a),
      unbindQueue: (q, e, k, a) => ch.unbindQueue(q, e, k, a),
      checkQueue: (n) => ch.checkQueue(n),
      publish: async (exchange: string, routingKey: string, m: PublishMessage, o?: PublishOptions) => {
        const r = await ch.publish(exchange, routingKey, m, o);
        if (fault === 'deliver-unroutable' && r.returned && queues.length > 0) {
          await ch.publish('', queues[queues.length - 1]!, m);
          return { ...r, returned: false };
        }
        return r;
      },
      prefetch: (n) => ch.prefetch(n),
      consume: (queue: string, onDelivery: (d: QueueDelivery) => void, o?: ConsumeOptions) => {
        // reorder: one delivery at a time waits for the next (or 50 ms) and is handed out after it.
        let heldBack: { d: QueueDelivery; timer: NodeJS.Timeout } | null = null;
        const release = () => {
          if (!heldBack) return;
          const { d, timer } = heldBack;
          heldBack = null;
          clearTimeout(timer);
          onDelivery(d);
        };
        return ch.consume(
          queue,
          (d) => {
            if (fault === 'reorder') {
              held.add(d.deliveryTag);
              if (!heldBack && hits(d.id, 4) && !d.redelivered) {
                heldBack = { d, timer: setTimeout(release, 50) };
                return;
              }
              onDelivery(d);
              release();
              return;
            }
            if (fault === 'drop' && hits(d.id, 7) && !d.redelivered) {
              if (!o?.noAck) void ch.ack(d.deliveryTag).catch(() => undefined);
              return;
            }
            held.add(d.deliveryTag);
            onDelivery(d);
            if (fault === 'duplicate' && hits(d.id, 5) && !d.redelivered) onDelivery(d);
          },
          o,
        );
      },
      cancel: (t) => ch.cancel(t),
      get: (q, o) => ch.get(q, o),
      ack: (tag: number, multiple?: boolean) => {
        // The duplicate fault handed the same tag out twice: settle it once.
        if (!held.has(tag) && fault === 'duplicate') return Promise.resolve();
        held.delete(tag);
        return ch.ack(tag, multiple);
      },
      nack: (tag: number, o: { multiple?: boolean; requeue?: boolean } = {}) => {
        if (!held.has(tag) && fault === 'duplicate') return Promise.resolve();
        held.delete(tag);
        return ch.nack(tag, fault === 'never-redeliver' ? { ...o, requeue: false } : o);
      },
      reject: (tag: number, requeue?: boolean) => {
        held.delete(tag);
        return ch.reject(tag, fault === 'never-redeliver' ? false : requeue);
      },
      close: () => ch.close(),
      crash: async () => {
        if (fault === 'lose-on-crash') for (const tag of held) await ch.nack(tag, { requeue: false }).catch(() => undefined);
        return ch.crash();
      },
    };
    return faulty;
  };
  return {
    info: { ...inner.info, name: `faulty(${fault}) in-memory queue adapter` },
    openChannel: async (o?: ChannelOptions) => wrapChannel(await inner.openChannel(o)),
    restartBroker: () => inner.restartBroker(),
    advanceTime: (ms) => inner.advanceTime(ms),
    close: () => inner.close(),
  };
}
