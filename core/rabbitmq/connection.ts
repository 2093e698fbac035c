import { EventEmitter } from 'node:events';
import { Errors } from '../errors';
import { Channel } from './channel';
import { ConfirmChannel } from './confirm-channel';
import type { RabbitEngine } from './engine';

/**
 * A client connection (amqplib's `ChannelModel`): it owns channels and exclusive queues. Closing
 * it closes its channels (their unacked deliveries are requeued) and deletes its exclusive
 * queues.
 */
export class Connection extends EventEmitter {
  readonly channels = new Set<Channel>();
  closed = false;
  private nextChannelId = 1;

  constructor(readonly engine: RabbitEngine) {
    super();
  }

  async createChannel(): Promise<Channel> {
    return this.openChannel(false);
  }

  async createConfirmChannel(): Promise<ConfirmChannel> {
    return this.openChannel(true) as ConfirmChannel;
  }

  openChannel(confirm: boolean): Channel {
    this.engine.checkOpen();
    if (this.closed) throw Errors.closed('connection');
    const ch = confirm ? new ConfirmChannel(this, this.nextChannelId++) : new Channel(this, this.nextChannelId++, false);
    this.channels.add(ch);
    return ch;
  }

  /** @internal */
  channelClosed(ch: Channel): void {
    this.channels.delete(ch);
  }

  async close(): Promise<void> {
    this.closeNow();
  }

  closeNow(): void {
    if (this.closed) return;
    for (const ch of [...this.channels]) ch.closeNow();
    this.closed = true;
    this.engine.connectionClosed(this);
    this.emit('close');
  }

  /** Engine crash: drop everything without returning deliveries. */
  abandon(): void {
    if (this.closed) return;
    for (const ch of [...this.channels]) ch.abandon();
    this.closed = true;
  }
}
