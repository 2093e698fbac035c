/**
 * Property test: every public method of the engine, its connections, channels, confirm channels
 * and the remote (worker-thread) client, called with hostile arguments, either returns or fails
 * with a typed MqlabError (AMQP reply text + details.replyCode, or an ERR_ code); afterwards the
 * engine still routes and delivers, and messages stored before the storm are all still there.
 */
import t from 'tap';
import fc from 'fast-check';
import { MqlabError } from '../../core/errors';
import { RabbitEngine } from '../../core/rabbitmq';
import { remotePair } from './helpers';

const RUNS = Number(process.env.MQLAB_RABBIT_FUZZ_RUNS ?? 300);
const SAFE = 'kept-safe-queue-7';

function detached(): Uint8Array {
  const b = new Uint8Array(16);
  structuredClone(b.buffer, { transfer: [b.buffer] });
  return b;
}

const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(NaN, Infinity, -1, -0, 0.5, 2 ** 31, 2 ** 53 + 2, 2 ** 64, Number.MAX_VALUE, 65536, 65535, 1, 0),
  fc.constantFrom<unknown>(undefined, null, true, false, 10n, Symbol('s'), () => 1, [], {}, new Date(0), /re/, new Map(), 'x'.repeat(300), '\0', 'a\u0001b', ''),
  fc.constantFrom<unknown>({ toString: 5 }, { valueOf: null, toString: null }, Object.create(null), { fields: { deliveryTag: 'x' } }, { fields: null }),
  fc.constant(null).map(() => detached()),
  fc.constantFrom<unknown>(Buffer.from('m'), new Uint16Array(3), new ArrayBuffer(4), new DataView(new ArrayBuffer(2))),
  // Near-valid values, so calls get past their first check.
  fc.constantFrom<unknown>('q', 'x', 'amq.topic', 'topic', 'fanout', 'headers', '#', 'a.*', { persistent: true }, { mandatory: 1 }, { expiration: -5 }, { expiration: 10n },
    { priority: 1e9 }, { headers: { a: Symbol.iterator } }, { headers: { b: 10n, c: detached() } }, { arguments: { 'x-message-ttl': 10n ** 30n } }, { arguments: { 'x-max-length': { toString: 1 } } },
    { deliveryLimit: -1 }, { messageTtl: NaN }, { durable: 'yes' }, { noAck: 1 }, { consumerTag: 5 }, { ifUnused: 'x' }, { fields: { deliveryTag: 999 } }, { CC: [5] }, { BCC: {} }),
  fc.anything({ maxDepth: 2 }),
);

type Fn = (...a: unknown[]) => unknown;

/** Runs one call; resolves with 'ok', or the failure when it was not a typed error. */
async function attempt(fn: () => unknown): Promise<string | null> {
  try {
    const r = fn();
    if (r instanceof Promise) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([r, new Promise((res) => (timer = setTimeout(res, 200)))]);
      clearTimeout(timer);
    }
    return null;
  } catch (e) {
    if (!(e instanceof MqlabError)) return `${e instanceof Error ? e.constructor.name : typeof e}: ${e instanceof Error ? e.message : ''}`;
    if (!e.code.startsWith('ERR_') && typeof e.details?.replyCode !== 'number') return `${e.code} without details.replyCode`;
    return null;
  }
}

async function stormAndCheck(t: { ok: (v: unknown) => unknown }, targets: Record<string, [object, string[]]>, afterEach?: () => Promise<unknown>): Promise<string[]> {
  const untyped: string[] = [];
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...Object.keys(targets)), fc.nat(40), fc.array(hostile, { maxLength: 4 }), async (which, k, args) => {
      const [obj, methods] = targets[which]!;
      const m = methods[k % methods.length]!;
      const failure = await attempt(() => (obj as Record<string, Fn>)[m]!.apply(obj, args));
      if (failure) untyped.push(`${which}.${m}: ${failure}`);
      if (afterEach) {
        const late = await attempt(afterEach);
        if (late) untyped.push(`${which}.${m} (reported later): ${late}`);
      }
    }),
    { numRuns: RUNS, seed: 20261125 },
  );
  t.ok(RUNS > 0);
  return untyped;
}

