/**
 * Property fuzzing of every public entry point with hostile arguments, run in its own process so
 * a crash (segfault, abort) shows as the process's exit: the native binding functions directly
 * (openLog and its handle, openIndexFile and its handle, crc32c, benchFrameCopy, init), the
 * CommitLog/IndexFile wrappers, and the three engines. Every call must return or throw an
 * MqlabError; anything else thrown is recorded. Closing while durability waits are pending and
 * closing a log a worker thread is appending to are exercised too.
 * Usage: api-fuzz-child.ts RUNS SEED   (prints one JSON summary line)
 */
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { MqlabError } from '../../core/errors';
import { CommitLog, IndexFile } from '../../core/log';
import { nativeAddon } from '../../core/log/native';
import { KafkaEngine } from '../../core/kafka';
import { RabbitEngine } from '../../core/rabbitmq';
import { Broker } from '../../core/rocketmq';
import { hostileArgs, hostileNumber, hostileValue } from './hostile';

const runs = Number(process.argv[2] ?? 200);
const seed = Number(process.argv[3] ?? Date.now() % 1e9);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-api-fuzz-'));

const summary = { seed, runs, calls: 0, returned: 0, typedErrors: 0, codes: {} as Record<string, number>, untyped: [] as string[], untypedCount: 0, pendingAfterTimeout: 0, sections: [] as string[] };

function describe(args: unknown[]): string {
  return args.map((a) => {
    if (a instanceof Uint8Array || ArrayBuffer.isView(a)) return `${a.constructor.name}(${(a as Uint8Array).length})`;
    if (typeof a === 'string') return JSON.stringify(a.length > 30 ? `${a.slice(0, 30)}…(${a.length})` : a);
    if (typeof a === 'bigint' || typeof a === 'symbol' || typeof a === 'function') return typeof a;
    try {
      return JSON.stringify(a)?.slice(0, 40) ?? String(a);
    } catch {
      return Object.prototype.toString.call(a);
    }
  }).join(', ');
}

function record(what: string, args: unknown[], e: unknown): void {
  if (e instanceof MqlabError) {
    summary.typedErrors++;
    summary.codes[e.code] = (summary.codes[e.code] ?? 0) + 1;
  } else {
    summary.untypedCount++;
    if (summary.untyped.length < 40) summary.untyped.push(`${what}(${describe(args)}) threw ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`.slice(0, 400));
  }
}

function call(what: string, fn: (...a: unknown[]) => unknown, args: unknown[]): unknown {
  summary.calls++;
  try {
    const r = fn(...args);
    summary.returned++;
    return r;
  } catch (e) {
    record(what, args, e);
    return undefined;
  }
}

/** Awaits a promise-returning call, giving up (not failing) after `ms`: hostile timeouts may legitimately wait. */
async function callAsync(what: string, fn: (...a: unknown[]) => unknown, args: unknown[], ms = 100): Promise<unknown> {
  summary.calls++;
  try {
    const r = fn(...args);
    if (!(r instanceof Promise)) {
      summary.returned++;
      return r;
    }
    let timer: NodeJS.Timeout | undefined;
    const out = await Promise.race([r.then((v) => ({ v })), new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), ms)))]);
    clearTimeout(timer);
    if (out === 'timeout') {
      summary.pendingAfterTimeout++;
      r.catch((e: unknown) => record(`${what} (late)`, args, e));
      return undefined;
    }
    summary.returned++;
    return out.v;
  } catch (e) {
    record(what, args, e);
    return undefined;
  }
}

let dirCount = 0;
const freshDir = () => path.join(root, `d${dirCount++}`);

// ─── native binding, directly ──────────────────────────────────────────────────────────────

const addon = nativeAddon();
type Fn = (...a: unknown[]) => unknown;

