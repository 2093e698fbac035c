import type { Channel } from './channel';
import type { DeliveryHolder, QueueEntry } from './message';
import type { Queue } from './queue';
import type { ConsumeMessage, MessageProperties } from './types';

/**
 * A push consumer on one queue (basic.consume). It takes deliveries while it has room under its
 * prefetch (and the channel's global prefetch); auto-ack consumers always have room.
 */
export class Consumer implements DeliveryHolder {
  unacked = 0;
  active = true;

  constructor(
    readonly tag: string,
    readonly channel: Channel,
    readonly queue: Queue,
    readonly noAck: boolean,
    readonly exclusive: boolean,
    /** 0 = unlimited. */
    readonly prefetch: number,
    private readonly onMessage: (msg: ConsumeMessage | null) => void,
  ) {}

  hasRoom(): boolean {
    if (this.noAck) return true;
    if (this.prefetch !== 0 && this.unacked >= this.prefetch) return false;
    return this.channel.hasRoom();
  }

  deliver(entry: QueueEntry): void {
    const channel = this.channel;
    const tag = channel.nextDeliveryTag();
    const queue = this.queue;
    if (this.noAck) {
      queue.settle(entry);
    } else {
      queue.markUnacked(entry);
      entry.holder = this;
      entry.deliveryTag = tag;
      this.unacked++;
      channel.track(entry, true);
    }
    const m = entry.message;
    const msg: ConsumeMessage = {
      content: m.content,
      fields: { consumerTag: this.tag, deliveryTag: tag, redelivered: entry.redelivered, exchange: m.exchange, routingKey: m.routingKey },
      properties: entry.deliveryCount > 0 && queue.addsDeliveryCount ? withDeliveryCount(m.properties, entry.deliveryCount) : m.properties,
    };
    try {
      this.onMessage(msg);
    } catch (e) {
      channel.consumerFailed(e);
    }
  }

  released(entry: QueueEntry): void {
    entry.holder = null;
    this.unacked--;
    this.channel.releasedOne();
    if (this.active && this.queue.readyCount > 0 && !this.queue.dispatchQueued) this.queue.host.scheduleDispatch(this.queue);
  }

  /** The queue was deleted under the consumer: amqplib calls the callback with null. */
  cancelledByServer(): void {
    this.active = false;
    try {
      this.onMessage(null);
    } catch (e) {
      this.channel.consumerFailed(e);
    }
  }
}

export function withDeliveryCount(p: MessageProperties, count: number): MessageProperties {
  return { ...p, headers: { ...p.headers, 'x-delivery-count': count } };
}