const CHANNEL_METHODS = ['assertExchange', 'checkExchange', 'deleteExchange', 'assertQueue', 'checkQueue', 'deleteQueue', 'purgeQueue', 'bindQueue', 'unbindQueue',
  'publish', 'sendToQueue', 'get', 'prefetch', 'ack', 'nack', 'reject', 'nackAll', 'recover', 'consume', 'cancel'];

t.test('local engine, connection, channel and confirm channel: hostile arguments get typed errors', async (t) => {
  const engine = RabbitEngine.open(null);
  t.teardown(() => engine.close());
  const conn = await engine.connect();
  const ch = await conn.createChannel();
  const cc = await conn.createConfirmChannel();
  await ch.assertQueue(SAFE);
  for (let i = 0; i < 20; i++) ch.sendToQueue(SAFE, Buffer.from(`m${i}`), { persistent: true });
  await ch.assertQueue('q');
  await ch.assertExchange('x', 'topic');
  const untyped = await stormAndCheck(t, {
    engine: [engine, ['openConnection', 'declareExchange', 'checkExchange', 'deleteExchange', 'purgeQueue', 'sweepExpired']],
    connection: [conn, ['createChannel', 'createConfirmChannel']],
    channel: [ch, CHANNEL_METHODS],
    confirm: [cc, [...CHANNEL_METHODS, 'waitForConfirms']],
  });
  t.same(untyped.slice(0, 20), [], 'every failure is a typed MqlabError with its reply code');
  t.notOk(ch.closed || cc.closed || engine.isClosed, 'channels and engine still open');

  // The engine still works, and nothing stored before the storm was lost.
  const fresh = await conn.createConfirmChannel();
  await fresh.assertQueue('after-storm', { durable: false });
  const got: string[] = [];
  await fresh.consume('after-storm', (m) => got.push(m!.content.toString()), { noAck: true });
  fresh.sendToQueue('after-storm', Buffer.from('alive'));
  await fresh.waitForConfirms();
  await new Promise((r) => setImmediate(r));
  t.same(got, ['alive'], 'delivery still works');
  const safe: string[] = [];
  for (let m = await fresh.get(SAFE, { noAck: true }); m; m = await fresh.get(SAFE, { noAck: true })) safe.push(m.content.toString());
  t.same(safe, Array.from({ length: 20 }, (_, i) => `m${i}`), 'messages queued before the storm are all there, in order');
});

t.test('remote client over a MessagePort: hostile arguments get typed errors, batches of good publishes survive', async (t) => {
  const { engine, remote } = remotePair(t);
  const conn = await remote.connect();
  const ch = await conn.createChannel();
  const cc = await conn.createConfirmChannel();
  await ch.assertQueue(SAFE);
  await ch.assertQueue('q');
  await ch.assertExchange('x', 'topic');
  let good = 0;
  const untyped = await stormAndCheck(
    t,
    {
      channel: [ch, [...CHANNEL_METHODS, 'publishPacked', 'consumePacked']],
      confirm: [cc, [...CHANNEL_METHODS, 'waitForConfirms']],
    },
    // A good publish joins the same batch as whatever the hostile call buffered; it must arrive.
    async () => {
      ch.sendToQueue(SAFE, Buffer.from(`g${good++}`));
      await ch.sync();
    },
  );
  t.same(untyped.slice(0, 20), [], 'every failure is a typed MqlabError with its reply code');
  const local = await engine.createChannel();
  const safe: string[] = [];
  for (let m = await local.get(SAFE, { noAck: true }); m; m = await local.get(SAFE, { noAck: true })) safe.push(m.content.toString());
  t.same(safe, Array.from({ length: good }, (_, i) => `g${i}`), 'every good publish interleaved with the hostile calls arrived, in order');
});