function nativeLogProperty(): void {
  const logMethods = ['append', 'appendBatch', 'read', 'readBatch', 'requestDurable', 'idle', 'flushSync', 'applyRetention', 'startPosition', 'segmentCount', 'close'];
  // Arguments near the valid ones, so calls get past the first check.
  const near = fc.oneof(hostileValue, fc.constantFrom<unknown>(0, 8, 24, 64, 4096, 1 << 20, Buffer.from('abc'), [Buffer.from('a'), Buffer.from('bc')], undefined));
  const cmd = fc.record({ m: fc.constantFrom(...logMethods), args: fc.array(near, { maxLength: 4 }) });
  fc.assert(fc.property(
    fc.tuple(hostileNumber, hostileNumber, fc.constantFrom<unknown>(0, 1, 2, 3, -1, NaN, '2'), hostileNumber, hostileNumber),
    fc.array(cmd, { maxLength: 40 }),
    ([seg, maxRec, flush, interval, flushBytes], cmds) => {
      const dir = freshDir();
      fs.mkdirSync(dir);
      // Mostly sane options so the handle opens; the option values themselves are fuzzed in the next property.
      const sane = Math.random() < 0.7;
      const args: unknown[] = sane ? [dir, 65536, 1024, [0, 1, 2][dirCount % 3], 5, 4096, new Float64Array(3), () => undefined]
        : [dir, seg, maxRec, flush, interval, flushBytes, new Float64Array(3), () => undefined];
      const h = call('openLog', addon.openLog as Fn, args) as Record<string, Fn> | undefined;
      if (!h) return;
      for (const c of cmds) call(`log.${c.m}`, h[c.m]!, c.args);
      call('log.close', h.close!, []);
      for (const m of logMethods) call(`closed log.${m}`, h[m]!, [0, 0, 0]);
      fs.rmSync(dir, { recursive: true, force: true });
    }), { numRuns: runs, seed });
  fc.assert(fc.property(hostileArgs, (args) => {
    const h = call('openLog(hostile)', addon.openLog as Fn, args) as Record<string, Fn> | undefined;
    if (h) call('log.close', h.close!, []);
  }), { numRuns: runs, seed });
}

function nativeIndexProperty(): void {
  const methods = ['count', 'append', 'appendMany', 'read', 'readRange', 'write', 'truncate', 'flushSync', 'close'];
  const near = fc.oneof(hostileValue, fc.constantFrom<unknown>(0, 1, 2, 5, 100, Buffer.alloc(20, 7), Buffer.alloc(40, 1), Buffer.alloc(19)));
  fc.assert(fc.property(fc.array(fc.record({ m: fc.constantFrom(...methods), args: fc.array(near, { maxLength: 3 }) }), { maxLength: 40 }), hostileArgs, (cmds, openArgs) => {
    const file = path.join(root, `i${dirCount++}.idx`);
    const h = call('openIndexFile', addon.openIndexFile as Fn, [file, 20, 4096]) as Record<string, Fn> | undefined;
    if (h) {
      for (const c of cmds) call(`index.${c.m}`, h[c.m]!, c.args);
      call('index.close', h.close!, []);
      for (const m of methods) call(`closed index.${m}`, h[m]!, [0, Buffer.alloc(20)]);
    }
    const g = call('openIndexFile(hostile)', addon.openIndexFile as Fn, openArgs.map((a, i) => (i === 0 && typeof a === 'string' && a.startsWith('/') ? path.join(root, 'h', a) : a))) as Record<string, Fn> | undefined;
    if (g) call('index.close', g.close!, []);
    fs.rmSync(file, { force: true });
  }), { numRuns: runs, seed });
}

function nativeMiscProperty(): void {
  fc.assert(fc.property(hostileArgs, hostileNumber, (args, n) => {
    call('crc32c', addon.crc32c as Fn, args);
    // benchFrameCopy with a bounded count: it really copies `count` frames.
    call('benchFrameCopy', addon.benchFrameCopy as Fn, [args[0] === undefined ? root : args[0], n, typeof n === 'number' && n > 1000 ? 1 : n]);
  }), { numRuns: runs, seed });
  // init with junk must be refused with a typed error, then the real class is put back.
  for (const junk of [undefined, null, 1, 'x', {}, Symbol('s')]) call('init', addon.init as Fn, [junk]);
  addon.init(MqlabError);
}

// ─── TypeScript wrappers ───────────────────────────────────────────────────────────────────

