import fs from 'node:fs';
import path from 'node:path';
import { fileNameFor } from '../names';
import { describeValue, isMqlabError } from '../errors';
import type { FlushPolicy } from '../log/types';
import {
  DEFAULT_DELAY_LEVELS, DEFAULT_MAX_RECONSUME_TIMES, MAX_MESSAGE_SIZE, PROPERTY_DELAY_TIME_LEVEL, PROPERTY_ORIGIN_MESSAGE_ID,
  PROPERTY_REAL_QUEUE_ID, PROPERTY_REAL_TOPIC, PROPERTY_RETRY_TOPIC, PROPERTY_TAGS, SCHEDULE_TOPIC, dlqTopicOf, parseDelayLevels, retryTopicOf,
} from './constants';
import { ConsumeQueue, readInt64BE, CQ_UNIT_SIZE, type ArrivalWaiter } from './consume-queue';
import { ConsumerManager } from './consumer-manager';
import { ConsumerOffsetManager } from './consumer-offset-manager';
import { Dispatcher } from './dispatcher';
import { RocketErrors } from './errors';
import { readJsonFile, writeJsonFile } from './json-file';
import { KEY_INDEX_UNIT, KeyIndex } from './key-index';
import { keysOf, type MessageExt, type MessageInit, storedProperties } from './message';
import {
  checkPropertyText, decodeRecord, encodePlainHeader, encodeRecord, encodedSize, HEADER_BYTES, messageFromRecord, propertiesToString, stringToProperties, SYSFLAG_HAS_KEYS, type DecodedRecord,
} from './message-codec';
import { addressPrefix, createMessageId } from './message-id';
import { ScheduleService } from './schedule-service';
import { coreStorage, type CommitLogLike, type IndexFileLike, type StorageProvider } from './storage';
import { codeMatches, parseSubscription, type SubscriptionData } from './subscription';
import { tagHashCode } from './tag-hash';
import { TopicConfigManager } from './topic-config-manager';
import { checkGroup, checkInteger, checkObject, checkQueueRefs, checkString, checkTopic } from './validators';
import {
  PERM_READ, PERM_WRITE, type BrokerApi, type ConsumerHeartbeat, type GroupMembers, type PullRequest, type PullResult, type PutResult,
  type QueueRef, type RawPullResult, type SendBackRequest, type SendRequest, type TopicConfig,
} from './broker-api';
import type { BrokerRegistration, NameServerApi } from './route';

export interface BrokerOptions {
  /** The broker's store: commitlog/, consumequeue/, index/, config/. */
  dataDir: string;
  brokerName?: string;
  clusterName?: string;
  /** IPv4 host:port; goes into every msgId. Default 127.0.0.1:10911. */
  brokerAddr?: string;
  /** Registers here on start, on topic changes and every `registerIntervalMs`. */
  nameServer?: NameServerApi;
  storage?: StorageProvider;
  /** ms since epoch; store timestamps, delays, client expiry. Default Date.now. */
  clock?: () => number;
  flush?: FlushPolicy;
  segmentBytes?: number;
  /** Largest body accepted (bytes). Default 4 MiB. */
  maxMessageSize?: number;
  messageDelayLevel?: string;
  /** Queues of a topic created without a count (and of auto-created topics). Default 4. */
  defaultTopicQueueNums?: number;
  /** Create a topic on its first send (RocketMQ `autoCreateTopicEnable`). Default false. */
  autoCreateTopicEnable?: boolean;
  /** Create a consumer group on its first heartbeat or pull. Default true. */
  autoCreateSubscriptionGroup?: boolean;
  /** Writers dispatch in line once the ConsumeQueue dispatch is this far behind (bytes). Default 4 MiB. */
  maxDispatchLagBytes?: number;
  scheduleIntervalMs?: number;
  persistIntervalMs?: number;
  registerIntervalMs?: number;
}

interface ScanResult {
  pullStatus: PullResult['pullStatus'];
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  positions: number[];
}

const NO_POSITIONS: number[] = [];
let capturedResolve: ((result: never) => void) | undefined;
/** A promise executor that stores `resolve` in capturedResolve (read right after `new Promise`). */
function captureResolve(resolve: (result: never) => void): void {
  capturedResolve = resolve;
}

/** The answer to a pull at the end of its queue (also what a held pull gets when the broker stops). */
function noNewMessage(offset: number, cq: ConsumeQueue): ScanResult {
  return { pullStatus: 'NO_NEW_MSG', nextBeginOffset: offset, minOffset: cq.minOffset, maxOffset: cq.maxOffset, positions: NO_POSITIONS };
}

/** A pull waiting for its queue (see Broker.pull). */
class HeldPull<R> implements ArrivalWaiter {
  /** Its slot in the broker's held list; -1 once answered. */
  index = -1;

  constructor(
    private readonly broker: Broker,
    readonly cq: ConsumeQueue,
    readonly offset: number,
    readonly maxMsgNums: number,
    readonly sub: SubscriptionData,
    readonly format: (scan: ScanResult) => R,
    readonly resolve: (result: R) => void,
    /** performance.now() when the pull answers with what there is. */
    readonly deadline: number,
  ) {}

  onArrival(): void {
    this.broker.answerHeld(this, true);
  }
}

interface TopicState {
  config: TopicConfig;
  queues: ConsumeQueue[];
}

/** One message ready to be encoded: where it goes and its stored fields. */
interface Prepared {
  cq: ConsumeQueue;
  storeTopic: string;
  body: Uint8Array;
  props: string;
  propsBytes: number;
  tagsCode: number;
  sysFlag: number;
  bornTimestamp: number;
  flag: number;
  reconsumeTimes: number;
}

export interface BrokerRecoveryReport {
  /** True when the checkpoint matched the ConsumeQueues and dispatch resumed from it. */
  fromCheckpoint: boolean;
  /** True when the ConsumeQueues were rebuilt from the start of the CommitLog. */
  rebuilt: boolean;
  /** Records dispatched while opening. */
  redispatched: number;
  /** Index files (ConsumeQueues, key index) the store rejected as corrupt, moved aside to `<file>.corrupt` and rebuilt. */
  setAside: string[];
}

export interface BrokerStats {
  brokerName: string;
  commitLogEnd: number;
  dispatchLagBytes: number;
  /** The largest lag seen after a put since open (bytes). */
  maxDispatchLagBytes: number;
  /** Times a writer dispatched in line because the lag hit its bound. */
  inlineDispatches: number;
  dispatchedRecords: number;
  dispatchGaps: number;
  scheduledPending: number;
}

