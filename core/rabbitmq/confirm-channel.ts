import { Channel, type ConfirmCallback } from './channel';
import type { Connection } from './connection';
import type { PublishOptions } from './types';

/**
 * A channel in confirm mode (amqplib's ConfirmChannel): every publish is acknowledged by the
 * engine once routed into all its queues (and, for persistent messages in durable queues, once
 * written to their logs; under durability 'sync', once on stable storage). A queue refusing the
 * message (x-overflow reject-publish) is a nack: the callback gets an error.
 */
export class ConfirmChannel extends Channel {
  constructor(connection: Connection, id: number) {
    super(connection, id, true);
  }

  override publish(exchange: string, routingKey: string, content: Uint8Array, options?: PublishOptions, callback?: ConfirmCallback): boolean {
    return this.publishWith(exchange, routingKey, content, options, callback);
  }

  override sendToQueue(queue: string, content: Uint8Array, options?: PublishOptions, callback?: ConfirmCallback): boolean {
    return this.publishWith('', queue, content, options, callback);
  }

  /** Resolves when every message published so far is confirmed; rejects if any was nacked. */
  waitForConfirms(): Promise<void> {
    return this.waitForAll();
  }
}
