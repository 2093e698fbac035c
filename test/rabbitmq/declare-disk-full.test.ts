/**
 * Declarations when the durable definitions cannot be written (a full disk): a typed error
 * (ERR_NO_SPACE, saying what did not happen), nothing half-made in memory or on disk, the engine
 * usable, and everything declared before intact after a restart.
 */
import t from 'tap';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { isMqlabError, MqlabError } from '../../core/errors';
import { RabbitEngine } from '../../core/rabbitmq';
import type { Channel } from '../../core/rabbitmq/channel';
import { mountTmpfs } from '../../scripts/reliability/disk-full';
import { fillDisk } from './disk-fill';
import { must, settle, storageUnavailable, tempDir } from './helpers';

const skip = storageUnavailable();

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => null, (e: unknown) => e);
}

const DEFINITION_WRITES = ['putExchange', 'deleteExchange', 'putQueue', 'deleteQueue', 'bind', 'unbind'];

/** These definitions writes of `engine` fail with ERR_NO_SPACE until the returned function is called. */
function failDefinitionWrites(engine: RabbitEngine, methods = DEFINITION_WRITES): () => void {
  const defs = (engine as unknown as { storage: { definitions: Record<string, unknown> } }).storage.definitions;
  for (const m of methods) {
    defs[m] = () => {
      throw new MqlabError('ERR_NO_SPACE', 'append failed: no space left on device', { errno: 28 });
    };
  }
  return () => {
    for (const m of methods) delete defs[m];
  };
}

/** Bodies of the messages a mandatory publish to `exchange`/`key` delivers, or 'returned'. */
async function routeOf(ch: Channel, exchange: string, key: string): Promise<string> {
  let returned = false;
  const onReturn = () => (returned = true);
  ch.on('return', onReturn);
  ch.publish(exchange, key, Buffer.from('probe'), { mandatory: true });
  await settle();
  await settle();
  ch.off('return', onReturn);
  return returned ? 'returned' : 'routed';
}