const EMPTY_BODY_ERROR = 'message body length is zero';
/** setTimeout's largest delay; longer waits are capped (a larger one would fire at once). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * A RocketMQ broker on the storage core: one CommitLog for every topic, a ConsumeQueue per
 * (topic, queue) built by the dispatcher, a key index, consumer offsets, delayed messages,
 * retry and dead-letter topics. Its public methods are the `BrokerApi` clients call.
 */
export class Broker implements BrokerApi {
  readonly brokerName: string;
  readonly clusterName: string;
  readonly brokerAddr: string;
  readonly dataDir: string;
  readonly recovery: BrokerRecoveryReport;
  readonly delayLevels: number[];
  readonly maxMessageSize: number;
  private readonly clock: () => number;
  private readonly storage: StorageProvider;
  private readonly log: CommitLogLike;
  private readonly idPrefix: string;
  private readonly topicConfig: TopicConfigManager;
  private readonly topics = new Map<string, TopicState>();
  private readonly keyIndex: KeyIndex;
  private readonly dispatcher: Dispatcher;
  private readonly offsets: ConsumerOffsetManager;
  private readonly consumers: ConsumerManager;
  private readonly schedule: ScheduleService;
  private readonly subCache = new Map<string, SubscriptionData>();
  private readonly opts: BrokerOptions;
  private readonly configDir: string;
  private readonly maxLag: number;
  private readonly scheduleQueues: ConsumeQueue[];
  private dispatchScheduled = false;
  private scratch = Buffer.allocUnsafeSlow(64 * 1024);
  private maxObservedLag = 0;
  private inlineDispatches = 0;
  private running = true;
  private timers: NodeJS.Timeout[] = [];
  private readonly setAside: string[] = [];

  constructor(options: BrokerOptions) {
    this.opts = options;
    this.dataDir = options.dataDir;
    this.brokerName = checkGroup(options.brokerName ?? 'broker-a');
    this.clusterName = options.clusterName ?? 'DefaultCluster';
    this.brokerAddr = options.brokerAddr ?? '127.0.0.1:10911';
    this.idPrefix = addressPrefix(this.brokerAddr);
    this.clock = options.clock ?? Date.now;
    this.storage = options.storage ?? coreStorage();
    this.maxMessageSize = options.maxMessageSize ?? MAX_MESSAGE_SIZE;
    this.maxLag = options.maxDispatchLagBytes ?? 4 << 20;
    this.delayLevels = parseDelayLevels(options.messageDelayLevel ?? DEFAULT_DELAY_LEVELS);
    this.configDir = path.join(this.dataDir, 'config');
    fs.mkdirSync(this.configDir, { recursive: true });
    fs.mkdirSync(path.join(this.dataDir, 'index'), { recursive: true });

    this.log = this.storage.openCommitLog(path.join(this.dataDir, 'commitlog'), {
      segmentBytes: options.segmentBytes ?? 64 << 20,
      maxRecordBytes: this.maxMessageSize + 64 * 1024,
      flush: options.flush ?? 'none',
      clock: this.clock,
    });
    this.topicConfig = new TopicConfigManager(this.configDir);
    for (const cfg of this.topicConfig.topics.values()) this.openTopic(cfg);
    this.scheduleQueues = this.ensureTopic(SCHEDULE_TOPIC, this.delayLevels.length, PERM_READ | PERM_WRITE).queues;
    this.keyIndex = new KeyIndex(this.openRebuildable(path.join(this.dataDir, 'index', 'keys.idx'), KEY_INDEX_UNIT));
    this.offsets = new ConsumerOffsetManager(this.configDir);
    this.consumers = new ConsumerManager(this.clock);

    // Recovery: resume dispatch at the checkpoint when every ConsumeQueue holds at least what the
    // checkpoint recorded; otherwise (a queue lost or behind) rebuild them all from the CommitLog.
    const checkpoint = readJsonFile<{ dispatched?: number; counts?: Record<string, number[]> } | null>(path.join(this.configDir, 'checkpoint.json'), null);
    // An index file set aside as corrupt held entries from before the checkpoint: rebuild everything.
    let fromCheckpoint = this.setAside.length === 0 && !!checkpoint && typeof checkpoint.dispatched === 'number' &&
      checkpoint.dispatched >= this.log.startPosition && checkpoint.dispatched <= this.log.endPosition;
    if (fromCheckpoint) {
      for (const [topic, counts] of Object.entries(checkpoint!.counts ?? {})) {
        const ts = this.topics.get(topic);
        if (!ts || counts.some((c, q) => (ts.queues[q]?.maxOffset ?? -1) < c)) fromCheckpoint = false;
      }
    }
    this.dispatcher = new Dispatcher(this.log, (t, q) => this.queueForDispatch(t, q), this.keyIndex, this.log.startPosition);
    let redispatched = 0;
    if (fromCheckpoint) {
      this.dispatcher.reputFrom = checkpoint!.dispatched!;
      this.trimQueuesBeyond(this.log.endPosition);
      this.keyIndex.truncateFrom(this.dispatcher.reputFrom);
      redispatched = this.dispatcher.dispatch();
    }
    const rebuilt = !fromCheckpoint || this.dispatcher.gaps > 0;
    if (rebuilt) {
      for (const ts of this.topics.values()) for (const cq of ts.queues) cq.truncate(0);
      this.keyIndex.truncateFrom(0);
      this.dispatcher.reputFrom = this.log.startPosition;
      this.dispatcher.gaps = 0;
      redispatched = this.dispatcher.dispatch();
    }
    for (const ts of this.topics.values()) for (const cq of ts.queues) cq.nextOffset = cq.maxOffset;
    this.recovery = { fromCheckpoint, rebuilt, redispatched, setAside: [...this.setAside] };

    this.schedule = new ScheduleService(this.configDir, this.delayLevels, {
      queueOf: (level) => this.scheduleQueues[level - 1]!,
      read: (position) => decodeRecord(this.log.read(position).payload),
      redeliver: (rec, realTopic, realQid, props) => this.redeliverScheduled(rec, realTopic, realQid, props),
    }, this.clock);
    this.writeCheckpoint();
  }

