import t, { type Test } from 'tap';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RabbitEngine } from '../../core/rabbitmq';
import { mountTmpfs } from '../../scripts/reliability/disk-full';
import { fillDisk } from './disk-fill';
import { storageUnavailable, tempDir } from './helpers';


const skip = storageUnavailable();

/** Records in a definitions log (opened directly; the engine must be closed). */
function recordCount(dir: string): number {
  const { CommitLog } = require('../../core/log') as typeof import('../../core/log');
  const log = CommitLog.open(dir);
  try {
    return [...log.records()].length;
  } finally {
    log.close();
  }
}

/** Churn that leaves one exchange, one queue (with 5 persistent messages) and one binding live. */
async function churn(dir: string, rounds: number, compactDefinitionsAfter: number, segmentBytes?: number): Promise<void> {
  const engine = RabbitEngine.open(dir, { compactDefinitionsAfter, ...(segmentBytes !== undefined ? { segmentBytes } : {}) });
  const ch = await engine.createConfirmChannel();
  await ch.assertExchange('orders', 'topic');
  await ch.assertQueue('keep', { deadLetterExchange: 'dlx', arguments: { 'x-max-length': 1000 } });
  await ch.bindQueue('keep', 'orders', 'eu.#');
  for (let i = 0; i < rounds; i++) {
    await ch.assertQueue(`tmp-${i}`);
    await ch.bindQueue(`tmp-${i}`, 'orders', '#');
    await ch.unbindQueue(`tmp-${i}`, 'orders', '#');
    await ch.deleteQueue(`tmp-${i}`);
  }
  for (let i = 0; i < 5; i++) ch.publish('orders', `eu.${i}`, Buffer.from(`m${i}`), { persistent: true });
  await ch.waitForConfirms();
  await engine.close();
}

async function checkLive(t: Test, engine: RabbitEngine): Promise<void> {
  const ch = await engine.createChannel();
  t.same([...engine.exchanges.keys()].filter((n) => !n.startsWith('amq.')), ['orders'], 'the exchange is back');
  t.same([...engine.queues.keys()], ['keep'], 'only the live queue is back');
  const q = engine.queues.get('keep')!;
  t.equal(q.args.deadLetterExchange, 'dlx', 'with its arguments');
  const got: string[] = [];
  for (let m = await ch.get('keep', { noAck: true }); m; m = await ch.get('keep', { noAck: true })) got.push(m.content.toString());
  t.same(got, ['m0', 'm1', 'm2', 'm3', 'm4'], 'its persistent messages are all there');
  ch.publish('orders', 'eu.after', Buffer.from('routed'));
  const m = await ch.get('keep', { noAck: true });
  t.equal(m && m.content.toString(), 'routed', 'the binding is back');
}

t.test('a long definitions log is rewritten on open as the live definitions; restarts keep working', { skip }, async (t) => {
  const dir = tempDir(t, 'mqlab-rabbit-compact-');
  await churn(dir, 60, 50);
  const before = recordCount(join(dir, 'definitions'));
  t.ok(before >= 240, `the churn wrote ${before} records`);
  const engine = RabbitEngine.open(dir, { compactDefinitionsAfter: 50 });
  await checkLive(t, engine);
  const ch = await engine.createChannel();
  await ch.assertQueue('added-after');
  await engine.close();
  t.equal(recordCount(join(dir, 'definitions')), 4, 'compacted to exchange + queue + binding, then one more queue');
  t.notOk(existsSync(join(dir, 'definitions.compact')) || existsSync(join(dir, 'definitions.old')), 'no leftovers');
  const again = RabbitEngine.open(dir, { compactDefinitionsAfter: 50 });
  t.same([...again.queues.keys()].sort(), ['added-after', 'keep'], 'the log appended after compaction replays too');
  await again.close();
});

t.test('below the threshold, or mostly live, the log is left alone', { skip }, async (t) => {
  const dir = tempDir(t, 'mqlab-rabbit-compact-');
  await churn(dir, 60, 100_000);
  const before = recordCount(join(dir, 'definitions'));
  const engine = RabbitEngine.open(dir, { compactDefinitionsAfter: 100_000 });
  await engine.close();
  t.equal(recordCount(join(dir, 'definitions')), before, 'not compacted under the threshold');
});