const tmpfs = skip || mountTmpfs(8 * 1024 * 1024);
t.test('on a full disk: a durable declaration fails with ERR_NO_SPACE, leaves nothing behind, and the engine carries on', { skip: typeof tmpfs === 'string' ? tmpfs : false }, async (t) => {
  if (typeof tmpfs === 'string') return;
  t.teardown(() => tmpfs.unmount());
  const dataDir = join(tmpfs.dir, 'rabbit');
  const options = { durability: 'sync', segmentBytes: 256 * 1024 } as const;
  let engine = RabbitEngine.open(dataDir, options);
  let ch = await engine.createConfirmChannel();
  await ch.assertExchange('ex', 'direct');
  await ch.assertQueue('q');
  await ch.bindQueue('q', 'ex', 'k');
  for (let i = 0; i < 3; i++) ch.publish('ex', 'k', Buffer.from(`m${i}`), { persistent: true });
  await ch.waitForConfirms();
  const filler = join(tmpfs.dir, 'filler');
  fillDisk(filler);
  const queueDirs = fs.readdirSync(join(dataDir, 'queues'));

  // A durable queue needs files of its own: they cannot be created.
  const q2 = await errorOf(ch.assertQueue('q2'));
  t.ok(isMqlabError(q2, 'ERR_NO_SPACE'), 'assertQueue: ERR_NO_SPACE');
  t.match((q2 as Error).message, /^cannot declare queue 'q2': no space left on the device \(/, 'the message says what did not happen and why');
  t.match((q2 as MqlabError).details, { operation: "declare queue 'q2'", queue: 'q2' });
  t.ok(isMqlabError(await errorOf(ch.checkQueue('q2')), 'NOT_FOUND'), 'the queue was not declared');
  t.same(fs.readdirSync(join(dataDir, 'queues')), queueDirs, 'and left no files behind');
  t.ok(isMqlabError(await errorOf(ch.assertQueue('q2')), 'ERR_NO_SPACE'), 'a retry fails the same way');

  // Exchanges go to the definitions log only: declare until its segment must roll and cannot.
  let failed: unknown = null;
  let declared = 0;
  while (failed === null && declared < 60) {
    failed = await errorOf(ch.assertExchange(`big${declared}`, 'fanout', { arguments: { pad: 'x'.repeat(100_000) } }));
    if (failed === null) declared++;
  }
  t.ok(isMqlabError(failed, 'ERR_NO_SPACE'), `assertExchange: ERR_NO_SPACE once the definitions log is full (after ${declared})`);
  t.match((failed as Error).message, new RegExp(`^cannot declare exchange 'big${declared}': no space left on the device`));
  t.ok(isMqlabError(await errorOf(ch.checkExchange(`big${declared}`)), 'NOT_FOUND'), 'the exchange was not declared');

  // Fill what is left of the segment with ever smaller declarations, then a binding cannot fit.
  let filled = 0;
  for (let pad = 50_000; pad >= 64; pad = Math.floor(pad / 2)) {
    while ((await errorOf(ch.assertExchange(`fill${filled}`, 'fanout', { arguments: { pad: 'y'.repeat(pad) } }))) === null) filled++;
  }
  const longKey = 'k'.repeat(255);
  const bind = await errorOf(ch.bindQueue('q', 'ex', longKey));
  t.ok(isMqlabError(bind, 'ERR_NO_SPACE'), 'bindQueue: ERR_NO_SPACE');
  t.match((bind as Error).message, /^cannot bind queue 'q' to exchange 'ex': no space left on the device/);
  t.equal(await routeOf(ch, 'ex', longKey), 'returned', 'the binding is not in effect');

  // The engine carries on: the old binding routes, old messages are there, a persistent publish
  // into the queue's preallocated segment is confirmed.
  ch.publish('ex', 'k', Buffer.from('m3'), { persistent: true });
  await ch.waitForConfirms();
  const got: string[] = [];
  for (let g = await ch.get('q', { noAck: true }); g; g = await ch.get('q', { noAck: true })) got.push(g.content.toString());
  t.same(got, ['m0', 'm1', 'm2', 'm3'], 'every message, in order');
  for (let i = 0; i < 3; i++) ch.publish('ex', 'k', Buffer.from(`n${i}`), { persistent: true });
  await ch.waitForConfirms();

  // Space comes back: the same declarations now succeed.
  fs.rmSync(filler);
  await ch.assertQueue('q2');
  await ch.bindQueue('q', 'ex', longKey);
  await ch.assertExchange(`big${declared}`, 'fanout', { arguments: { pad: 'x'.repeat(100_000) } });
  await engine.close();

  engine = RabbitEngine.open(dataDir, options);
  t.teardown(() => engine.close());
  ch = await engine.createConfirmChannel();
  t.equal((await ch.checkQueue('q2')).messageCount, 0, 'restart: the queue declared once space was back');
  for (let i = 0; i <= declared; i++) await ch.checkExchange(`big${i}`);
  for (let i = 0; i < filled; i++) await ch.checkExchange(`fill${i}`);
  t.equal(await routeOf(ch, 'ex', longKey), 'routed', 'restart: the binding made once space was back');
  const after: string[] = [];
  for (let g = await ch.get('q', { noAck: true }); g; g = await ch.get('q', { noAck: true })) after.push(g.content.toString());
  t.same(after, ['n0', 'n1', 'n2', 'probe'], 'restart: the persistent messages (then the probe just routed)');
});

t.test('when definition writes fail, every kind of change fails typed with nothing changed, and a restart agrees', { skip }, async (t) => {
  const dir = tempDir(t, 'mqlab-rabbit-declare-');
  let engine = RabbitEngine.open(dir);
  let ch = await engine.createChannel();
  await ch.assertExchange('ex', 'direct');
  await ch.assertExchange('auto', 'fanout', { autoDelete: true });
  await ch.assertQueue('q');
  await ch.assertQueue('auto-q', { autoDelete: true });
  await ch.bindQueue('q', 'ex', 'k');
  await ch.bindQueue('q', 'auto', '');
  ch.sendToQueue('q', Buffer.from('kept'), { persistent: true });
  await engine.flush();
  const queueDirs = fs.readdirSync(join(dir, 'queues')).sort();
  const restore = failDefinitionWrites(engine);

  const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
    ['assertExchange', () => ch.assertExchange('ex2', 'topic'), /^cannot declare exchange 'ex2': no space left/],
    ['assertQueue', () => ch.assertQueue('q2'), /^cannot declare queue 'q2': no space left/],
    ['bindQueue', () => ch.bindQueue('q', 'ex', 'k2'), /^cannot bind queue 'q' to exchange 'ex'/],
    ['unbindQueue', () => ch.unbindQueue('q', 'ex', 'k'), /^cannot unbind queue 'q' from exchange 'ex'/],
    ['deleteExchange', () => ch.deleteExchange('ex'), /^cannot delete exchange 'ex'/],
    ['deleteQueue', () => ch.deleteQueue('q'), /^cannot delete queue 'q'/],
  ];
  for (const [what, call, message] of cases) {
    const e = await errorOf(call());
    t.ok(isMqlabError(e, 'ERR_NO_SPACE'), `${what}: ERR_NO_SPACE`);
    t.match((e as Error).message, message, `${what}: says what did not happen`);
  }
  t.ok(isMqlabError(await errorOf(ch.checkExchange('ex2')), 'NOT_FOUND'), 'no exchange ex2');
  t.ok(isMqlabError(await errorOf(ch.checkQueue('q2')), 'NOT_FOUND'), 'no queue q2');
  t.same(fs.readdirSync(join(dir, 'queues')).sort(), queueDirs, "q2's files were removed again");
  t.equal(await routeOf(ch, 'ex', 'k2'), 'returned', 'the failed binding is not in effect');
  t.equal(await routeOf(ch, 'ex', 'k'), 'routed', 'the binding that failed to go is still in effect');
  t.equal((await ch.checkQueue('q')).messageCount, 2, "queue q is still there, with 'kept' and the routed probe");
  restore();

  // A deletion that is the consequence of another change: the change happens, the deletion waits.
  const restoreDeletes = failDefinitionWrites(engine, ['deleteExchange', 'deleteQueue']);
  await ch.unbindQueue('q', 'auto', '');
  t.equal(await routeOf(ch, 'auto', ''), 'returned', 'the unbind happened');
  await t.resolves(ch.checkExchange('auto'), 'its auto-delete exchange, whose deletion cannot be written, stays');
  const { consumerTag } = await ch.consume('auto-q', () => undefined);
  await ch.cancel(consumerTag);
  await settle();
  t.equal((await ch.checkQueue('auto-q')).consumerCount, 0, 'an auto-delete queue whose deletion cannot be written stays (no uncaught error)');
  restoreDeletes();

  await ch.assertExchange('ex2', 'topic');
  await ch.bindQueue('q', 'ex', 'k2');
  t.equal(await routeOf(ch, 'ex', 'k2'), 'routed', 'once writes work again, the same calls succeed');
  await engine.close();

  engine = RabbitEngine.open(dir);
  t.teardown(() => engine.close());
  ch = await engine.createChannel();
  await ch.checkExchange('ex');
  await ch.checkExchange('ex2');
  await ch.checkExchange('auto');
  await ch.checkQueue('auto-q');
  t.ok(isMqlabError(await errorOf(ch.checkQueue('q2')), 'NOT_FOUND'), 'restart: q2 never existed');
  t.equal(await routeOf(ch, 'ex', 'k'), 'routed', 'restart: binding k');
  t.equal(await routeOf(ch, 'ex', 'k2'), 'routed', 'restart: binding k2');
  t.equal(await routeOf(ch, 'auto', ''), 'returned', 'restart: the auto-delete exchange, without its binding');
  const kept = must(await ch.get('q', { noAck: true }));
  t.equal(kept.content.toString(), 'kept', 'restart: the persistent message');
});