  /** Starts the background services: schedule, persistence, NameServer registration. */
  start(): this {
    this.checkRunning();
    this.registerToNameServer();
    const every = (ms: number, f: () => void) => {
      const t = setInterval(() => {
        try {
          if (this.running) f();
        } catch {
          // A failing background round is retried next interval; the state it guards is unchanged.
        }
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.opts.scheduleIntervalMs ?? 100, () => this.tick());
    every(this.opts.persistIntervalMs ?? 1000, () => this.persist());
    every(this.opts.registerIntervalMs ?? 30_000, () => this.registerToNameServer());
    // On the real clock, clients that stopped heartbeating leave their groups by themselves; with
    // an injected clock the owner of the clock calls scanNotActiveClients() when it moves time.
    if (!this.opts.clock) every(10_000, () => this.scanNotActiveClients());
    return this;
  }

  get isRunning(): boolean {
    return this.running;
  }

  // ─── topics ──────────────────────────────────────────────────────────────────────────────

  createTopic(topic: string, queueNums: number = this.opts.defaultTopicQueueNums ?? 4): TopicConfig {
    this.checkRunning();
    checkTopic(topic);
    if (!Number.isInteger(queueNums) || queueNums < 1 || queueNums > 1024) throw RocketErrors.invalid('queueNums', 'an integer from 1 to 1024');
    const ts = this.ensureTopic(topic, queueNums, PERM_READ | PERM_WRITE);
    this.registerToNameServer();
    return { ...ts.config };
  }

  getTopicConfig(topic: string): TopicConfig {
    return { ...this.topicOrThrow(topic).config };
  }

  topicList(): string[] {
    return [...this.topics.keys()].filter((t) => t !== SCHEDULE_TOPIC);
  }

  private ensureTopic(topic: string, queueNums: number, perm: number): TopicState {
    const ts = this.topics.get(topic);
    if (ts && ts.queues.length >= queueNums) return ts;
    return this.openTopic(this.topicConfig.upsertTopic(topic, queueNums, perm));
  }

  private openTopic(cfg: TopicConfig): TopicState {
    let ts = this.topics.get(cfg.topicName);
    if (!ts) this.topics.set(cfg.topicName, (ts = { config: cfg, queues: [] }));
    ts.config = cfg;
    const n = Math.max(cfg.readQueueNums, cfg.writeQueueNums);
    if (ts.queues.length < n) {
      const dir = path.join(this.dataDir, 'consumequeue', fileNameFor(cfg.topicName));
      fs.mkdirSync(dir, { recursive: true });
      for (let q = ts.queues.length; q < n; q++) {
        ts.queues.push(new ConsumeQueue(cfg.topicName, q, this.openRebuildable(path.join(dir, String(q)), CQ_UNIT_SIZE)));
      }
    }
    return ts;
  }

  /**
   * Opens an index file the CommitLog can rebuild (a ConsumeQueue, the key index). One the store
   * rejects as corrupt (cut shorter than its header, fewer entries than its header claims) is
   * moved aside to `<file>.corrupt`, kept for inspection, and replaced by an empty one; recovery
   * then rebuilds every index from the CommitLog.
   */
  private openRebuildable(file: string, entryBytes: number): IndexFileLike {
    try {
      return this.storage.openIndexFile(file, { entryBytes });
    } catch (e) {
      if (!isMqlabError(e, 'ERR_CORRUPT')) throw e;
      fs.renameSync(file, file + '.corrupt');
      this.setAside.push(file);
      return this.storage.openIndexFile(file, { entryBytes });
    }
  }

  private topicOrThrow(topic: string): TopicState {
    const ts = this.topics.get(topic);
    if (ts) return ts;
    checkTopic(topic);
    throw RocketErrors.topicNotExist(topic);
  }

  private queueOrThrow(topic: string, queueId: number): ConsumeQueue {
    const ts = this.topicOrThrow(topic);
    const cq = Number.isInteger(queueId) ? ts.queues[queueId] : undefined;
    if (!cq) throw RocketErrors.illegalQueue(topic, queueId);
    return cq;
  }

  /** Dispatch of a record whose topic is unknown (config lost) re-creates the topic. */
  private queueForDispatch(topic: string, queueId: number): ConsumeQueue {
    const ts = this.topics.get(topic);
    const cq = ts?.queues[queueId];
    if (cq) return cq;
    return this.ensureTopic(topic, Math.max(queueId + 1, ts?.queues.length ?? 0, this.opts.defaultTopicQueueNums ?? 4), PERM_READ | PERM_WRITE).queues[queueId]!;
  }

  // ─── send ────────────────────────────────────────────────────────────────────────────────

  sendMessage(req: SendRequest): PutResult {
    this.checkRunning();
    checkObject('send request', req);
    const topic = req.topic;
    let ts = this.topics.get(topic);
    if (!ts || topic === SCHEDULE_TOPIC) {
      checkTopic(topic);
      if (topic === SCHEDULE_TOPIC || !this.opts.autoCreateTopicEnable) throw RocketErrors.topicNotExist(topic);
      ts = this.ensureTopic(topic, this.opts.defaultTopicQueueNums ?? 4, PERM_READ | PERM_WRITE);
      this.registerToNameServer();
    }
    if (!(ts.config.perm & PERM_WRITE)) throw RocketErrors.messageIllegal(`topic ${topic} is not writable`, { topic });
    const queueId = req.queueId;
    const cq = Number.isInteger(queueId) && queueId < ts.config.writeQueueNums ? ts.queues[queueId] : undefined;
    if (!cq) throw RocketErrors.illegalQueue(topic, queueId);
    const msgs = req.messages;
    if (!Array.isArray(msgs) || msgs.length === 0) throw RocketErrors.messageIllegal('a send carries at least one message');
    const now = this.clock();
    const born = typeof req.bornTimestamp === 'number' ? req.bornTimestamp : now;
    const queueOffset = cq.nextOffset;
    let plain = topic.length <= 256 - HEADER_BYTES;
    for (let i = 0; i < msgs.length && plain; i++) {
      const m = msgs[i];
      plain = m !== null && typeof m === 'object' && m.topic === topic && m.tags === undefined && m.keys === undefined && m.properties === undefined &&
        !m.delayTimeLevel && !m.flag && m.body instanceof Uint8Array && m.body.length > 0 && m.body.length <= this.maxMessageSize;
    }
    let positions: number[];
    if (plain) positions = this.appendPlain(topic, cq, msgs, born, now);
    else {
      const preps: Prepared[] = new Array(msgs.length);
      for (let i = 0; i < msgs.length; i++) preps[i] = this.prepare(msgs[i]!, topic, queueId, cq, born, now);
      positions = this.appendPrepared(preps, now);
    }
    return { brokerName: this.brokerName, storeHost: this.brokerAddr, queueId, queueOffset, positions };
  }

  private bodyOf(body: unknown): Uint8Array {
    const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (!(b instanceof Uint8Array)) throw RocketErrors.messageIllegal('message body must be a Uint8Array or a string');
    if (b.length === 0) throw RocketErrors.messageIllegal(EMPTY_BODY_ERROR);
    if (b.length > this.maxMessageSize) {
      throw RocketErrors.messageIllegal(`the message body size over max value, MAX: ${this.maxMessageSize}`, { size: b.length, max: this.maxMessageSize });
    }
    return b;
  }

  private prepare(m: MessageInit, topic: string, queueId: number, cq: ConsumeQueue, born: number, now: number): Prepared {
    if (m === null || typeof m !== 'object') throw RocketErrors.messageIllegal('message must be an object');
    if (m.topic !== topic) throw RocketErrors.messageIllegal(`every message of a batch must have topic ${topic} (got ${describeValue(m.topic)})`);
    const body = this.bodyOf(m.body);
    const flag = m.flag ?? 0;
    if (m.tags === undefined && m.keys === undefined && m.properties === undefined && !m.delayTimeLevel) {
      return { cq, storeTopic: topic, body, props: '', propsBytes: 0, tagsCode: 0, sysFlag: 0, bornTimestamp: born, flag, reconsumeTimes: 0 };
    }
    if (m.tags !== undefined && typeof m.tags !== 'string') throw RocketErrors.messageIllegal('message tags must be a string');
    const props = storedProperties(m)!;
    for (const name in props) {
      if (typeof props[name] !== 'string') throw RocketErrors.messageIllegal(`message property ${name} must be a string`);
      checkPropertyText(name, props[name]!);
    }
    let level = 0;
    if (m.delayTimeLevel !== undefined && m.delayTimeLevel !== 0) {
      level = m.delayTimeLevel;
      if (!Number.isInteger(level) || level < 0) throw RocketErrors.messageIllegal('delayTimeLevel must be a non-negative integer', { delayTimeLevel: level });
    }
    return this.prepareWithProps(props, topic, queueId, cq, body, born, flag, 0, level, now);
  }

  private prepareWithProps(props: Record<string, string>, topic: string, queueId: number, cq: ConsumeQueue, body: Uint8Array,
    born: number, flag: number, reconsumeTimes: number, delayLevel: number, now: number): Prepared {
    const tags = props[PROPERTY_TAGS];
    let tagsCode = tags ? tagHashCode(tags) : 0;
    const sysFlag = keysOf(props['KEYS']).length > 0 ? SYSFLAG_HAS_KEYS : 0;
    let storeTopic = topic;
    if (delayLevel > 0) {
      const level = Math.min(delayLevel, this.delayLevels.length);
      props[PROPERTY_DELAY_TIME_LEVEL] = String(level);
      props[PROPERTY_REAL_TOPIC] = topic;
      props[PROPERTY_REAL_QUEUE_ID] = String(queueId);
      storeTopic = SCHEDULE_TOPIC;
      cq = this.scheduleQueues[level - 1]!;
      tagsCode = now + this.delayLevels[level - 1]!;
    } else {
      delete props[PROPERTY_DELAY_TIME_LEVEL];
    }
    const s = propertiesToString(props);
    return { cq, storeTopic, body, props: s, propsBytes: Buffer.byteLength(s), tagsCode, sysFlag, bornTimestamp: born, flag, reconsumeTimes };
  }

  /** Assigns queue offsets, encodes and appends; returns CommitLog positions. Rolls offsets back on failure. */
  private appendPrepared(preps: Prepared[], now: number): number[] {
    let total = 0;
    for (const p of preps) total += encodedSize(p.storeTopic.length, p.propsBytes, p.body.length);
    const out = this.scratchOf(total);
    const n = preps.length;
    const payloads: Buffer[] = new Array(n);
    const cqs: ConsumeQueue[] = new Array(n);
    const offsets: number[] = new Array(n);
    let off = 0;
    for (let i = 0; i < n; i++) {
      const p = preps[i]!;
      const cq = p.cq;
      cqs[i] = cq;
      offsets[i] = cq.nextOffset++;
      const len = encodeRecord(out, off, {
        topic: p.storeTopic, queueId: cq.queueId, queueOffset: offsets[i]!, tagsCode: p.tagsCode, bornTimestamp: p.bornTimestamp,
        flag: p.flag, reconsumeTimes: p.reconsumeTimes, sysFlag: p.sysFlag, props: p.props, propsBytes: p.propsBytes, body: p.body,
      });
      payloads[i] = out.subarray(off, off + len);
      off += len;
    }
    let keyed: Map<number, { topic: string; keys: string[]; timestamp: number }> | undefined;
    for (let i = 0; i < n; i++) {
      const p = preps[i]!;
      if (!(p.sysFlag & SYSFLAG_HAS_KEYS)) continue;
      (keyed ??= new Map()).set(i, { topic: p.storeTopic, keys: keysOf(stringToProperties(p.props)['KEYS']), timestamp: now });
    }
    return this.appendEncoded(payloads, cqs, offsets, preps.map((p) => p.tagsCode), keyed, now);
  }

  /**
   * The common send path's shape: a batch of plain messages (no tags, keys, properties or delay)
   * to one queue. The first record's header is encoded in full; each later one copies it and
   * sets its queue offset and body length. The batch goes to the core as one packed buffer and
   * a lengths array (no per-record JS value).
   */
  private appendPlain(topic: string, cq: ConsumeQueue, msgs: readonly MessageInit[], born: number, now: number): number[] {
    const n = msgs.length;
    const headerBytes = encodedSize(topic.length, 0, 0);
    let total = n * headerBytes;
    for (let i = 0; i < n; i++) total += (msgs[i]!.body as Uint8Array).length;
    const out = this.scratchOf(total);
    const first = cq.nextOffset;
    encodePlainHeader(out, topic, cq.queueId, first, born);
    if (this.lengths.length < n) this.lengths = new Uint32Array(Math.max(n, this.lengths.length * 2));
    const lengths = this.lengths;
    let off = 0;
    for (let i = 0; i < n; i++) {
      const body = msgs[i]!.body as unknown;
      // Read again after the checks: a body whose getter answers differently now is refused.
      if (!(body instanceof Uint8Array) || off + headerBytes + body.length > total) throw RocketErrors.messageIllegal('a message body changed while it was being sent');
      if (i > 0) {
        out.copyWithin(off, 0, headerBytes);
        out.writeDoubleLE(first + i, off + 8);
      }
      out.writeUInt32LE(body.length, off + 40);
      out.set(body, off + headerBytes);
      const len = headerBytes + body.length;
      lengths[i] = len;
      off += len;
    }
    cq.nextOffset = first + n;
    const positions: number[] = new Array(n);
    try {
      if (n === 1) {
        // One message per send repeats its size: the view of the scratch is made once.
        let view = this.oneRecord;
        if (view === undefined || view.length !== off || view.buffer !== out.buffer) this.oneRecord = view = out.subarray(0, off);
        positions[0] = this.log.append(view, now);
      }
      else if (this.log.appendPacked && this.storage.framedSize) {
        let pos = this.log.appendPacked(out.subarray(0, off), lengths.subarray(0, n), now);
        for (let i = 0; i < n; i++) {
          positions[i] = pos;
          pos += this.storage.framedSize(lengths[i]!);
        }
        if (pos !== this.log.endPosition) this.readPositionsBack(positions);
      } else {
        let p = 0;
        for (let i = 0; i < n; i++) {
          positions[i] = this.log.append(out.subarray(p, p + lengths[i]!), now);
          p += lengths[i]!;
        }
      }
    } catch (e) {
      cq.nextOffset = first;
      throw e;
    }
    this.dispatcher.requestMany(cq, first, positions, this.log.endPosition, undefined, undefined);
    this.afterAppend(cq.waiting > 0);
    return positions;
  }

  private lengths = new Uint32Array(1024);
  private oneRecord: Buffer | undefined;

  /** The frame size assumption does not hold for this store: read a batch's positions back. */
  private readPositionsBack(positions: number[]): void {
    const { records } = this.log.readBatch(positions[0]!, Number.MAX_SAFE_INTEGER, positions.length);
    for (let i = 0; i < records.length; i++) positions[i] = records[i]!.position;
  }

  /** The core copies payloads into the mapped segment during append, so one scratch buffer serves every put. */
  private scratchOf(bytes: number): Buffer {
    if (this.scratch.length < bytes) this.scratch = Buffer.allocUnsafeSlow(Math.max(bytes, this.scratch.length * 2));
    return this.scratch;
  }

  /**
   * Appends encoded records (queue offsets already taken from their queues), hands the dispatcher
   * a request per record, and returns CommitLog positions. On failure the queue offsets go back.
   */
  private appendEncoded(payloads: Buffer[], cqs: ConsumeQueue | ConsumeQueue[], offsets: number[], tagsCodes: number[] | undefined,
    keyed: Map<number, { topic: string; keys: string[]; timestamp: number }> | undefined, now: number): number[] {
    const n = payloads.length;
    const positions: number[] = new Array(n);
    try {
      if (n === 1) positions[0] = this.log.append(payloads[0]!, now);
      else if (this.storage.framedSize) {
        let pos = this.log.appendBatch(payloads, now);
        for (let i = 0; i < n; i++) {
          positions[i] = pos;
          pos += this.storage.framedSize(payloads[i]!.length);
        }
        if (pos !== this.log.endPosition) this.readPositionsBack(positions);
      } else {
        for (let i = 0; i < n; i++) positions[i] = this.log.append(payloads[i]!, now);
      }
    } catch (e) {
      for (let i = n - 1; i >= 0; i--) (Array.isArray(cqs) ? cqs[i]! : cqs).nextOffset = offsets[i]!;
      throw e;
    }
    this.dispatcher.requestMany(cqs, offsets, positions, this.log.endPosition, tagsCodes, keyed);
    this.afterAppend(Array.isArray(cqs) ? cqs.some((q) => q.waiting > 0) : cqs.waiting > 0);
    return positions;
  }

  /** `waited`: a long poll is held on a queue this put wrote to. */
  private afterAppend(waited: boolean): void {
    const lag = this.dispatcher.lagBytes;
    if (lag > this.maxObservedLag) this.maxObservedLag = lag;
    if (lag >= this.maxLag) {
      this.inlineDispatches++;
      this.dispatcher.dispatch();
    } else if (waited) {
      // A long poll is waiting: dispatch now, so its pull is answered by this put (as RocketMQ's
      // reput notifies held requests). No listener runs here: the answer settles a promise.
      this.dispatcher.dispatch();
    } else if (!this.dispatchScheduled) {
      // Otherwise on the next turn, so that the puts of a busy turn are dispatched together.
      this.dispatchScheduled = true;
      setImmediate(this.dispatchTask);
    }
  }

  private readonly dispatchTask = (): void => {
    this.dispatchScheduled = false;
    if (this.running) this.dispatcher.dispatch();
  };

  /** Dispatches everything appended so far (the ConsumeQueues catch up now). */
  dispatchNow(): number {
    return this.running ? this.dispatcher.dispatch() : 0;
  }

  // ─── pull ────────────────────────────────────────────────────────────────────────────────

  pullMessage(req: PullRequest): PullResult | Promise<PullResult> {
    return this.pull(req, this.formatMessages);
  }

  /**
   * As pullMessage, but the messages come as their raw CommitLog records in one buffer (what the
   * RPC transport sends to a worker, which decodes them there: one copy instead of a structured
   * clone of every message object).
   */
  pullMessageRaw(req: PullRequest): RawPullResult | Promise<RawPullResult> {
    return this.pull(req, this.formatRaw);
  }

  private readonly formatMessages = (scan: ScanResult): PullResult => {
    const n = scan.positions.length;
    const msgFoundList: MessageExt[] = new Array(n);
    for (let i = 0; i < n; i++) msgFoundList[i] = this.readMessage(scan.positions[i]!);
    return { pullStatus: scan.pullStatus, nextBeginOffset: scan.nextBeginOffset, minOffset: scan.minOffset, maxOffset: scan.maxOffset, msgFoundList };
  };

  private readonly formatRaw = (scan: ScanResult): RawPullResult => this.rawOf(scan);

  /**
   * A pull that finds nothing and may wait is held (RocketMQ's PullRequestHoldService): the
   * dispatcher answers it as soon as its queue gets an entry (notifyMessageArriving), or the
   * hold timer when its suspend time is over. One timer serves every held pull.
   */
  private pull<R>(req: PullRequest, format: (scan: ScanResult) => R): R | Promise<R> {
    this.checkRunning();
    checkObject('pull request', req);
    if (req.suspendMs !== undefined && (typeof req.suspendMs !== 'number' || Number.isNaN(req.suspendMs))) throw RocketErrors.invalid('suspendMs', 'a number of ms');
    this.groupOrAutoCreate(req.group);
    const cq = this.queueOrThrow(req.topic, req.queueId);
    const offset = req.queueOffset;
    const maxMsgNums = req.maxMsgNums;
    if (!Number.isInteger(offset)) throw RocketErrors.invalid('queueOffset', 'an integer');
    if (!Number.isInteger(maxMsgNums) || maxMsgNums < 1) throw RocketErrors.invalid('maxMsgNums', 'a positive integer');
    const sub = this.subscriptionOf(req.topic, req.subExpression);
    const wait = Math.min(req.suspendMs ?? 0, MAX_TIMER_MS);
    // Caught up and willing to wait (a long poll that keeps up): hold it without scanning.
    if (!(wait > 0) || offset !== cq.maxOffset) return format(this.scan(cq, offset, maxMsgNums, sub));
    // The executor is a shared function (no closure per held pull): it hands `resolve` over.
    const promise = new Promise<R>(captureResolve);
    const held = new HeldPull<R>(this, cq, offset, maxMsgNums, sub, format, capturedResolve as (result: R) => void, performance.now() + wait);
    capturedResolve = undefined;
    cq.addWaiter(held);
    held.index = this.heldCount;
    this.heldPulls[this.heldCount++] = held;
    if (held.deadline < this.holdTimerAt) this.armHoldTimer(held.deadline);
    return promise;
  }

  /** Answers a held pull (a message arrived, its time is over, or the broker stops). */
  answerHeld<R>(held: HeldPull<R>, arrived: boolean): void {
    const i = held.index;
    if (i < 0) return;
    // Swap-remove: the held list is unordered and keeps its length (no reallocation per pull).
    const last = this.heldPulls[--this.heldCount]!;
    this.heldPulls[this.heldCount] = undefined;
    if (last !== held) {
      this.heldPulls[i] = last;
      last.index = i;
    }
    held.index = -1;
    if (!arrived) held.cq.removeWaiter(held);
    let result: R;
    try {
      result = held.format(this.running ? this.scan(held.cq, held.offset, held.maxMsgNums, held.sub) : noNewMessage(held.offset, held.cq));
    } catch {
      result = held.format(noNewMessage(held.offset, held.cq));
    }
    held.resolve(result);
  }

  // Slots [0, heldCount) hold the held pulls.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly heldPulls: Array<HeldPull<any> | undefined> = [];
  private heldCount = 0;
  private holdTimer: NodeJS.Timeout | undefined;
  private holdTimerAt = Number.POSITIVE_INFINITY;

  private armHoldTimer(at: number): void {
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    this.holdTimerAt = at;
    this.holdTimer = setTimeout(this.expireHeldPulls, Math.max(0, Math.ceil(at - performance.now())));
  }

  private readonly expireHeldPulls = (): void => {
    this.holdTimer = undefined;
    this.holdTimerAt = Number.POSITIVE_INFINITY;
    // setTimeout counts whole milliseconds: a deadline within the next one is due now.
    const now = performance.now() + 1;
    let next = Number.POSITIVE_INFINITY;
    // Backwards: answering one moves the last into its slot, which was visited already.
    for (let i = this.heldCount - 1; i >= 0; i--) {
      const held = this.heldPulls[i]!;
      if (held.deadline <= now) this.answerHeld(held, false);
      else if (held.deadline < next) next = held.deadline;
    }
    if (next < Number.POSITIVE_INFINITY) this.armHoldTimer(next);
  };

  private rawOf(scan: ScanResult): RawPullResult {
    const n = scan.positions.length;
    const meta = new Float64Array(n * 3);
    const payloads: Buffer[] = new Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const rec = this.log.read(scan.positions[i]!);
      payloads[i] = rec.payload;
      total += rec.payload.length;
      meta[i * 3] = rec.position;
      meta[i * 3 + 1] = rec.timestamp;
      meta[i * 3 + 2] = rec.next - rec.position;
    }
    const data = new Uint8Array(total);
    let off = 0;
    for (const p of payloads) {
      data.set(p, off);
      off += p.length;
    }
    return { pullStatus: scan.pullStatus, nextBeginOffset: scan.nextBeginOffset, minOffset: scan.minOffset, maxOffset: scan.maxOffset, brokerName: this.brokerName, storeHost: this.brokerAddr, data, meta };
  }

  private subscriptionOf(topic: string, expression: string | undefined): SubscriptionData {
    const key = expression ?? '*';
    let sub = this.subCache.get(key);
    if (!sub) {
      sub = parseSubscription(topic, expression);
      if (this.subCache.size > 1000) this.subCache.clear();
      this.subCache.set(key, sub);
    }
    return sub;
  }

  private scan(cq: ConsumeQueue, offset: number, maxMsgNums: number, sub: SubscriptionData): ScanResult {
    const maxOffset = cq.maxOffset;
    const minOffset = cq.minOffset;
    if (offset < minOffset) return { pullStatus: 'OFFSET_ILLEGAL', nextBeginOffset: minOffset, minOffset, maxOffset, positions: [] };
    if (offset > maxOffset) return { pullStatus: 'OFFSET_ILLEGAL', nextBeginOffset: maxOffset, minOffset, maxOffset, positions: [] };
    if (offset === maxOffset) return noNewMessage(offset, cq);
    let positions: number[];
    let next = offset;
    if (cq.isCached(offset) && sub.all) {
      // The consumer keeps up: the entries are in memory.
      const n = Math.min(maxOffset - offset, maxMsgNums);
      positions = new Array<number>(n);
      for (let i = 0; i < n; i++) positions[i] = cq.cachedPosition(offset + i);
      next = offset + n;
    } else if (cq.isCached(offset)) {
      positions = [];
      for (; next < maxOffset && positions.length < maxMsgNums; next++) {
        if (!sub.all && !codeMatches(sub, cq.cachedTagsCode(next))) continue;
        positions.push(cq.cachedPosition(next));
      }
    } else {
      positions = [];
      const entries = cq.entries(offset, Math.min(maxOffset - offset, Math.max(maxMsgNums, 800)));
      const n = entries.length / CQ_UNIT_SIZE;
      let i = 0;
      for (; i < n && positions.length < maxMsgNums; i++) {
        const e = i * CQ_UNIT_SIZE;
        if (!sub.all && !codeMatches(sub, readInt64BE(entries, e + 12))) continue;
        positions.push(readInt64BE(entries, e));
      }
      next = offset + i;
    }
    return { pullStatus: positions.length ? 'FOUND' : 'NO_MATCHED_MSG', nextBeginOffset: next, minOffset, maxOffset, positions };
  }

  private readMessage(position: number): MessageExt {
    const rec = this.log.read(position);
    return messageFromRecord(rec.payload, position, rec.timestamp, rec.next - position, this.brokerName, this.brokerAddr, this.idPrefix);
  }

  getMaxOffset(topic: string, queueId: number): number {
    return this.queueOrThrow(topic, queueId).maxOffset;
  }

  getMinOffset(topic: string, queueId: number): number {
    return this.queueOrThrow(topic, queueId).minOffset;
  }

  /** First queue offset whose message was stored at or after `timestamp` (maxOffset if none). */
  searchOffset(topic: string, queueId: number, timestamp: number): number {
    const cq = this.queueOrThrow(topic, queueId);
    if (typeof timestamp !== 'number' || Number.isNaN(timestamp)) throw RocketErrors.invalid('timestamp', 'a number (ms since epoch)');
    let lo = cq.minOffset;
    let hi = cq.maxOffset;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.log.read(cq.entry(mid).position).timestamp < timestamp) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // ─── queries ─────────────────────────────────────────────────────────────────────────────

  viewMessage(commitLogOffset: number): MessageExt {
    this.checkRunning();
    checkInteger('commitLogOffset', commitLogOffset);
    try {
      return this.readMessage(commitLogOffset);
    } catch (e) {
      if (isMqlabError(e) && (e.code === 'ERR_OUT_OF_RANGE' || e.code === 'MESSAGE_ILLEGAL' || e.code === 'ERR_INVALID_ARG')) {
        throw RocketErrors.queryNotFound(`CommitLog offset ${commitLogOffset} on ${this.brokerName}`, { commitLogOffset });
      }
      throw e;
    }
  }

  queryMessage(topic: string, key: string, maxNum: number, begin: number, end: number): MessageExt[] {
    this.checkRunning();
    this.topicOrThrow(topic);
    checkString('key', key);
    checkInteger('maxNum', maxNum, 1);
    if (typeof begin !== 'number' || typeof end !== 'number' || Number.isNaN(begin) || Number.isNaN(end)) throw RocketErrors.invalid('begin and end', 'numbers (ms since epoch)');
    const out: MessageExt[] = [];
    for (const pos of this.keyIndex.candidates(topic, key)) {
      const m = this.readMessage(pos);
      if (m.topic !== topic || m.storeTimestamp < begin || m.storeTimestamp > end || !keysOf(m.keys).includes(key)) continue;
      out.push(m);
      if (out.length >= maxNum) break;
    }
    return out;
  }

  // ─── consumers ───────────────────────────────────────────────────────────────────────────

  private groupOrAutoCreate(group: string): void {
    if (this.topicConfig.groups.has(group)) return;
    checkGroup(group);
    if (this.opts.autoCreateSubscriptionGroup === false) throw RocketErrors.groupNotExist(group);
    this.topicConfig.upsertGroup(group, DEFAULT_MAX_RECONSUME_TIMES);
  }

  private groupOrThrow(group: string): void {
    if (this.topicConfig.groups.has(group)) return;
    checkGroup(group);
    throw RocketErrors.groupNotExist(group);
  }

  heartbeat(hb: ConsumerHeartbeat): void {
    this.checkRunning();
    checkObject('heartbeat', hb);
    checkString('heartbeat.clientId', hb.clientId);
    this.groupOrAutoCreate(hb.group);
    if (hb.messageModel !== 'CLUSTERING' && hb.messageModel !== 'BROADCASTING') throw RocketErrors.invalid('heartbeat.messageModel', "'CLUSTERING' or 'BROADCASTING'");
    if (!Array.isArray(hb.subscriptions) || !hb.subscriptions.every((s) => s !== null && typeof s === 'object' && typeof s.topic === 'string' && typeof s.subString === 'string')) {
      throw RocketErrors.invalid('heartbeat.subscriptions', 'an array of { topic, subString } (strings)');
    }
    if (hb.messageModel === 'CLUSTERING') {
      const retry = retryTopicOf(hb.group);
      if (!this.topics.has(retry)) {
        this.ensureTopic(retry, 1, PERM_READ | PERM_WRITE);
        this.registerToNameServer();
      }
    }
    this.consumers.heartbeat(hb);
  }

  unregisterClient(clientId: string, group: string): void {
    checkString('clientId', clientId);
    checkGroup(group);
    this.consumers.unregister(clientId, group);
  }

  getConsumerIdList(group: string): string[] {
    this.groupOrThrow(group);
    return this.consumers.clientIds(group);
  }

  waitConsumerIdsChanged(group: string, knownVersion: number, timeoutMs: number): GroupMembers | Promise<GroupMembers> {
    this.groupOrThrow(group);
    checkInteger('knownVersion', knownVersion);
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) throw RocketErrors.invalid('timeoutMs', 'a number');
    return this.consumers.waitChange(group, knownVersion, this.running ? Math.min(timeoutMs, MAX_TIMER_MS) : 0);
  }