t.test('a compaction interrupted by a crash is finished or discarded on open', { skip }, async (t) => {
  const { CommitLog } = require('../../core/log') as typeof import('../../core/log');
  const { settleCompaction } = require('../../core/rabbitmq/definition-log-store') as typeof import('../../core/rabbitmq/definition-log-store');

  await t.test('crash while writing the compacted log: it is discarded', async (t) => {
    const dir = tempDir(t, 'mqlab-rabbit-compact-');
    await churn(dir, 3, 100_000);
    // A half-written compacted log naming a queue that does not exist.
    const half = CommitLog.open(join(dir, 'definitions.compact'));
    half.append(Buffer.from([0xc1, 0xc1]));
    half.close();
    const engine = RabbitEngine.open(dir, { compactDefinitionsAfter: 100_000 });
    await checkLive(t, engine);
    await engine.close();
    t.notOk(existsSync(join(dir, 'definitions.compact')), 'removed');
  });

  await t.test('crash between the two renames: the compacted log is taken', async (t) => {
    const dir = tempDir(t, 'mqlab-rabbit-compact-');
    await churn(dir, 60, 100_000);
    // The state right after `definitions` → `.old`: the (complete) compacted log waits in `.compact`.
    renameSync(join(dir, 'definitions'), join(dir, 'definitions.compact'));
    const junk = CommitLog.open(join(dir, 'definitions.old'));
    junk.append(Buffer.from([0xc1]));
    junk.close();
    const engine = RabbitEngine.open(dir, { compactDefinitionsAfter: 100_000 });
    await checkLive(t, engine);
    await engine.close();
    t.notOk(existsSync(join(dir, 'definitions.old')) || existsSync(join(dir, 'definitions.compact')), 'no leftovers');
  });

  await t.test('only the old log left: it comes back', async (t) => {
    const dir = tempDir(t, 'mqlab-rabbit-compact-');
    await churn(dir, 3, 100_000);
    renameSync(join(dir, 'definitions'), join(dir, 'definitions.old'));
    settleCompaction(join(dir, 'definitions'));
    t.ok(existsSync(join(dir, 'definitions')) && !existsSync(join(dir, 'definitions.old')), 'renamed back');
    const engine = RabbitEngine.open(dir);
    await checkLive(t, engine);
    await engine.close();
  });
});

t.test('compactDefinitionsAfter is validated', async (t) => {
  for (const bad of [-1, 1.5, NaN, '10', null]) {
    t.throws(() => RabbitEngine.open(null, { compactDefinitionsAfter: bad as never }), { code: 'ERR_INVALID_ARG' }, `refuses ${String(bad)}`);
  }
});

const tmpfs = skip || mountTmpfs(8 * 1024 * 1024);
t.test('on a full disk a compaction that cannot be written is skipped: the engine opens on the old log', { skip: typeof tmpfs === 'string' ? tmpfs : false }, async (t) => {
  if (typeof tmpfs === 'string') return;
  t.teardown(() => tmpfs.unmount());
  const dir = join(tmpfs.dir, 'rabbit');
  const segmentBytes = 256 * 1024;
  await churn(dir, 60, 100_000, segmentBytes);
  const before = recordCount(join(dir, 'definitions'));
  const filler = join(tmpfs.dir, 'filler');
  fillDisk(filler);
  const engine = RabbitEngine.open(dir, { compactDefinitionsAfter: 50, segmentBytes });
  await checkLive(t, engine);
  await engine.close();
  t.equal(recordCount(join(dir, 'definitions')), before, 'the old log is kept as it was');
  t.notOk(existsSync(join(dir, 'definitions.compact')) || existsSync(join(dir, 'definitions.old')), 'the unfinished compaction left nothing behind');
  rmSync(filler);
  const again = RabbitEngine.open(dir, { compactDefinitionsAfter: 50, segmentBytes });
  t.same([...again.queues.keys()], ['keep']);
  await again.close();
  t.equal(recordCount(join(dir, 'definitions')), 3, 'with room again, the next open compacts');
});