function wrapperProperty(): void {
  const opts = fc.oneof(hostileValue, fc.record({
    segmentBytes: fc.option(hostileNumber, { nil: undefined }), maxRecordBytes: fc.option(hostileNumber, { nil: undefined }),
    flush: fc.option(fc.constantFrom<unknown>('none', 'async', 'sync', 'bogus', 1), { nil: undefined }),
    flushIntervalMs: fc.option(hostileNumber, { nil: undefined }), flushBytes: fc.option(hostileNumber, { nil: undefined }),
    retention: fc.option(fc.oneof(hostileValue, fc.record({ maxAgeMs: hostileNumber, maxBytes: hostileNumber })), { nil: undefined }),
    clock: fc.option(fc.constantFrom<unknown>(() => 5, () => NaN, () => -1, 'x'), { nil: undefined }),
  }, { requiredKeys: [] }));
  const methods = ['append', 'appendBatch', 'read', 'readBatch', 'records', 'applyRetention', 'flushSync', 'segmentCount', 'close'];
  fc.assert(fc.property(opts, fc.array(fc.record({ m: fc.constantFrom(...methods), args: fc.array(hostileValue, { maxLength: 3 }) }), { maxLength: 30 }), (o, cmds) => {
    const log = call('CommitLog.open', CommitLog.open as Fn, [freshDir(), o]) as CommitLog | undefined;
    if (!log) return;
    for (const c of cmds) {
      call(`CommitLog.${c.m}`, (...a: unknown[]) => {
        const r = (log as unknown as Record<string, Fn>)[c.m]!.apply(log, a);
        if (c.m === 'records') return [...(r as Iterable<unknown>)].length;
        return r;
      }, c.args);
    }
    log.close();
  }), { numRuns: Math.ceil(runs / 2), seed });
  fc.assert(fc.property(hostileValue, hostileValue, (file, o) => {
    const f = call('IndexFile.open', IndexFile.open as Fn, [typeof file === 'string' ? path.join(root, 'w', file) : file, o]) as IndexFile | undefined;
    f?.close();
  }), { numRuns: runs, seed });
}

/** Pending durability waits, then close: each wait settles (durable or ERR_CLOSED), none hangs, nothing crashes. */
async function closeWhileWaiting(): Promise<void> {
  for (let round = 0; round < Math.max(5, runs / 20); round++) {
    const log = CommitLog.open(freshDir(), { flush: round % 2 ? 'sync' : 'async', segmentBytes: 65536, flushIntervalMs: 1 });
    const waits: Array<Promise<unknown>> = [];
    for (let i = 0; i < 50; i++) {
      waits.push(log.write(Buffer.alloc(i * 10, i)));
      if (i % 7 === 0) waits.push(log.durable());
    }
    if (round % 3 === 0) await new Promise((r) => setImmediate(r));
    log.close();
    waits.push(log.durable());
    const settled = await Promise.race([Promise.allSettled(waits), new Promise<'hang'>((r) => setTimeout(() => r('hang'), 5000))]);
    if (settled === 'hang') {
      summary.untypedCount++;
      summary.untyped.push(`close with pending durability waits: a wait never settled (round ${round})`);
    } else {
      for (const s of settled) {
        summary.calls++;
        if (s.status === 'rejected') record('write/durable after close', [], s.reason);
        else summary.returned++;
      }
    }
  }
}