  /** Drops clients whose heartbeat expired (by the clock); returns their ids. */
  scanNotActiveClients(): string[] {
    return this.consumers.scanNotActive();
  }

  lockBatchMQ(group: string, clientId: string, queues: QueueRef[]): QueueRef[] {
    this.groupOrThrow(group);
    checkString('clientId', clientId);
    return this.consumers.lock(group, clientId, checkQueueRefs('queues', queues));
  }

  unlockBatchMQ(group: string, clientId: string, queues: QueueRef[]): void {
    checkGroup(group);
    checkString('clientId', clientId);
    this.consumers.unlock(group, clientId, checkQueueRefs('queues', queues));
  }

  queryConsumerOffset(group: string, topic: string, queueId: number): number {
    this.groupOrThrow(group);
    this.queueOrThrow(topic, queueId);
    return this.offsets.query(group, topic, queueId);
  }

  updateConsumerOffset(group: string, topic: string, queueId: number, offset: number): void {
    this.groupOrAutoCreate(group);
    const cq = this.queueOrThrow(topic, queueId);
    if (!Number.isInteger(offset) || offset < 0 || offset > cq.nextOffset) throw RocketErrors.invalid('offset', `an integer from 0 to ${cq.nextOffset}`);
    this.offsets.commit(group, topic, queueId, offset);
  }

