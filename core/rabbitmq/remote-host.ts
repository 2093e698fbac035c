import type { MessagePort } from 'node:worker_threads';
import { MqlabError } from '../errors';
import { serveRpc, type RpcServer } from '../threads';
import type { Channel } from './channel';
import type { ConfirmChannel } from './confirm-channel';
import type { Connection } from './connection';
import type { ConsumeMessage, GetMessage, PublishOptions, ReturnMessage } from './types';

/**
 * Serves an engine to another thread over a MessagePort (with the core/threads RPC bridge), so
 * producers and consumers on worker threads use the engine living on this one. The client side
 * is remote-client.ts.
 *
 * Wire protocol (all structured-clone):
 *  - calls: connect, openChannel, closeChannel, closeConnection, op (declarations, get, prefetch,
 *    cancel, consume), and `batch` — publishes and settles of one client turn, in order, in one
 *    message. `batch` replies once every publish in it is confirmed (confirm channels), with the
 *    client sequence numbers that were nacked and the first error, if any.
 *  - events: `deliveries` (push deliveries, batched per engine turn) and `return`.
 */

/** What the host needs from an engine: connections (followed across engine restarts). */
export interface EngineLike {
  connect(): Promise<Connection>;
}

export type BatchOp =
  | { k: 'pub'; seq: number; exchange: string; routingKey: string; content: Uint8Array; options?: PublishOptions }
  | { k: 'ack'; tag: number; multiple: boolean }
  | { k: 'nack'; tag: number; multiple: boolean; requeue: boolean };

export interface BatchReply {
  nacked: number[];
  error?: { code: string; message: string; details?: Record<string, unknown> };
}

export interface WireDelivery {
  channel: number;
  consumerTag: string;
  messages: Array<ConsumeMessage | null>;
}

const OPS = new Set(['assertExchange', 'checkExchange', 'deleteExchange', 'assertQueue', 'checkQueue', 'deleteQueue', 'purgeQueue', 'bindQueue', 'unbindQueue', 'prefetch', 'cancel', 'get', 'recover']);

export class RemoteEngineHost {
  private readonly connections = new Map<number, Connection>();
  private readonly channels = new Map<number, Channel>();
  private nextId = 1;
  private server: RpcServer | null = null;
  private outbox: WireDelivery[] = [];
  private outboxQueued = false;

  constructor(private readonly engine: EngineLike) {}

  /** Not callable over the port (leading underscore). */
  _attach(server: RpcServer): void {
    this.server = server;
  }

  async connect(): Promise<number> {
    const id = this.nextId++;
    this.connections.set(id, await this.engine.connect());
    return id;
  }

  async openChannel(connection: number, confirm: boolean): Promise<number> {
    const conn = this.connections.get(connection);
    if (!conn) throw new MqlabError('ERR_CLOSED', `remote connection ${connection} is closed`);
    const ch = confirm ? await conn.createConfirmChannel() : await conn.createChannel();
    const id = this.nextId++;
    this.channels.set(id, ch);
    ch.on('return', (m: ReturnMessage) => this.server?.emit('return', { channel: id, message: m }));
    ch.on('error', () => undefined);
    return id;
  }

  async closeChannel(channel: number): Promise<void> {
    const ch = this.channels.get(channel);
    this.channels.delete(channel);
    await ch?.close();
  }

  async closeConnection(connection: number): Promise<void> {
    const conn = this.connections.get(connection);
    this.connections.delete(connection);
    if (conn) for (const ch of conn.channels) for (const [id, c] of this.channels) if (c === ch) this.channels.delete(id);
    await conn?.close();
  }

  async op(channel: number, method: string, args: unknown[]): Promise<unknown> {
    const ch = this.channel(channel);
    if (method === 'consume') {
      const [queue, options] = args as [string, { consumerTag: string; noAck?: boolean; exclusive?: boolean }];
      return ch.consume(queue, (m) => this.deliver(channel, options.consumerTag, m), options);
    }
    if (!OPS.has(method)) throw new MqlabError('ERR_INVALID_ARG', `no remote channel operation ${JSON.stringify(method)}`);
    const result = await (ch as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!(...args);
    return result as GetMessage | false | object;
  }

  async batch(channel: number, ops: BatchOp[]): Promise<BatchReply> {
    const ch = this.channel(channel);
    const nacked: number[] = [];
    const confirms: Promise<void>[] = [];
    let error: BatchReply['error'];
    for (const op of ops) {
      try {
        if (op.k === 'pub') {
          if (ch.confirmMode) {
            confirms.push(
              new Promise<void>((resolve) => {
                (ch as ConfirmChannel).publish(op.exchange, op.routingKey, op.content, op.options, (err) => {
                  if (err) nacked.push(op.seq);
                  resolve();
                });
              }),
            );
          } else ch.publish(op.exchange, op.routingKey, op.content, op.options);
        } else if (op.k === 'ack') ch.ack(op.tag, op.multiple);
        else ch.nack(op.tag, op.multiple, op.requeue);
      } catch (e) {
        if (op.k === 'pub') nacked.push(op.seq);
        error ??= e instanceof MqlabError ? e.toJSON() : { code: 'ERR_REMOTE', message: String((e as Error)?.message ?? e) };
      }
    }
    if (confirms.length > 0) await Promise.all(confirms);
    else await new Promise<void>((r) => setImmediate(r)); // let returns of this batch go out first
    return error ? { nacked, error } : { nacked };
  }

  private channel(id: number): Channel {
    const ch = this.channels.get(id);
    if (!ch || ch.closed) throw new MqlabError('ERR_CLOSED', `remote channel ${id} is closed`);
    return ch;
  }

  /** Deliveries leave in one message per engine turn. */
  private deliver(channel: number, consumerTag: string, m: ConsumeMessage | null): void {
    const last = this.outbox[this.outbox.length - 1];
    if (last && last.channel === channel && last.consumerTag === consumerTag) last.messages.push(m);
    else this.outbox.push({ channel, consumerTag, messages: [m] });
    if (this.outboxQueued) return;
    this.outboxQueued = true;
    queueMicrotask(() => {
      this.outboxQueued = false;
      const out = this.outbox;
      this.outbox = [];
      this.server?.emit('deliveries', out);
    });
  }

  /** Closes every connection opened through this host (their unacked deliveries are requeued). */
  async _closeAll(): Promise<void> {
    for (const id of [...this.connections.keys()]) await this.closeConnection(id).catch(() => undefined);
  }
}

/** Serve `engine` on `port`; returns a handle whose close() also closes the remote connections. */
export function serveRemoteEngine(port: MessagePort, engine: EngineLike): { close(): void } {
  const host = new RemoteEngineHost(engine);
  const server = serveRpc(port, host);
  host._attach(server);
  return {
    close() {
      void host._closeAll();
      server.close();
    },
  };
}
