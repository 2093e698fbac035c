import { randomBytes } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import { Errors, MqlabError } from '../errors';
import { amqpError, AmqpErrors } from './amqp-errors';
import type { Channel } from './channel';
import { Connection } from './connection';
import { buildDeathHeaders } from './dead-letter';
import { Binding, Exchange } from './exchange';
import { EMPTY_PROPERTIES, buildProperties, routingKeyList, ttlOf } from './message-properties';
import { QueueEntry, StoredMessage } from './message';
import { PublishOutcome } from './publish-outcome';
import { Queue, type QueueHost } from './queue';
import { firstDifference, mergeQueueOptions, parseQueueArguments } from './queue-arguments';
import { asStoreError, definitionWriteFailed } from './store-errors';
import type { BindingDefinition, DefinitionStore, EngineStorage, EngineStorageOptions, QueueStore, RecoveredEntryFields } from './store-types';
import type {
  AssertExchangeOptions,
  AssertQueueOptions,
  AssertQueueReply,
  DeadLetterReason,
  DeleteQueueOptions,
  Durability,
  EngineOptions,
  ExchangeType,
  FieldTable,
  PublishOptions,
} from './types';
import { describeValue } from '../describe-value';
import { checkBoolean, checkContent, checkEntityName, checkFieldTable, checkOptions, checkShortString } from './validate';

// Hot-path bindings: under tsx (esbuild) each use of an imported name is a getter call, so the
// names used per message are bound once here (tsc output is unaffected).
const NO_PROPERTIES = EMPTY_PROPERTIES;
const propertiesFrom = buildProperties;
const ttlFrom = ttlOf;
const Stored = StoredMessage;


const EXCHANGE_TYPES: readonly ExchangeType[] = ['direct', 'fanout', 'topic', 'headers'];
const PREDECLARED: ReadonlyArray<[string, ExchangeType]> = [
  ['amq.direct', 'direct'],
  ['amq.fanout', 'fanout'],
  ['amq.topic', 'topic'],
  ['amq.headers', 'headers'],
  ['amq.match', 'headers'],
];
const EMPTY_ROUTE: readonly Queue[] = Object.freeze([]);
/**
 * Data directories with an open engine in this thread. Two engines on one directory would both
 * write its logs (the storage core's lock is per process, shared by its threads).
 */
const OPEN_DIRS = new Set<string>();

/** A private copy of a message body (small ones come from Node's buffer pool). */
function copyOf(src: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(src.length);
  b.set(src);
  return b;
}
/** Pump rounds run as microtasks in one event-loop turn before yielding to I/O via setImmediate. */
const MICROTASK_ROUNDS = 32;

/**
 * The in-process RabbitMQ broker: one vhost of exchanges, queues and bindings, and the pump
 * that moves messages. Clients use it the way an amqplib user uses a broker:
 *
 *   const engine = RabbitEngine.open('/data/rabbit');        // or open() for memory only
 *   const conn = await engine.connect();
 *   const ch = await conn.createChannel();
 *   await ch.assertQueue('jobs');
 *   ch.sendToQueue('jobs', Buffer.from('hi'), { persistent: true });
 *   await ch.consume('jobs', (m) => ch.ack(m!));
 *
 * Work is batched per event-loop turn: publishes enqueue at once, and one "pump" (a microtask)
 * then dispatches to consumers, appends persistent messages to their queues' logs in one batch,
 * and settles publisher confirms.
 */
export class RabbitEngine implements QueueHost {
  readonly dataDir: string | null;
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();
  readonly durability: Durability;
  private readonly clock: () => number;
  private readonly copyContent: boolean;
  private storage: EngineStorage | null;
  private dispatchList: Queue[] = [];
  private confirmList: Channel[] = [];
  private dirtyStores: QueueStore[] = [];
  private pumpScheduled = false;
  private microRounds = 0;
  private confirmChain: Promise<void> = Promise.resolve();
  /** A store write failed since the last confirm round: that round's confirms are nacked with it. */
  private storeFailure: MqlabError | null = null;
  private readonly connections = new Set<Connection>();
  private defaultConnection: Connection | null = null;
  private closed = false;
  private dirKey: string | null = null;

