import type { MessagePort } from 'node:worker_threads';
import { MqlabError } from '../errors';
import { serveRpc, toWireError, type RpcServer, type WireError } from '../threads';
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
 *    client sequence numbers that were nacked with the error each one's callback gets, and the
 *    first error an operation threw, if any (errors keep their code: core/threads wire-error.ts).
 *  - events: `deliveries` (push deliveries, batched per engine turn) and `return`.
 */

/** What the host needs from an engine: connections (followed across engine restarts). */
export interface EngineLike {
  connect(): Promise<Connection>;
}

export type BatchOp =
  | { k: 'pub'; seq: number; exchange: string; routingKey: string; content: Uint8Array; options?: PublishOptions }
  /** `count` messages of `size` bytes back to back in `data`, one publish each (benchmarks). */
  | { k: 'pubs'; seq: number; exchange: string; routingKey: string; data: Uint8Array; count: number; size: number; options?: PublishOptions }
  | { k: 'ack'; tag: number; multiple: boolean }
  | { k: 'nack'; tag: number; multiple: boolean; requeue: boolean };

export interface BatchReply {
  /** Client sequence numbers of the publishes that were nacked (or threw). */
  nacked: number[];
  /** Per nacked publish (same order): the error its confirm callback gets. */
  reasons?: WireError[];
  /** The first error an operation of the batch threw (sync() rejects with it). */
  error?: WireError;
}

export interface WireDelivery {
  channel: number;
  consumerTag: string;
  messages: Array<ConsumeMessage | null>;
}

/** Deliveries of a `packed` consumer: contents back to back, same size, consecutive tags. */
export interface PackedDelivery {
  channel: number;
  consumerTag: string;
  data: Uint8Array;
  count: number;
  size: number;
  firstTag: number;
  lastTag: number;
}

class Packer {
  buf: Buffer = Buffer.allocUnsafe(64 * 1024);
  used = 0;
  count = 0;
  size = -1;
  firstTag = 0;
  lastTag = 0;
}

const OPS = new Set(['assertExchange', 'checkExchange', 'deleteExchange', 'assertQueue', 'checkQueue', 'deleteQueue', 'purgeQueue', 'bindQueue', 'unbindQueue', 'prefetch', 'cancel', 'get', 'recover']);

