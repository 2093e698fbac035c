import type { MessagePort } from 'node:worker_threads';
import { connectRpc, serveRpc, type RpcServer } from '../threads';
import type { BrokerApi, PullResult, RawPullResult, SendRequest } from './broker-api';
import { HEADER_BYTES, messageFromRecord } from './message-codec';
import { addressPrefix } from './message-id';
import type { MessageExt } from './message';
import { describeValue } from '../errors';
import { RocketErrors } from './errors';
import type { NameServerApi } from './route';

/**
 * How clients reach the NameServer and brokers: in process (direct calls) or, on a worker thread,
 * through the RPC bridge to the thread that owns the engine. Brokers are found by address, as a
 * RocketMQ client finds them from a route.
 */
export interface Transport {
  readonly nameServer: NameServerApi;
  broker(addr: string): BrokerApi;
}

interface Bindable extends BrokerApi {
  readonly isRunning: boolean;
}

export class InProcessTransport implements Transport {
  private readonly brokers = new Map<string, Bindable>();

  constructor(readonly nameServer: NameServerApi) {}

  bind(addr: string, broker: Bindable): void {
    this.brokers.set(addr, broker);
  }

  unbind(addr: string, broker?: Bindable): void {
    if (broker === undefined || this.brokers.get(addr) === broker) this.brokers.delete(addr);
  }

  broker(addr: string): BrokerApi {
    const b = this.brokers.get(addr);
    if (!b || !b.isRunning) throw RocketErrors.brokerNotFound(addr);
    return b;
  }
}

const BROKER_METHODS = new Set([
  'sendMessage', 'pullMessage', 'pullMessageRaw', 'queryConsumerOffset', 'updateConsumerOffset', 'heartbeat', 'unregisterClient', 'getConsumerIdList',
  'waitConsumerIdsChanged', 'lockBatchMQ', 'unlockBatchMQ', 'consumerSendMessageBack', 'searchOffset', 'getMaxOffset', 'getMinOffset',
  'viewMessage', 'queryMessage', 'createTopic', 'getTopicConfig',
]);
const NAME_SERVER_METHODS = new Set(['registerBroker', 'unregisterBroker', 'getRouteInfoByTopic']);

/**
 * A Uint8Array that is a view into a larger buffer would carry the whole buffer through a
 * structured clone; copy it to its own exact-size buffer first.
 */
function compact(b: Uint8Array): Uint8Array {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : new Uint8Array(b);
}

function compactMessages<T extends { body: unknown }>(list: readonly T[]): T[] {
  return list.map((m) => (m.body instanceof Uint8Array ? { ...m, body: compact(m.body) } : m));
}

/**
 * A send of plain messages (topic and body only) as it crosses threads: the bodies end to end in
 * one buffer plus their lengths, so the structured clone copies one ArrayBuffer, not one per
 * message.
 */
export interface PackedSendRequest {
  addr: string;
  topic: string;
  queueId: number;
  producerGroup?: string;
  bornTimestamp?: number;
  bodies: Uint8Array;
  lengths: Uint32Array;
}

function packPlain(addr: string, req: SendRequest): PackedSendRequest | undefined {
  const list = req.messages;
  if (list.length < 2) return undefined;
  let total = 0;
  for (const m of list) {
    if (m === null || typeof m !== 'object' || m.topic !== req.topic || !(m.body instanceof Uint8Array) || m.tags !== undefined || m.keys !== undefined ||
      m.properties !== undefined || m.delayTimeLevel !== undefined || m.flag !== undefined) return undefined;
    total += m.body.length;
  }
  const bodies = new Uint8Array(total);
  const lengths = new Uint32Array(list.length);
  let off = 0;
  for (let i = 0; i < list.length; i++) {
    const b = list[i]!.body as Uint8Array;
    bodies.set(b, off);
    lengths[i] = b.length;
    off += b.length;
  }
  return { addr, topic: req.topic, queueId: req.queueId, producerGroup: req.producerGroup, bornTimestamp: req.bornTimestamp, bodies, lengths };
}

/** Bodies that crossed a thread boundary arrive as Uint8Array; hand them on as Buffers. */
function asBuffers<T extends { body: unknown }>(list: T[]): T[] {
  for (const m of list) {
    const b = m.body as Uint8Array;
    if (b instanceof Uint8Array && !Buffer.isBuffer(b)) (m as { body: unknown }).body = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  }
  return list;
}

/** Decodes a raw pull result (records in one buffer) into a PullResult. */
function fromRaw(r: RawPullResult): PullResult {
  const { data, meta, brokerName, storeHost, ...head } = r;
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const prefix = addressPrefix(storeHost);
  const n = meta.length / 3;
  const msgFoundList: MessageExt[] = new Array(n);
  let off = 0;
  for (let i = 0; i < n; i++) {
    const size = buf.readUInt32LE(off + 40) + buf.readUInt32LE(off + 44) + buf[off + 6]! + HEADER_BYTES;
    msgFoundList[i] = messageFromRecord(buf.subarray(off, off + size), meta[i * 3]!, meta[i * 3 + 1]!, meta[i * 3 + 2]!, brokerName, storeHost, prefix);
    off += size;
  }
  return { ...head, msgFoundList };
}