  private constructor(dataDir: string | null, options: EngineOptions, storage: EngineStorage | null) {
    this.dataDir = dataDir;
    this.clock = options.clock ?? Date.now;
    this.durability = options.durability ?? 'none';
    this.copyContent = options.copyContent ?? true;
    this.storage = storage;
    for (const [name, type] of PREDECLARED) this.exchanges.set(name, new Exchange(name, type, true, false, false, undefined, {}));
  }

  /**
   * Opens an engine. With `dataDir`, durable exchanges, queues, bindings and persistent messages
   * are kept there (through the storage core) and recovered on the next open; without it the
   * engine is memory-only and never touches the disk.
   */
  static open(dataDir?: string | null, engineOptions?: EngineOptions): RabbitEngine {
    if (engineOptions !== undefined && (engineOptions === null || typeof engineOptions !== 'object')) throw Errors.invalidArg('options', 'an object');
    const options = engineOptions ?? {};
    if (options.copyContent !== undefined && typeof options.copyContent !== 'boolean') throw Errors.invalidArg('options.copyContent', 'a boolean');
    const compactAfter = options.compactDefinitionsAfter;
    if (compactAfter !== undefined && (typeof compactAfter !== 'number' || !Number.isSafeInteger(compactAfter) || compactAfter < 0)) {
      throw Errors.invalidArg('options.compactDefinitionsAfter', 'a non-negative integer (records)');
    }
    if (options.clock !== undefined && typeof options.clock !== 'function') throw Errors.invalidArg('options.clock', 'a function returning ms since epoch');
    if (options.durability !== undefined && !['none', 'async', 'sync'].includes(options.durability)) {
      throw Errors.invalidArg('options.durability', "'none', 'async' or 'sync'");
    }
    if (dataDir === undefined || dataDir === null) return new RabbitEngine(null, options, null);
    if (typeof dataDir !== 'string' || dataDir.length === 0) throw Errors.invalidArg('dataDir', 'a non-empty path');
    const key = resolvePath(dataDir);
    if (OPEN_DIRS.has(key)) throw new MqlabError('ERR_LOCKED', `a RabbitEngine is already open on ${key} in this thread; close it first`, { dataDir: key });
    // Loaded only for a persistent engine, so a memory-only engine works without the native addon.
    const { openEngineStorage } = require('./engine-storage') as { openEngineStorage: (dir: string, o: EngineStorageOptions) => EngineStorage };
    const storage = openEngineStorage(dataDir, { durability: options.durability ?? 'none', segmentBytes: options.segmentBytes, clock: options.clock, compactDefinitionsAfter: compactAfter });
    const engine = new RabbitEngine(dataDir, options, storage);
    try {
      engine.recover();
    } catch (e) {
      storage.close();
      throw e;
    }
    OPEN_DIRS.add(key);
    engine.dirKey = key;
    return engine;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  now(): number {
    return this.clock();
  }

  /** amqplib's `connect()`: a connection owning channels and exclusive queues. */
  async connect(): Promise<Connection> {
    return this.openConnection();
  }

  openConnection(): Connection {
    this.checkOpen();
    const conn = new Connection(this);
    this.connections.add(conn);
    return conn;
  }

  /** A channel on the engine's default connection. */
  async createChannel(): Promise<Channel> {
    return this.defaultConn().openChannel(false);
  }

  async createConfirmChannel(): Promise<import('./confirm-channel').ConfirmChannel> {
    return this.defaultConn().openChannel(true) as import('./confirm-channel').ConfirmChannel;
  }

  private defaultConn(): Connection {
    this.checkOpen();
    if (this.defaultConnection === null || this.defaultConnection.closed) this.defaultConnection = this.openConnection();
    return this.defaultConnection;
  }

  /** @internal called by Connection.close. */
  connectionClosed(conn: Connection): void {
    this.connections.delete(conn);
    for (const q of [...this.queues.values()]) if (q.exclusiveOwner === conn) this.removeQueue(q);
  }

  checkOpen(): void {
    if (this.closed) throw Errors.closed('RabbitEngine');
  }

  // ---- declarations -------------------------------------------------------------------------

  declareExchange(name: string, type: ExchangeType, exchangeOptions?: AssertExchangeOptions): { exchange: string } {
    this.checkOpen();
    checkEntityName('exchange', name);
    const options = checkOptions('exchange options', exchangeOptions);
    if (!EXCHANGE_TYPES.includes(type)) throw amqpError('COMMAND_INVALID', `invalid exchange type ${describeValue(type)}`, { exchange: name });
    if (name === '') throw amqpError('ACCESS_REFUSED', "operation not permitted on the default exchange", { exchange: name });
    const durable = checkBoolean('durable', options.durable, true);
    const autoDelete = checkBoolean('autoDelete', options.autoDelete, false);
    const internal = checkBoolean('internal', options.internal, false);
    const args: FieldTable = options.arguments ? { ...checkFieldTable('arguments', options.arguments) } : {};
    if (options.alternateExchange !== undefined) args['alternate-exchange'] = checkShortString('alternateExchange', options.alternateExchange);
    const ae = args['alternate-exchange'];
    if (ae !== undefined && typeof ae !== 'string') throw AmqpErrors.invalidArg("arg 'alternate-exchange'", 'must be a string', { exchange: name });
    const existing = this.exchanges.get(name);
    if (existing) {
      const diff =
        existing.type !== type ? ['type', type, existing.type]
        : existing.durable !== durable ? ['durable', durable, existing.durable]
        : existing.autoDelete !== autoDelete ? ['auto_delete', autoDelete, existing.autoDelete]
        : existing.internal !== internal ? ['internal', internal, existing.internal]
        : existing.alternateExchange !== ae ? ['alternate-exchange', ae, existing.alternateExchange]
        : null;
      if (diff) throw AmqpErrors.inequivalent('exchange', name, diff[0] as string, diff[1], diff[2]);
      return { exchange: name };
    }
    if (name.startsWith('amq.')) throw amqpError('ACCESS_REFUSED', `exchange name '${name}' contains reserved prefix 'amq.*'`, { exchange: name });
    const ex = new Exchange(name, type, durable, autoDelete, internal, ae as string | undefined, args);
    if (durable) {
      this.persist(`declare exchange '${name}'`, { exchange: name }, (d) =>
        d.putExchange({ name, type, autoDelete, internal, ...(ae !== undefined ? { alternateExchange: ae as string } : {}), args }),
      );
    }
    this.exchanges.set(name, ex);
    return { exchange: name };
  }

  checkExchange(name: string): Exchange {
    this.checkOpen();
    if (name === '') return this.exchanges.get('amq.direct')!;
    const ex = this.exchanges.get(checkEntityName('exchange', name));
    if (!ex) throw AmqpErrors.noExchange(name);
    return ex;
  }

  deleteExchange(name: string, deleteOptions?: { ifUnused?: boolean }): void {
    this.checkOpen();
    checkEntityName('exchange', name);
    const options = checkOptions('delete options', deleteOptions);
    const ifUnused = checkBoolean('ifUnused', options.ifUnused, false);
    if (name === '' || PREDECLARED.some(([n]) => n === name)) {
      throw amqpError('ACCESS_REFUSED', `operation not permitted on the ${name === '' ? 'default' : 'predeclared'} exchange '${name}'`, { exchange: name });
    }
    const ex = this.exchanges.get(name);
    if (!ex) return;
    if (ifUnused && ex.bindings.length > 0) throw amqpError('PRECONDITION_FAILED', `exchange '${name}' in vhost '/' in use`, { exchange: name });
    this.removeExchange(ex);
  }

  private removeExchange(ex: Exchange): void {
    if (ex.durable) this.persist(`delete exchange '${ex.name}'`, { exchange: ex.name }, (d) => d.deleteExchange(ex.name));
    this.exchanges.delete(ex.name);
  }

  /**
   * An auto-delete exchange lost its last binding. If the deletion cannot be written (a full
   * disk), the exchange stays, as it is on disk: what triggered it has already happened.
   */
  private autoDeleteExchange(ex: Exchange): void {
    try {
      this.removeExchange(ex);
    } catch {
      // Kept (memory and disk agree); it goes at its next auto-delete, or by deleteExchange.
    }
  }

  /**
   * Writes one change to the durable definitions before it is made in memory, so a failed write
   * (ERR_NO_SPACE …) leaves both as they were and the caller gets a typed error saying what did
   * not happen. Memory-only engines have nothing to write.
   */
  private persist(what: string, entity: Record<string, unknown>, write: (defs: DefinitionStore) => void): void {
    if (this.storage === null) return;
    try {
      write(this.storage.definitions);
    } catch (e) {
      throw definitionWriteFailed(what, entity, e);
    }
  }

  declareQueue(owner: Connection, name: string, queueOptions?: AssertQueueOptions): AssertQueueReply {
    this.checkOpen();
    checkEntityName('queue', name);
    const options = checkOptions('queue options', queueOptions);
    const durable = checkBoolean('durable', options.durable, true);
    const exclusive = checkBoolean('exclusive', options.exclusive, false);
    const autoDelete = checkBoolean('autoDelete', options.autoDelete, false);
    const rawArgs = mergeQueueOptions(options);
    if (name === '') name = `amq.gen-${randomBytes(16).toString('base64url')}`;
    else {
      const existing = this.queues.get(name);
      if (existing) {
        this.checkExclusiveAccess(existing, owner);
        const diff =
          existing.durable !== durable ? ['durable', durable, existing.durable]
          : (existing.exclusiveOwner !== null) !== exclusive ? ['exclusive', exclusive, existing.exclusiveOwner !== null]
          : existing.autoDelete !== autoDelete ? ['auto_delete', autoDelete, existing.autoDelete]
          : null;
        if (diff) throw AmqpErrors.inequivalent('queue', name, diff[0] as string, diff[1], diff[2]);
        const argDiff = firstDifference(existing.rawArgs, rawArgs);
        if (argDiff) throw AmqpErrors.inequivalent('queue', name, argDiff.key, argDiff.received, argDiff.current);
        return { queue: name, messageCount: existing.readyCount, consumerCount: existing.consumerCount };
      }
      if (name.startsWith('amq.')) throw amqpError('ACCESS_REFUSED', `queue name '${name}' contains reserved prefix 'amq.*'`, { queue: name });
    }
    const args = parseQueueArguments(name, rawArgs);
    if (args.queueType === 'quorum' && (!durable || exclusive || autoDelete)) {
      throw amqpError('PRECONDITION_FAILED', `invalid property '${!durable ? 'non-durable' : exclusive ? 'exclusive' : 'auto-delete'}' for queue '${name}' in vhost '/'`, { queue: name });
    }
    const queue = new Queue(name, durable, exclusive ? owner : null, autoDelete, rawArgs, args, this, null);
    const storage = this.storage;
    if (durable && !exclusive && storage !== null) {
      // Files first (a new queue starts empty), then the definition; either failing undoes both.
      const what = `declare queue '${name}'`;
      let store: QueueStore;
      try {
        store = storage.openQueue(name, (s) => this.storeDirty(s), (f) => this.recoveredEntry(queue, f), true);
      } catch (e) {
        throw definitionWriteFailed(what, { queue: name }, e);
      }
      try {
        this.persist(what, { queue: name }, (d) => d.putQueue({ name, autoDelete, args: rawArgs }));
      } catch (e) {
        store.destroy();
        throw e;
      }
      queue.store = store;
    }
    this.queues.set(name, queue);
    return { queue: name, messageCount: 0, consumerCount: 0 };
  }

  /** The queue, or NOT_FOUND; RESOURCE_LOCKED when exclusive to another connection. */
  queueFor(owner: Connection | null, name: string): Queue {
    const q = this.queues.get(name);
    if (q === undefined) {
      checkEntityName('queue', name);
      throw AmqpErrors.noQueue(name);
    }
    if (owner !== null) this.checkExclusiveAccess(q, owner);
    return q;
  }

  private checkExclusiveAccess(q: Queue, owner: Connection): void {
    if (q.exclusiveOwner !== null && q.exclusiveOwner !== owner) {
      throw amqpError('RESOURCE_LOCKED', `cannot obtain exclusive access to locked queue '${q.name}' in vhost '/'`, { queue: q.name });
    }
  }

  deleteQueue(owner: Connection, name: string, deleteOptions?: DeleteQueueOptions): { messageCount: number } {
    this.checkOpen();
    checkEntityName('queue', name);
    const options = checkOptions('delete options', deleteOptions);
    const ifUnused = checkBoolean('ifUnused', options.ifUnused, false);
    const ifEmpty = checkBoolean('ifEmpty', options.ifEmpty, false);
    const q = this.queues.get(name);
    if (!q) return { messageCount: 0 };
    this.checkExclusiveAccess(q, owner);
    if (ifUnused && q.consumerCount > 0) throw amqpError('PRECONDITION_FAILED', `queue '${name}' in vhost '/' in use`, { queue: name });
    if (ifEmpty && q.readyCount > 0) throw amqpError('PRECONDITION_FAILED', `queue '${name}' in vhost '/' is not empty`, { queue: name });
    return { messageCount: this.removeQueue(q) };
  }

  autoDeleteQueue(queue: Queue): void {
    // Deferred: the last consumer may be cancelled from inside a delivery callback.
    queueMicrotask(() => {
      if (queue.deleted || queue.consumerCount > 0 || this.queues.get(queue.name) !== queue || this.closed) return;
      try {
        this.removeQueue(queue);
      } catch {
        // The deletion could not be written (a full disk): the queue stays, as it is on disk.
      }
    });
  }

  /** Deletes a queue: the definition first (a failed write throws with nothing changed), then the rest. */
  private removeQueue(q: Queue): number {
    if (q.store !== null) this.persist(`delete queue '${q.name}'`, { queue: q.name }, (d) => d.deleteQueue(q.name));
    this.queues.delete(q.name);
    for (const ex of [...this.exchanges.values()]) {
      if (ex.unbindAll(q) > 0 && ex.autoDelete && ex.bindings.length === 0) this.autoDeleteExchange(ex);
    }
    for (const c of [...q.consumers]) {
      c.channel.forgetConsumer(c.tag);
      c.cancelledByServer();
    }
    q.consumers.length = 0;
    const store = q.store;
    q.store = null;
    const n = q.destroy();
    if (store) {
      this.dirtyStores = this.dirtyStores.filter((s) => s !== store);
      store.destroy();
    }
    return n;
  }

  purgeQueue(owner: Connection, name: string): { messageCount: number } {
    this.checkOpen();
    return { messageCount: this.queueFor(owner, name).purge() };
  }

  bindQueue(owner: Connection, queueName: string, exchangeName: string, routingKey: string, args?: FieldTable): void {
    const { queue, exchange, binding, definition } = this.bindingFor(owner, queueName, exchangeName, routingKey, args);
    if (exchange.has(binding)) return;
    if (exchange.durable && queue.store !== null) {
      this.persist(`bind queue '${queue.name}' to exchange '${exchange.name}'`, { queue: queue.name, exchange: exchange.name, routingKey }, (d) => d.bind(definition));
    }
    exchange.bind(binding);
  }

  unbindQueue(owner: Connection, queueName: string, exchangeName: string, routingKey: string, args?: FieldTable): void {
    const { queue, exchange, binding, definition } = this.bindingFor(owner, queueName, exchangeName, routingKey, args);
    if (!exchange.has(binding)) return;
    if (exchange.durable && queue.store !== null) {
      this.persist(`unbind queue '${queue.name}' from exchange '${exchange.name}'`, { queue: queue.name, exchange: exchange.name, routingKey }, (d) => d.unbind(definition));
    }
    exchange.unbind(queue, routingKey, binding.args);
    if (exchange.autoDelete && exchange.bindings.length === 0) this.autoDeleteExchange(exchange);
  }

  /** The binding a bind or unbind call names, checked (NOT_FOUND, ACCESS_REFUSED …), and its durable form. */
  private bindingFor(owner: Connection, queueName: string, exchangeName: string, routingKey: string, args: FieldTable | undefined) {
    this.checkOpen();
    checkShortString('routing key', routingKey);
    if (args !== undefined) checkFieldTable('arguments', args);
    const queue = this.queueFor(owner, queueName);
    if (exchangeName === '') throw amqpError('ACCESS_REFUSED', "operation not permitted on the default exchange", { exchange: '' });
    const exchange = this.checkExchange(exchangeName);
    const hasArgs = args !== undefined && Object.keys(args).length > 0;
    const binding = new Binding(exchange.name, queue, routingKey, hasArgs ? { ...args } : undefined, exchange.type);
    const definition: BindingDefinition = { exchange: exchange.name, queue: queue.name, routingKey, ...(hasArgs ? { args: { ...args } } : {}) };
    return { queue, exchange, binding, definition };
  }

  // ---- publishing ---------------------------------------------------------------------------

  /** Routes and enqueues one message; the channel turns the outcome into confirms and returns. */
  publish(exchangeName: string, routingKey: string, content: Uint8Array, options: PublishOptions | undefined): PublishOutcome {
    if (this.closed) throw Errors.closed('RabbitEngine');
    if (options !== undefined && (options === null || typeof options !== 'object')) checkOptions('publish options', options);
    let ex: Exchange | undefined;
    if (exchangeName !== '') {
      ex = this.exchanges.get(exchangeName);
      if (ex === undefined) {
        checkEntityName('exchange', exchangeName);
        throw AmqpErrors.noExchange(exchangeName);
      }
      if (ex.internal) throw amqpError('ACCESS_REFUSED', `cannot publish to internal exchange '${exchangeName}' in vhost '/'`, { exchange: exchangeName });
    }
    if (typeof routingKey !== 'string' || routingKey.length > 85) checkShortString('routing key', routingKey);
    if (!(content instanceof Uint8Array) || content.byteLength === 0) checkContent(content);
    const props = options === undefined ? NO_PROPERTIES : propertiesFrom(options);
    const body = this.copyContent ? copyOf(content) : Buffer.isBuffer(content) ? content : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    const message = new Stored(exchangeName, routingKey, body, props, props.deliveryMode === 2, ttlFrom(props));
    let queues = ex === undefined ? (this.queues.get(routingKey)?.selfRoute ?? EMPTY_ROUTE) : ex.route(routingKey, props.headers);
    if (options !== undefined && (options.CC !== undefined || options.BCC !== undefined)) {
      const keys = [...(options.CC !== undefined ? routingKeyList('CC', options.CC) : []), ...(options.BCC !== undefined ? routingKeyList('BCC', options.BCC) : [])];
      const all = [...queues];
      for (const k of keys) for (const q of ex === undefined ? (this.queues.get(k)?.selfRoute ?? EMPTY_ROUTE) : ex.route(k, props.headers)) if (!all.includes(q)) all.push(q);
      queues = all;
    }
    if (queues.length === 0 && ex !== undefined && ex.alternateExchange !== undefined) queues = this.routeAlternate(ex, routingKey, props.headers);
    if (queues.length === 0) return PublishOutcome.Unroutable;
    return this.enqueueAll(queues, message);
  }

  private enqueueAll(queues: readonly Queue[], message: StoredMessage): PublishOutcome {
    let now = -1;
    let rejected = false;
    for (let i = 0; i < queues.length; i++) {
      const q = queues[i]!;
      if (now < 0 && (message.ttlMs >= 0 || q.args.messageTtl !== undefined)) now = this.clock();
      if (!q.enqueue(message, now)) rejected = true;
    }
    return rejected ? PublishOutcome.Rejected : PublishOutcome.Routed;
  }

  private routeAlternate(from: Exchange, routingKey: string, headers: FieldTable | undefined): readonly Queue[] {
    const seen = new Set<Exchange>([from]);
    let ex = from;
    while (ex.alternateExchange !== undefined) {
      const next = this.exchanges.get(ex.alternateExchange);
      if (next === undefined || seen.has(next)) return EMPTY_ROUTE;
      seen.add(next);
      const queues = next.route(routingKey, headers);
      if (queues.length > 0) return queues;
      ex = next;
    }
    return EMPTY_ROUTE;
  }

  /**
   * Dead-lettering: a copy with an updated x-death header goes to the queue's dead-letter
   * exchange, with its dead-letter routing key or the message's own. Without a DLX (or when it
   * does not exist) the message is dropped. A copy that would return to a queue it already died
   * in, with no rejection anywhere in its history, is dropped too (RabbitMQ's cycle rule).
   */
  deadLetter(queue: Queue, entry: QueueEntry, reason: DeadLetterReason): void {
    const dlxName = queue.args.deadLetterExchange;
    if (dlxName === undefined || this.closed) return;
    const ex = dlxName === '' ? undefined : this.exchanges.get(dlxName);
    if (dlxName !== '' && ex === undefined) return;
    const old = entry.message;
    const routingKey = queue.args.deadLetterRoutingKey ?? old.routingKey;
    const { properties, deaths } = buildDeathHeaders(old, queue.name, reason, Math.floor(this.clock() / 1000));
    const copy = new StoredMessage(dlxName, routingKey, old.content, properties, old.persistent, -1);
    const routed = ex === undefined ? (this.queues.get(routingKey)?.selfRoute ?? EMPTY_ROUTE) : ex.route(routingKey, properties.headers);
    const anyRejected = deaths.some((d) => d.reason === 'rejected');
    const targets = anyRejected ? routed : routed.filter((q) => !deaths.some((d) => d.queue === q.name));
    if (targets.length > 0) this.enqueueAll(targets, copy);
  }

  // ---- the pump -----------------------------------------------------------------------------

  scheduleDispatch(queue: Queue): void {
    if (queue.dispatchQueued) return;
    queue.dispatchQueued = true;
    this.dispatchList.push(queue);
    if (!this.pumpScheduled) this.schedulePump();
  }

  /** @internal a channel has confirms or returns to send. */
  scheduleConfirms(channel: Channel): void {
    this.confirmList.push(channel);
    if (!this.pumpScheduled) this.schedulePump();
  }

  private storeDirty(store: QueueStore): void {
    this.dirtyStores.push(store);
    if (!this.pumpScheduled) this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    if (this.microRounds < MICROTASK_ROUNDS) {
      if (this.microRounds++ === 0) setImmediate(this.resetRounds);
      queueMicrotask(this.pump);
    } else {
      setImmediate(this.pump);
    }
  }

  private readonly resetRounds = (): void => {
    this.microRounds = 0;
  };

  private readonly pump = (): void => {
    this.pumpScheduled = false;
    if (this.closed) return;
    if (this.dispatchList.length > 0) {
      const list = this.dispatchList;
      this.dispatchList = [];
      for (let i = 0; i < list.length; i++) list[i]!.dispatch();
    }
    const flushed = this.flushStores();
    const failure = this.storeFailure;
    if (failure !== null) this.storeFailure = null;
    if (this.confirmList.length > 0) {
      const channels = this.confirmList;
      this.confirmList = [];
      if (this.durability === 'sync') {
        const batches = channels.map((c) => c.takeConfirmBatch());
        const durable = flushed.map((s) => s.durable());
        // A failed write or sync nacks the round: which publishes reached which store is not tracked.
        this.confirmChain = this.confirmChain
          .then(() => Promise.all(durable))
          .then(
            () => batches.forEach((b) => b(failure ?? undefined)),
            (e: unknown) => batches.forEach((b) => b(failure ?? asStoreError(e))),
          );
      } else if (failure !== null) {
        for (let i = 0; i < channels.length; i++) channels[i]!.takeConfirmBatch()(failure);
      } else {
        for (let i = 0; i < channels.length; i++) channels[i]!.takeConfirmBatch()();
      }
    }
  };

  private flushStores(): QueueStore[] {
    if (this.dirtyStores.length === 0) return [];
    const stores = this.dirtyStores;
    this.dirtyStores = [];
    const appended: QueueStore[] = [];
    for (const s of new Set(stores)) {
      try {
        if (s.flush()) appended.push(s);
      } catch (e) {
        this.storeWriteFailed(s, e);
      }
    }
    return appended;
  }

  /**
   * A store could not append (a full disk, an I/O error): its batch is not persistent, so the
   * messages still waiting in their queues are withdrawn and this round's publishes are nacked
   * with the typed error. Earlier messages are untouched, and the next batch is tried afresh.
   */
  private storeWriteFailed(store: QueueStore, e: unknown): void {
    const error = asStoreError(e);
    if (this.storeFailure === null) this.storeFailure = error;
    const byQueue = new Map<Queue, Set<QueueEntry>>();
    for (const entry of store.takeUnwritten()) {
      let set = byQueue.get(entry.queue);
      if (set === undefined) byQueue.set(entry.queue, (set = new Set()));
      set.add(entry);
    }
    for (const [queue, entries] of byQueue) queue.withdraw(entries);
    if (!this.pumpScheduled) this.schedulePump();
  }

  /** Expires (dead-letters) messages whose TTL has passed, at the head of each queue. */
  sweepExpired(): number {
    this.checkOpen();
    const now = this.clock();
    let n = 0;
    for (const q of this.queues.values()) n += q.expireHead(now);
    return n;
  }

  /** Resolves when every persistent message published so far is written (and durable under 'sync'). */
  async flush(): Promise<void> {
    const stores = this.flushStores();
    const failure = this.storeFailure;
    await Promise.all(stores.map((s) => s.durable()));
    await this.confirmChain;
    if (failure !== null) throw failure;
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /**
   * Closes every connection (unacked deliveries go back to their queues), writes what is pending
   * and closes the stores. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const conn of [...this.connections]) conn.closeNow();
    this.flushStores();
    await this.confirmChain.catch(() => undefined);
    this.shutdown();
  }

  /**
   * Stops as a killed process would: nothing pending is written, unacked deliveries are not
   * returned, stores are closed as they are. What survives is what a crash leaves on disk.
   */
  crash(): void {
    if (this.closed) return;
    for (const conn of [...this.connections]) conn.abandon();
    this.dirtyStores = [];
    this.shutdown();
  }

  private shutdown(): void {
    this.closed = true;
    if (this.dirKey !== null) OPEN_DIRS.delete(this.dirKey);
    for (const q of this.queues.values()) q.stopTimers();
    this.dispatchList = [];
    this.confirmList = [];
    this.storage?.close();
    this.storage = null;
  }

  // ---- recovery -----------------------------------------------------------------------------

  private recover(): void {
    const storage = this.storage!;
    const defs = storage.definitions.load();
    for (const e of defs.exchanges) {
      this.exchanges.set(e.name, new Exchange(e.name, e.type, true, e.autoDelete, e.internal, e.alternateExchange, e.args));
    }
    for (const d of defs.queues) {
      const args = parseQueueArguments(d.name, d.args);
      const queue = new Queue(d.name, true, null, d.autoDelete, d.args, args, this, null);
      queue.store = storage.openQueue(d.name, (s) => this.storeDirty(s), (f) => this.recoveredEntry(queue, f), false);
      for (const entry of queue.store.recover()) queue.restore(entry);
      this.queues.set(d.name, queue);
    }
    for (const b of defs.bindings) {
      const ex = this.exchanges.get(b.exchange);
      const q = this.queues.get(b.queue);
      if (ex && q) ex.bind(new Binding(ex.name, q, b.routingKey, b.args, ex.type));
    }
  }

  private recoveredEntry(queue: Queue, f: RecoveredEntryFields): QueueEntry {
    const message = new StoredMessage(f.exchange, f.routingKey, f.content, f.properties, true, ttlOf(f.properties));
    const entry = new QueueEntry(queue, message, f.order, f.expiresAt);
    entry.deliveryCount = f.deliveryCount;
    entry.redelivered = f.delivered || f.deliveryCount > 0;
    entry.storeSeq = f.storeSeq;
    return entry;
  }
}