  /** Every offset a group stored on this broker: topic → per-queue next offsets. */
  consumerOffsets(group: string): Record<string, number[]> {
    this.groupOrThrow(group);
    return this.offsets.offsetsOf(group);
  }

  /**
   * RECONSUME_LATER: the message goes to `%RETRY%<group>` with delay level 3 + reconsumeTimes
   * (or the level asked), reconsumeTimes + 1 — or to `%DLQ%<group>` once reconsumeTimes reached
   * maxReconsumeTimes (or delayLevel < 0).
   */
  consumerSendMessageBack(req: SendBackRequest): void {
    this.checkRunning();
    checkObject('send-back request', req);
    this.groupOrThrow(req.group);
    checkInteger('commitLogOffset', req.commitLogOffset);
    if (typeof req.delayLevel !== 'number' || Number.isNaN(req.delayLevel)) throw RocketErrors.invalid('delayLevel', 'a number (0: by reconsume times, < 0: to the DLQ)');
    const rec = (() => {
      try {
        return decodeRecord(this.log.read(req.commitLogOffset).payload);
      } catch {
        throw RocketErrors.queryNotFound(`CommitLog offset ${req.commitLogOffset}`, { commitLogOffset: req.commitLogOffset });
      }
    })();
    const maxTimes = Number.isInteger(req.maxReconsumeTimes) && req.maxReconsumeTimes >= 0 ? req.maxReconsumeTimes : DEFAULT_MAX_RECONSUME_TIMES;
    const props = { ...rec.properties };
    if (props[PROPERTY_RETRY_TOPIC] === undefined) props[PROPERTY_RETRY_TOPIC] = rec.topic;
    if (props[PROPERTY_ORIGIN_MESSAGE_ID] === undefined) props[PROPERTY_ORIGIN_MESSAGE_ID] = createMessageId(this.idPrefix, req.commitLogOffset);
    const toDlq = rec.reconsumeTimes >= maxTimes || req.delayLevel < 0;
    const topic = toDlq ? dlqTopicOf(req.group) : retryTopicOf(req.group);
    const ts = this.ensureTopic(topic, 1, PERM_READ | PERM_WRITE);
    if (ts.queues.length === 1 && !this.registeredTopics.has(topic)) this.registerToNameServer();
    const delayLevel = toDlq ? 0 : req.delayLevel > 0 ? req.delayLevel : 3 + rec.reconsumeTimes;
    const now = this.clock();
    const reconsumeTimes = toDlq ? rec.reconsumeTimes : rec.reconsumeTimes + 1;
    this.appendPrepared([this.prepareWithProps(props, topic, 0, ts.queues[0]!, rec.body, rec.bornTimestamp, rec.flag, reconsumeTimes, delayLevel, now)], now);
  }

