/**
 * A minimal client of Apache RocketMQ's remoting protocol (the TCP protocol the Java client
 * speaks to the nameserver and brokers), enough for the broker-model adapter: frames, JSON
 * headers, request/response matching, and the stored-message layout of pull and query replies.
 *
 * Frame: [length u32 = 4 + headerLength + bodyLength][serializeType u8 | headerLength u24]
 *        [header JSON {code, language, version, opaque, flag, remark, extFields}][body]
 * flag bit 0 = response, bit 1 = oneway. extFields values are strings.
 *
 * Written from the protocol's public description and observed replies; no RocketMQ code copied.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { inflateSync } from 'node:zlib';
import { MqlabError } from '../../../core/errors';

export const RequestCode = {
  SEND_MESSAGE: 10,
  PULL_MESSAGE: 11,
  QUERY_MESSAGE: 12,
  QUERY_CONSUMER_OFFSET: 14,
  UPDATE_CONSUMER_OFFSET: 15,
  UPDATE_AND_CREATE_TOPIC: 17,
  SEARCH_OFFSET_BY_TIMESTAMP: 29,
  GET_MAX_OFFSET: 30,
  GET_MIN_OFFSET: 31,
  VIEW_MESSAGE_BY_ID: 33,
  HEART_BEAT: 34,
  UNREGISTER_CLIENT: 35,
  CONSUMER_SEND_MSG_BACK: 36,
  GET_CONSUMER_LIST_BY_GROUP: 38,
  NOTIFY_CONSUMER_IDS_CHANGED: 40,
  GET_ROUTEINFO_BY_TOPIC: 105,
  GET_BROKER_CLUSTER_INFO: 106,
} as const;

export const ResponseCode = {
  SUCCESS: 0,
  SYSTEM_ERROR: 1,
  SYSTEM_BUSY: 2,
  REQUEST_CODE_NOT_SUPPORTED: 3,
  FLUSH_DISK_TIMEOUT: 10,
  SLAVE_NOT_AVAILABLE: 11,
  FLUSH_SLAVE_TIMEOUT: 12,
  MESSAGE_ILLEGAL: 13,
  SERVICE_NOT_AVAILABLE: 14,
  NO_PERMISSION: 16,
  TOPIC_NOT_EXIST: 17,
  PULL_NOT_FOUND: 19,
  PULL_RETRY_IMMEDIATELY: 20,
  PULL_OFFSET_MOVED: 21,
  QUERY_NOT_FOUND: 22,
  SUBSCRIPTION_PARSE_FAILED: 23,
  SUBSCRIPTION_NOT_EXIST: 24,
  SUBSCRIPTION_NOT_LATEST: 25,
  SUBSCRIPTION_GROUP_NOT_EXIST: 26,
} as const;

const RESPONSE_NAMES = new Map<number, string>(Object.entries(ResponseCode).map(([k, v]) => [v, k]));

/** The name RocketMQ gives a response code (TOPIC_NOT_EXIST), for error codes. */
export function responseName(code: number): string {
  return RESPONSE_NAMES.get(code) ?? `ROCKETMQ_RESPONSE_${code}`;
}

/** The version a 5.3.x Java client announces (MQVersion.Version.V5_3_3.ordinal()). */
const CLIENT_VERSION = 479;

export interface RemotingCommand {
  code: number;
  opaque: number;
  flag: number;
  remark: string | null;
  extFields: Record<string, string>;
  body: Buffer;
}

interface Pending {
  resolve: (cmd: RemotingCommand) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

let nextOpaque = 1;

/** One TCP connection to a nameserver or broker. */
export class RemotingConnection {
  private socket: Socket | null = null;
  private readonly pending = new Map<number, Pending>();
  private input: Buffer = Buffer.alloc(0);
  private closedError: Error | null = null;

  constructor(
    readonly address: string,
    /** Which server this is, for messages ("RocketMQ nameserver", "RocketMQ broker broker-a"). */
    readonly role: string,
    private readonly onRequest?: (cmd: RemotingCommand) => void,
  ) {}

  get alive(): boolean {
    return this.socket !== null && this.closedError === null;
  }