/** A worker thread appends to a log while this thread opens and closes the same directory. */
async function closeWhileWorkerAppends(): Promise<void> {
  const dir = freshDir();
  fs.mkdirSync(dir);
  // The addon file the core loaded (found by walking up, as core/log/native.ts does; works when bundled too).
  let addonPath = '';
  for (let d = __dirname, i = 0; i < 5 && !addonPath; i++, d = path.dirname(d)) {
    const f = path.join(d, 'build', 'Release', 'mqlab_native.node');
    if (fs.existsSync(f)) addonPath = f;
  }
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const addon = require(workerData.addonPath);
    class E extends Error { constructor(code, message) { super(message); this.code = code; } }
    addon.init(E);
    let appended = 0, typed = 0, untyped = 0;
    const deadline = Date.now() + workerData.ms;
    while (Date.now() < deadline) {
      let h;
      try { h = addon.openLog(workerData.dir, 65536, 1024, 1, 5, 4096, new Float64Array(3), () => {}); } catch (e) { e instanceof E ? typed++ : untyped++; continue; }
      for (let i = 0; i < 200; i++) { try { h.append(Buffer.alloc(i % 50, 1)); appended++; } catch (e) { e instanceof E ? typed++ : untyped++; } }
      try { h.read(0); h.readBatch(0, 4096, 100); } catch (e) { e instanceof E ? typed++ : untyped++; }
      h.close();
    }
    parentPort.postMessage({ appended, typed, untyped });`;
  const ms = 300 + runs;
  const w = new Worker(code, { eval: true, workerData: { dir, addonPath, ms } });
  const done = new Promise<{ appended: number; typed: number; untyped: number }>((res, rej) => {
    w.once('message', res);
    w.once('error', rej);
  });
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const log = call('CommitLog.open (shared with a worker)', CommitLog.open as Fn, [dir, { flush: 'async', segmentBytes: 65536, maxRecordBytes: 1024, flushIntervalMs: 5, flushBytes: 4096 }]) as CommitLog | undefined;
    if (log) {
      call('append (shared)', (b) => log.append(b as Buffer), [Buffer.alloc(10)]);
      call('scan (shared)', () => [...log.records()].length, []);
      log.close();
    }
    await new Promise((r) => setImmediate(r));
  }
  const r = await done;
  summary.calls += r.appended + r.typed + r.untyped;
  summary.typedErrors += r.typed;
  summary.untypedCount += r.untyped;
  if (r.untyped > 0) summary.untyped.push(`worker: ${r.untyped} untyped errors while appending to a log the main thread opened and closed`);
  await w.terminate();
}

// ─── engines ───────────────────────────────────────────────────────────────────────────────

async function kafkaProperty(): Promise<void> {
  const engine = KafkaEngine.open(freshDir(), { retentionCheckIntervalMs: 0, autoCreateTopics: false });
  engine.createTopic('t', { numPartitions: 2, segmentBytes: 65536 });
  const producer = engine.producer();
  const consumer = engine.consumer({ groupId: 'g', autoCommit: false });
  const target: Record<string, [object, string[]]> = {
    engine: [engine, ['createTopic', 'deleteTopic', 'describeTopic', 'hasTopic', 'producer', 'consumer', 'applyRetention', 'committedOffsets']],
    producer: [producer, ['send', 'sendInternal']],
    consumer: [consumer, ['subscribe', 'assign', 'poll', 'commit', 'committed', 'position', 'seek', 'seekToBeginning', 'seekToEnd', 'offsetsForTimes', 'partitionsFor', 'beginningOffsets', 'endOffsets', 'pause', 'resume']],
  };
  const near = fc.oneof(hostileValue, fc.constantFrom<unknown>('t', 'g', { topic: 't', partition: 0 }, [{ topic: 't', partition: 1 }], { topic: 't', partition: 0, offset: 1 },
    { topic: 't', messages: [{ value: 'v' }] }, { topic: 't', messages: [{ value: Buffer.alloc(5), partition: 7 }] }, { topic: 't', messages: [{ value: 'x', headers: { h: 5 } }], acks: 3 },
    { topic: 't', messages: [{ value: new Uint8Array(2 * 1024 * 1024) }] }, ['t'], { numPartitions: -1 }, { numPartitions: 1e9 }));
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(target)), fc.nat(20), fc.array(near, { maxLength: 3 }), async (which, k, args) => {
    const [obj, methods] = target[which]!;
    const m = methods[k % methods.length]!;
    await callAsync(`kafka ${which}.${m}`, (...a) => (obj as Record<string, Fn>)[m]!.apply(obj, a), m === 'poll' ? [0, ...args.slice(1)] : args);
  }), { numRuns: runs * 2, seed });
  await callAsync('kafka consumer.close', () => consumer.close(), []);
  engine.close();
  await callAsync('kafka after close', () => producer.send({ topic: 't', messages: [{ value: 'x' }] }), []);
}

async function rabbitProperty(): Promise<void> {
  const engine = RabbitEngine.open(freshDir(), { durability: 'async' });
  const ch = await engine.createConfirmChannel();
  await ch.assertQueue('q');
  await ch.assertExchange('x', 'topic');
  const methods = ['assertExchange', 'checkExchange', 'deleteExchange', 'assertQueue', 'checkQueue', 'deleteQueue', 'purgeQueue', 'bindQueue', 'unbindQueue', 'publish', 'sendToQueue', 'get', 'prefetch', 'ack', 'nack', 'reject', 'recover', 'consume', 'cancel'];
  const near = fc.oneof(hostileValue, fc.constantFrom<unknown>('q', 'x', '', 'amq.topic', 'topic', 'direct', 'headers', 'fanout', '#', 'a.*', Buffer.from('m'), { persistent: true },
    { expiration: -5 }, { expiration: 'x' }, { priority: 1e9 }, { headers: { a: Symbol.iterator } }, { deliveryLimit: -1 }, { messageTtl: NaN }, { maxLength: -1 },
    { fields: { deliveryTag: 999 } }, () => undefined));
  await fc.assert(fc.asyncProperty(fc.constantFrom(...methods), fc.array(near, { maxLength: 4 }), async (m, args) => {
    if (ch.closed) return;
    await callAsync(`rabbit channel.${m}`, (...a) => (ch as unknown as Record<string, Fn>)[m]!.apply(ch, a), args);
  }), { numRuns: runs * 2, seed });
  await engine.close();
}

async function rocketProperty(): Promise<void> {
  const broker = new Broker({ dataDir: freshDir(), segmentBytes: 1024 * 1024, maxMessageSize: 65536, persistIntervalMs: 0, scheduleIntervalMs: 0 } as never).start();
  broker.createTopic('T', 2);
  const methods = ['createTopic', 'getTopicConfig', 'sendMessage', 'pullMessage', 'getMaxOffset', 'getMinOffset', 'searchOffset', 'viewMessage', 'queryMessage',
    'heartbeat', 'unregisterClient', 'getConsumerIdList', 'queryConsumerOffset', 'updateConsumerOffset', 'consumerOffsets', 'consumerSendMessageBack', 'lockBatchMQ', 'unlockBatchMQ'];
  const near = fc.oneof(hostileValue, fc.constantFrom<unknown>('T', 'G', 0, 1, 5, -1, { topic: 'T', queueId: 0, messages: [{ topic: 'T', body: 'b' }] },
    { topic: 'T', queueId: 9, messages: [{ topic: 'T', body: 'b' }] }, { topic: 'T', queueId: 0, messages: [{ topic: 'T', body: '', delayTimeLevel: 99 }] },
    { topic: 'T', queueId: 0, messages: [{ topic: 'T', body: new Uint8Array(70000) }] }, { group: 'G', topic: 'T', queueId: 0, queueOffset: 0, maxMsgNums: 1e9 },
    { group: 'G', topic: 'T', queueId: 0, queueOffset: -5, maxMsgNums: 3, subExpression: 'a ||| b' }, { clientId: 'c', group: 'G', subscriptions: 5 }));
  await fc.assert(fc.asyncProperty(fc.constantFrom(...methods), fc.array(near, { maxLength: 5 }), async (m, args) => {
    await callAsync(`rocket broker.${m}`, (...a) => (broker as unknown as Record<string, Fn>)[m]!.apply(broker, a), args);
  }), { numRuns: runs * 2, seed });
  broker.shutdown();
  await callAsync('rocket after shutdown', (...a) => broker.sendMessage(a[0] as never), [{ topic: 'T', queueId: 0, messages: [{ topic: 'T', body: 'b' }] }]);
}

async function main(): Promise<void> {
  const sections: Array<[string, () => void | Promise<void>]> = [
    ['native log', nativeLogProperty], ['native index file', nativeIndexProperty], ['native misc', nativeMiscProperty],
    ['wrappers', wrapperProperty], ['close while waiting', closeWhileWaiting], ['close while a worker appends', closeWhileWorkerAppends],
    ['kafka', kafkaProperty], ['rabbitmq', rabbitProperty], ['rocketmq', rocketProperty],
  ];
  const only = process.env.MQLAB_FUZZ_ONLY;
  for (const [name, fn] of sections) {
    if (only && !only.split(',').includes(name)) continue;
    await fn();
    summary.sections.push(name);
  }
  fs.rmSync(root, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stdout.write(`${JSON.stringify({ ...summary, fatal: (e as Error)?.stack ?? String(e) })}\n`);
  process.exit(4);
});