  private redeliverScheduled(rec: DecodedRecord, realTopic: string, realQid: number, props: Record<string, string>): void {
    const ts = this.topics.get(realTopic);
    const cq = ts?.queues[realQid] ?? this.queueForDispatch(realTopic, realQid);
    const now = this.clock();
    this.appendPrepared([this.prepareWithProps(props, realTopic, realQid, cq, rec.body, rec.bornTimestamp, rec.flag, rec.reconsumeTimes, 0, now)], now);
  }

  /** Runs the time-driven services once: due delayed messages move to their topics. */
  tick(): number {
    if (!this.running) return 0;
    this.dispatcher.dispatch(); // delayed messages are seen through their ConsumeQueue
    const moved = this.schedule.tick();
    if (moved > 0) this.dispatcher.dispatch();
    return moved;
  }

  // ─── NameServer, stats, lifecycle ────────────────────────────────────────────────────────

  private registeredTopics = new Set<string>();

  registration(): BrokerRegistration {
    const topicConfigs = [...this.topics.values()].filter((t) => t.config.topicName !== SCHEDULE_TOPIC).map((t) => ({ ...t.config }));
    return { clusterName: this.clusterName, brokerName: this.brokerName, brokerAddr: this.brokerAddr, brokerId: 0, topicConfigs };
  }