  connect(timeoutMs: number): Promise<void> {
    const [host, portText] = splitAddress(this.address);
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port: Number(portText) });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new MqlabError('ERR_BROKER_UNREACHABLE', `${this.role} at ${this.address} did not accept a connection within ${timeoutMs} ms`, { address: this.address }));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        this.socket = socket;
        resolve();
      });
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('error', (e) => {
        clearTimeout(timer);
        if (!this.socket) reject(new MqlabError('ERR_BROKER_UNREACHABLE', `${this.role} at ${this.address} is not reachable (${e.message})`, { address: this.address }));
        this.fail(e);
      });
      socket.on('close', () => this.fail(new Error('connection closed')));
    });
  }

  private fail(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    const err = new MqlabError('ERR_BROKER_UNREACHABLE', `${this.role} at ${this.address}: ${e.message}`, { address: this.address });
    for (const [opaque, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(opaque);
    }
  }

  private onData(chunk: Buffer): void {
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
    while (this.input.length >= 4) {
      const length = this.input.readUInt32BE(0);
      if (this.input.length < 4 + length) return;
      const frame = this.input.subarray(4, 4 + length);
      this.input = this.input.subarray(4 + length);
      let cmd: RemotingCommand;
      try {
        cmd = decodeFrame(frame);
      } catch (e) {
        this.destroy(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      if (cmd.flag & 1) {
        const p = this.pending.get(cmd.opaque);
        if (p) {
          this.pending.delete(cmd.opaque);
          clearTimeout(p.timer);
          p.resolve(cmd);
        }
      } else {
        this.onRequest?.(cmd);
        if (!(cmd.flag & 2)) {
          // A request we do not serve (e.g. consumer running info): say so, as the Java client would.
          this.write({ code: ResponseCode.REQUEST_CODE_NOT_SUPPORTED, opaque: cmd.opaque, flag: 1, remark: 'not supported by mqlab', extFields: {}, body: Buffer.alloc(0) });
        }
      }
    }
  }

  private write(cmd: RemotingCommand): void {
    if (!this.socket || this.closedError) throw new MqlabError('ERR_BROKER_UNREACHABLE', `${this.role} at ${this.address} is not connected`, { address: this.address });
    this.socket.write(encodeFrame(cmd));
  }

  /** Sends a request and resolves with the response (any code); rejects on timeout or lost connection. */
  invoke(code: number, extFields: Record<string, string | number | boolean | undefined>, body: Buffer | null, timeoutMs: number): Promise<RemotingCommand> {
    const opaque = nextOpaque++ & 0x7fffffff;
    const ext: Record<string, string> = {};
    for (const [k, v] of Object.entries(extFields)) if (v !== undefined) ext[k] = String(v);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(opaque);
        reject(new MqlabError('ERR_TIMEOUT', `${this.role} at ${this.address} did not answer request ${code} within ${timeoutMs} ms`, { address: this.address, requestCode: code }));
      }, timeoutMs);
      this.pending.set(opaque, { resolve, reject, timer });
      try {
        this.write({ code, opaque, flag: 0, remark: null, extFields: ext, body: body ?? Buffer.alloc(0) });
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(opaque);
        reject(e);
      }
    });
  }

  /** Ends the connection; with `err`, as a crash (pending calls fail with it). */
  destroy(err?: Error): void {
    this.fail(err ?? new Error('connection closed by the client'));
    this.socket?.destroy();
  }
}

function encodeFrame(cmd: RemotingCommand): Buffer {
  const header = Buffer.from(JSON.stringify({
    code: cmd.code, language: 'JAVA', version: CLIENT_VERSION, opaque: cmd.opaque, flag: cmd.flag,
    remark: cmd.remark ?? undefined, extFields: cmd.extFields, serializeTypeCurrentRPC: 'JSON',
  }), 'utf8');
  const out = Buffer.allocUnsafe(8 + header.length + cmd.body.length);
  out.writeUInt32BE(4 + header.length + cmd.body.length, 0);
  out.writeUInt32BE(header.length & 0xffffff, 4); // top byte 0 = JSON serialization
  header.copy(out, 8);
  cmd.body.copy(out, 8 + header.length);
  return out;
}

function decodeFrame(frame: Buffer): RemotingCommand {
  const mark = frame.readUInt32BE(0);
  const serializeType = mark >>> 24;
  const headerLength = mark & 0xffffff;
  if (serializeType !== 0) throw new MqlabError('ERR_PROTOCOL', `RocketMQ replied with serialize type ${serializeType}; only JSON is supported`);
  const h = JSON.parse(frame.subarray(4, 4 + headerLength).toString('utf8')) as Record<string, unknown>;
  const ext: Record<string, string> = {};
  if (h.extFields && typeof h.extFields === 'object') for (const [k, v] of Object.entries(h.extFields)) ext[k] = String(v);
  return {
    code: Number(h.code), opaque: Number(h.opaque), flag: Number(h.flag ?? 0), remark: typeof h.remark === 'string' ? h.remark : null,
    extFields: ext, body: Buffer.from(frame.subarray(4 + headerLength)),
  };
}

export function splitAddress(address: string): [string, string] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), address.slice(i + 1)];
}

/**
 * Route and cluster bodies are fastjson output, which writes map keys of numeric type bare
 * (`{0:"127.0.0.1:10911"}`); quote them before JSON.parse.
 */
export function parseRocketJson<T>(body: Buffer): T {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text) as T;
  } catch {
    return JSON.parse(text.replace(/([{,])\s*(-?\d+)\s*:/g, '$1"$2":')) as T;
  }
}