/** Served on the engine's thread: forwards a worker's calls to the transport. */
export class TransportGateway {
  constructor(private readonly transport: Transport) {}

  /** Results leave with compact bodies (messages read from the CommitLog are views into pooled buffers). */
  private static outgoing(method: string, value: unknown): unknown {
    if (method === 'queryMessage') return compactMessages(value as Array<{ body: unknown }>);
    if (method === 'viewMessage') return compactMessages([value as { body: unknown }])[0];
    return value;
  }

  nameServerCall(method: string, args: unknown[]): unknown {
    if (!Array.isArray(args)) throw RocketErrors.invalid('args', 'an array');
    if (!NAME_SERVER_METHODS.has(method)) throw RocketErrors.invalid('NameServer method', `one of ${[...NAME_SERVER_METHODS].join(', ')}`);
    return (this.transport.nameServer as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
  }

  /** A send packed by the worker (see PackedSendRequest), unpacked into messages viewing one buffer. */
  brokerSendPacked(req: PackedSendRequest): unknown {
    if (req === null || typeof req !== 'object') throw RocketErrors.invalid('packed send', 'an object');
    const { bodies, lengths } = req;
    if (!(bodies instanceof Uint8Array) || !(lengths instanceof Uint32Array)) throw RocketErrors.invalid('packed send', 'bodies (Uint8Array) and lengths (Uint32Array)');
    const buf = Buffer.from(bodies.buffer, bodies.byteOffset, bodies.byteLength);
    const messages: Array<{ topic: string; body: Buffer }> = new Array(lengths.length);
    let off = 0;
    for (let i = 0; i < lengths.length; i++) {
      const end = off + lengths[i]!;
      if (end > buf.length) throw RocketErrors.invalid('packed send lengths', `lengths that fit the ${buf.length} bytes of bodies`);
      messages[i] = { topic: req.topic, body: buf.subarray(off, end) };
      off = end;
    }
    if (off !== buf.length) throw RocketErrors.invalid('packed send lengths', `lengths that add up to the ${buf.length} bytes of bodies`);
    const send: SendRequest = { topic: req.topic, queueId: req.queueId, messages };
    if (req.producerGroup !== undefined) send.producerGroup = req.producerGroup;
    if (req.bornTimestamp !== undefined) send.bornTimestamp = req.bornTimestamp;
    return this.brokerCall(req.addr, 'sendMessage', [send]);
  }

  brokerCall(addr: string, method: string, args: unknown[]): unknown {
    if (!Array.isArray(args)) throw RocketErrors.invalid('args', 'an array');
    if (!BROKER_METHODS.has(method)) throw RocketErrors.invalid('broker method', `one of the BrokerApi methods (got ${describeValue(method)})`);
    // Pulls cross threads as raw records in one buffer; the worker decodes them (see connectTransport).
    const target = method === 'pullMessage' ? 'pullMessageRaw' : method;
    const result = (this.transport.broker(addr) as unknown as Record<string, (...a: unknown[]) => unknown>)[target]!(...args);
    return result instanceof Promise ? result.then((v) => TransportGateway.outgoing(method, v)) : TransportGateway.outgoing(method, result);
  }
}

export function serveTransport(port: MessagePort, transport: Transport): RpcServer {
  return serveRpc(port, new TransportGateway(transport));
}

/** On a worker thread: a Transport whose calls cross to the engine's thread. */
export function connectTransport(port: MessagePort): Transport & { close(): void } {
  const gw = connectRpc<TransportGateway>(port, { timeoutMs: 0 });
  const proxyOf = <T extends object>(call: (method: string, args: unknown[]) => Promise<unknown>): T =>
    new Proxy({} as T, {
      get(_t, prop) {
        if (typeof prop !== 'string' || prop === 'then') return undefined;
        return (...args: unknown[]) => call(prop, args);
      },
    });
  const brokers = new Map<string, BrokerApi>();
  const brokerCall = async (addr: string, method: string, args: unknown[]): Promise<unknown> => {
    if (method === 'sendMessage') {
      const req = args[0] as SendRequest;
      if (req && Array.isArray(req.messages)) {
        const packed = packPlain(addr, req);
        if (packed) return gw.brokerSendPacked(packed);
        args = [{ ...req, messages: compactMessages(req.messages) }];
      }
    }
    const v = await gw.brokerCall(addr, method, args);
    if (method === 'pullMessage') return fromRaw(v as RawPullResult);
    if (method === 'queryMessage') asBuffers(v as MessageExt[]);
    else if (method === 'viewMessage') asBuffers([v as MessageExt]);
    return v;
  };
  return {
    nameServer: proxyOf<NameServerApi>((m, a) => gw.nameServerCall(m, a)),
    broker(addr: string): BrokerApi {
      let b = brokers.get(addr);
      if (!b) brokers.set(addr, (b = proxyOf<BrokerApi>((m, a) => brokerCall(addr, m, a))));
      return b;
    },
    close: () => gw.$rpc.close(),
  };
}