  /** The broker's heartbeat to the NameServer: its address and every topic it serves. */
  registerToNameServer(): void {
    if (!this.opts.nameServer || !this.running) return;
    const reg = this.registration();
    this.registeredTopics = new Set(reg.topicConfigs.map((t) => t.topicName));
    void Promise.resolve(this.opts.nameServer.registerBroker(reg)).catch(() => undefined);
  }

  stats(): BrokerStats {
    return {
      brokerName: this.brokerName,
      commitLogEnd: this.log.endPosition,
      dispatchLagBytes: this.dispatcher.lagBytes,
      maxDispatchLagBytes: this.maxObservedLag,
      inlineDispatches: this.inlineDispatches,
      dispatchedRecords: this.dispatcher.dispatchedRecords,
      dispatchGaps: this.dispatcher.gaps,
      scheduledPending: this.schedule.pending().reduce((a, b) => a + b, 0),
    };
  }

  resetMaxDispatchLag(): void {
    this.maxObservedLag = 0;
    this.inlineDispatches = 0;
  }

  /** Writes offsets, delay progress and the dispatch checkpoint. */
  persist(): void {
    this.offsets.persist();
    this.schedule.persist();
    this.writeCheckpoint();
  }

  private writeCheckpoint(): void {
    const counts: Record<string, number[]> = {};
    for (const [name, ts] of this.topics) counts[name] = ts.queues.map((q) => q.maxOffset);
    writeJsonFile(path.join(this.configDir, 'checkpoint.json'), { dispatched: this.dispatcher.reputFrom, counts });
  }