/** Message properties: name \u0001 value \u0002 ... */
export function encodeProperties(props: Readonly<Record<string, string>>): string {
  return Object.entries(props).map(([k, v]) => `${k}\u0001${v}`).join('\u0002');
}

export function decodeProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split('\u0002')) {
    if (!pair) continue;
    const i = pair.indexOf('\u0001');
    if (i > 0) out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

/** A message as stored in the CommitLog and returned by pull, view and query. */
export interface StoredMessage {
  topic: string;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  sysFlag: number;
  bornTimestamp: number;
  storeTimestamp: number;
  storeHost: string;
  reconsumeTimes: number;
  body: Buffer;
  properties: Record<string, string>;
  /** Store host + CommitLog offset, 32 hex digits: the id a send reply and queryById use. */
  offsetMsgId: string;
}

const MAGIC_V1 = -626843481;
const MAGIC_V2 = -626843477;

function readHost(buf: Buffer, at: number, v6: boolean): [string, Buffer, number] {
  const ipLen = v6 ? 16 : 4;
  const ipBytes = buf.subarray(at, at + ipLen);
  const port = buf.readInt32BE(at + ipLen);
  const ip = v6 ? ipBytes.toString('hex').replace(/(.{4})(?!$)/g, '$1:') : [...ipBytes].join('.');
  return [`${ip}:${port}`, buf.subarray(at, at + ipLen + 4), at + ipLen + 4];
}

/** Decodes every message in a pull / query body. */
export function decodeMessages(buf: Buffer): StoredMessage[] {
  const out: StoredMessage[] = [];
  let pos = 0;
  while (pos + 4 <= buf.length) {
    const total = buf.readInt32BE(pos);
    if (total <= 0 || pos + total > buf.length) break;
    const m = buf.subarray(pos, pos + total);
    pos += total;
    const magic = m.readInt32BE(4);
    if (magic !== MAGIC_V1 && magic !== MAGIC_V2) throw new MqlabError('ERR_PROTOCOL', `RocketMQ message with unknown magic code ${magic}`);
    let at = 12;
    const queueId = m.readInt32BE(at); at += 4;
    at += 4; // flag
    const queueOffset = Number(m.readBigInt64BE(at)); at += 8;
    const commitLogOffset = Number(m.readBigInt64BE(at)); at += 8;
    const sysFlag = m.readInt32BE(at); at += 4;
    const bornTimestamp = Number(m.readBigInt64BE(at)); at += 8;
    [, , at] = readHost(m, at, (sysFlag & 16) !== 0);
    const storeTimestamp = Number(m.readBigInt64BE(at)); at += 8;
    const [storeHost, storeHostBytes, afterStore] = readHost(m, at, (sysFlag & 32) !== 0);
    at = afterStore;
    const reconsumeTimes = m.readInt32BE(at); at += 4;
    at += 8; // prepared transaction offset
    const bodyLength = m.readInt32BE(at); at += 4;
    let body: Buffer = Buffer.from(m.subarray(at, at + bodyLength)); at += bodyLength;
    if ((sysFlag & 1) !== 0 && ((sysFlag & 1792) === 0 || (sysFlag & 1792) === 768)) body = inflateSync(body);
    let topicLength: number;
    if (magic === MAGIC_V2) { topicLength = m.readInt16BE(at); at += 2; } else { topicLength = m.readUInt8(at); at += 1; }
    const topic = m.subarray(at, at + topicLength).toString('utf8'); at += topicLength;
    const propsLength = m.readInt16BE(at); at += 2;
    const properties = propsLength > 0 ? decodeProperties(m.subarray(at, at + propsLength).toString('utf8')) : {};
    const idBuf = Buffer.alloc(storeHostBytes.length + 8);
    storeHostBytes.copy(idBuf, 0);
    idBuf.writeBigInt64BE(BigInt(commitLogOffset), storeHostBytes.length);
    out.push({
      topic, queueId, queueOffset, commitLogOffset, sysFlag, bornTimestamp, storeTimestamp, storeHost, reconsumeTimes, body, properties,
      offsetMsgId: idBuf.toString('hex').toUpperCase(),
    });
  }
  return out;
}

/** Splits an offset msgId (IPv4 store host) into broker address and CommitLog offset; null if it is not one. */
export function parseOffsetMsgId(msgId: string): { address: string; offset: number } | null {
  if (!/^[0-9A-Fa-f]{32}$/.test(msgId)) return null;
  const b = Buffer.from(msgId, 'hex');
  return { address: `${b[0]}.${b[1]}.${b[2]}.${b[3]}:${b.readInt32BE(4)}`, offset: Number(b.readBigInt64BE(8)) };
}

/** java.lang.String#hashCode, for RocketMQ's hash queue selector. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}