export class RemoteEngineHost {
  private readonly connections = new Map<number, Connection>();
  private readonly channels = new Map<number, Channel>();
  private nextId = 1;
  private server: RpcServer | null = null;
  private outbox: WireDelivery[] = [];
  private outboxQueued = false;
  private readonly packers = new Map<string, Packer>();
  private packedQueued = false;

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
      const [queue, options] = args as [string, { consumerTag: string; noAck?: boolean; exclusive?: boolean; packed?: boolean }];
      if (options.packed) {
        const key = `${channel}\u0000${options.consumerTag}`;
        return ch.consume(queue, (m) => m && this.pack(channel, options.consumerTag, key, m), options);
      }
      return ch.consume(queue, (m) => this.deliver(channel, options.consumerTag, m), options);
    }
    if (!OPS.has(method)) throw new MqlabError('ERR_INVALID_ARG', `no remote channel operation ${JSON.stringify(method)}`);
    const result = await (ch as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!(...args);
    if (method === 'get' && result !== false) return exactCopy(result as GetMessage);
    return result;
  }

  async batch(channel: number, ops: BatchOp[]): Promise<BatchReply> {
    const ch = this.channel(channel);
    const nacked: number[] = [];
    const reasons: WireError[] = [];
    const confirms: Promise<void>[] = [];
    let error: WireError | undefined;
    const nack = (seq: number, reason: unknown) => {
      if (nacked.includes(seq)) return;
      nacked.push(seq);
      reasons.push(toWireError(reason));
    };
    // The reason is what a local confirm callback gets: the store error, or amqplib's untyped
    // "message nacked" (x-overflow reject-publish).
    const confirmed = (seq: number, done: () => void) => (err: Error | null) => {
      if (err) nack(seq, err);
      done();
    };
    for (const op of ops) {
      try {
        if (op.k === 'pub') {
          if (ch.confirmMode) {
            // Publish outside the promise executor, so a throw is this op's error, not a rejection.
            const d = deferred();
            (ch as ConfirmChannel).publish(op.exchange, op.routingKey, op.content, op.options, confirmed(op.seq, d.resolve));
            confirms.push(d.promise);
          } else ch.publish(op.exchange, op.routingKey, op.content, op.options);
        } else if (op.k === 'pubs') {
          for (let i = 0; i < op.count; i++) {
            const content = op.data.subarray(i * op.size, (i + 1) * op.size);
            if (ch.confirmMode) {
              const d = deferred();
              (ch as ConfirmChannel).publish(op.exchange, op.routingKey, content, op.options, confirmed(op.seq, d.resolve));
              confirms.push(d.promise);
            } else ch.publish(op.exchange, op.routingKey, content, op.options);
          }
        } else if (op.k === 'ack') ch.ack(op.tag, op.multiple);
        else ch.nack(op.tag, op.multiple, op.requeue);
      } catch (e) {
        if (op.k === 'pub' || op.k === 'pubs') nack(op.seq, e);
        error ??= toWireError(e, 'ERR_REMOTE');
      }
    }
    if (confirms.length > 0) await Promise.all(confirms);
    else await new Promise<void>((r) => setImmediate(r)); // let returns of this batch go out first
    if (nacked.length === 0) return error ? { nacked, error } : { nacked };
    return error ? { nacked, reasons, error } : { nacked, reasons };
  }

  private channel(id: number): Channel {
    const ch = this.channels.get(id);
    if (!ch || ch.closed) throw new MqlabError('ERR_CLOSED', `remote channel ${id} is closed`);
    return ch;
  }

  /** Deliveries leave in one message per engine turn. */
  private deliver(channel: number, consumerTag: string, msg: ConsumeMessage | null): void {
    const m = msg === null ? null : exactCopy(msg);
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

  /** Packed deliveries: contents copied into one buffer per consumer, sent once per turn. */
  private pack(channel: number, consumerTag: string, key: string, m: ConsumeMessage): void {
    let p = this.packers.get(key);
    if (!p) this.packers.set(key, (p = new Packer()));
    const len = m.content.length;
    if (p.count > 0 && len !== p.size) this.emitPacked(channel, consumerTag, p);
    if (p.count === 0) {
      p.size = len;
      p.firstTag = m.fields.deliveryTag;
    }
    if (p.used + len > p.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(p.buf.length * 2, p.used + len));
      p.buf.copy(bigger, 0, 0, p.used);
      p.buf = bigger;
    }
    m.content.copy(p.buf, p.used);
    p.used += len;
    p.count++;
    p.lastTag = m.fields.deliveryTag;
    if (this.packedQueued) return;
    this.packedQueued = true;
    queueMicrotask(() => {
      this.packedQueued = false;
      for (const [k, q] of this.packers) {
        if (q.count === 0) continue;
        const [ch, tag] = k.split('\u0000') as [string, string];
        this.emitPacked(Number(ch), tag, q);
      }
    });
  }

  private emitPacked(channel: number, consumerTag: string, p: Packer): void {
    const data = new Uint8Array(p.used);
    data.set(p.buf.subarray(0, p.used));
    const out: PackedDelivery = { channel, consumerTag, data, count: p.count, size: p.size, firstTag: p.firstTag, lastTag: p.lastTag };
    p.used = 0;
    p.count = 0;
    this.server?.emit('packed', out, [data.buffer as ArrayBuffer]);
  }

  /** Closes every connection opened through this host (their unacked deliveries are requeued). */
  async _closeAll(): Promise<void> {
    for (const id of [...this.connections.keys()]) await this.closeConnection(id).catch(() => undefined);
  }
}

/**
 * A message whose content owns exactly its bytes: a Buffer from Node's pool is a view into a
 * shared slab, and structured clone would send the whole slab (other messages' bytes included).
 */
function exactCopy<T extends { content: Uint8Array }>(m: T): T {
  return { ...m, content: new Uint8Array(m.content) };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Serve `engine` on `port`; returns a handle whose close() also closes the remote connections. */
export function serveRemoteEngine(port: MessagePort, engine: EngineLike): { close(): void } {
  const host = new RemoteEngineHost(engine);
  const server = serveRpc(port, host);
  host._attach(server);
  // The other thread went away (worker exited or crashed): like a dropped TCP connection, its
  // connections close and their unacked deliveries go back to their queues.
  port.once('close', () => void host._closeAll());
  return {
    close() {
      void host._closeAll();
      server.close();
    },
  };
}