  private trimQueuesBeyond(end: number): void {
    for (const ts of this.topics.values()) {
      for (const cq of ts.queues) {
        let n = cq.maxOffset;
        while (n > 0 && cq.entry(n - 1).position >= end) n--;
        if (n < cq.maxOffset) cq.truncate(n);
      }
    }
  }

  private checkRunning(): void {
    if (!this.running) throw RocketErrors.notStarted(`broker ${this.brokerName}`);
  }

  /**
   * Stops the broker: dispatches what is left, persists state, unregisters from the NameServer
   * (unless `unregister: false`, which looks like a crash to the NameServer: the broker expires).
   */
  shutdown(options: { unregister?: boolean } = {}): void {
    if (!this.running) return;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.dispatcher.dispatch();
    this.persist();
    this.offsets.persist(true);
    this.schedule.persist(true);
    this.running = false;
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    while (this.heldCount > 0) this.answerHeld(this.heldPulls[this.heldCount - 1]!, false);
    this.consumers.wakeAll();
    if (options.unregister !== false && this.opts.nameServer) {
      void Promise.resolve(this.opts.nameServer.unregisterBroker(this.clusterName, this.brokerName, this.brokerAddr)).catch(() => undefined);
    }
    for (const ts of this.topics.values()) for (const cq of ts.queues) cq.close();
    this.keyIndex.close();
    this.log.close();
  }
}
