/**
 * The queue store under faults: a crash right after a delivery, a damaged ack index, a full disk
 * (for a publisher in process and for one on a worker thread).
 */
import t from 'tap';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { isMqlabError } from '../../core/errors';
import { MessageChannel, Worker } from 'node:worker_threads';
import { RabbitEngine } from '../../core/rabbitmq';
import { serveRemoteEngine } from '../../core/rabbitmq/remote';
import { workerEntry } from '../../core/threads';
import type { FillReport } from './fixtures/disk-full-publisher-worker';
import { mountTmpfs } from '../../scripts/reliability/disk-full';
import { intactBodies, publishRange, publishUntilNacked } from './disk-fill';
import { must, settle, storageUnavailable, tempDir } from './helpers';


const skip = storageUnavailable();

function ackIndexOf(dir: string): string {
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name === 'acks.idx') return join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
  }
  throw new Error(`no acks.idx under ${dir}`);
}

t.test('a delivery is marked on disk before it leaves: a crash in the same turn keeps redelivered', { skip }, async (t) => {
  const dir = tempDir(t, 'mqlab-rabbit-faults-');
  let engine = RabbitEngine.open(dir);
  let ch = await engine.createConfirmChannel();
  await ch.assertQueue('q');
  for (let i = 0; i < 3; i++) ch.sendToQueue('q', Buffer.from(`m${i}`), { persistent: true });
  await ch.waitForConfirms();
  const m = must(await ch.get('q'));
  t.equal(m.fields.redelivered, false);
  engine.crash();  // no pump ran since the delivery: nothing pending was written

  engine = RabbitEngine.open(dir);
  t.teardown(() => engine.close());
  ch = await engine.createConfirmChannel();
  const got: Array<[string, boolean]> = [];
  for (let g = await ch.get('q', { noAck: true }); g; g = await ch.get('q', { noAck: true })) got.push([g.content.toString(), g.fields.redelivered]);
  t.same(got, [['m0', true], ['m1', false], ['m2', false]], 'only the delivered one is flagged');
});

t.test('an ack index cut to half is rebuilt: kept entries stay acked, unknown ones come back redelivered', { skip }, async (t) => {
  const dir = tempDir(t, 'mqlab-rabbit-faults-');
  let engine = RabbitEngine.open(dir);
  let ch = await engine.createConfirmChannel();
  await ch.assertQueue('q');
  for (let i = 0; i < 40; i++) ch.sendToQueue('q', Buffer.from(`m${i}`), { persistent: true });
  await ch.waitForConfirms();
  // Ack m0..m9 (in the half that survives) and m30..m39 (in the half that is cut).
  const all = [];
  for (let i = 0; i < 40; i++) all.push(must(await ch.get('q')));
  for (const m of all.filter((_, i) => i < 10 || i >= 30)) ch.ack(m);
  await engine.close();  // m10..m29 go back to the queue, flagged
  const idx = ackIndexOf(dir);
  const file = fs.readFileSync(idx);
  fs.truncateSync(idx, 64 + 20 * 8);

  engine = RabbitEngine.open(dir);
  t.teardown(() => engine.close());
  ch = await engine.createConfirmChannel();
  const got: Array<[string, boolean]> = [];
  for (let g = await ch.get('q', { noAck: true }); g; g = await ch.get('q', { noAck: true })) got.push([g.content.toString(), g.fields.redelivered]);
  const want = [...Array.from({ length: 20 }, (_, k) => [`m${10 + k}`, true]), ...Array.from({ length: 10 }, (_, k) => [`m${30 + k}`, true])];
  t.same(got, want, 'm0..m9 stay acked; m10..m29 (unacked) and m30..m39 (ack state lost) come back, flagged');
  t.ok(fs.existsSync(`${idx}.damaged`), 'the damaged index is kept aside');
  t.equal(fs.statSync(`${idx}.damaged`).size, 64 + 20 * 8);
  t.ok(file.length > 64 + 40 * 8 - 1, 'the original index held all 40 entries');
});

const tmpfs = skip || mountTmpfs(4 * 1024 * 1024);
t.test('a full disk nacks publishes with ERR_NO_SPACE; earlier messages intact; publishing resumes', { skip: typeof tmpfs === 'string' ? tmpfs : false }, async (t) => {
  if (typeof tmpfs === 'string') return;
  t.teardown(() => tmpfs.unmount());
  const filler = join(tmpfs.dir, 'filler');
  fs.writeFileSync(filler, Buffer.alloc(1024 * 1024));
  const dataDir = join(tmpfs.dir, 'rabbit');
  let engine = RabbitEngine.open(dataDir, { durability: 'sync', segmentBytes: 256 * 1024 });
  let ch = await engine.createConfirmChannel();
  await ch.assertQueue('q');
  const { confirmed, failure, callbackError } = await publishUntilNacked(ch, 'q');
  t.ok(confirmed > 100, `messages confirmed before the disk filled (${confirmed})`);
  t.ok(isMqlabError(failure), 'waitForConfirms rejects with an MqlabError');
  t.equal(isMqlabError(failure) ? failure.code : String(failure), 'ERR_NO_SPACE');
  t.equal(isMqlabError(callbackError) ? (callbackError as { code: string }).code : String(callbackError), 'ERR_NO_SPACE', 'the confirm callback gets the same error');
  t.equal((await ch.checkQueue('q')).messageCount, confirmed, 'the nacked message is not in the queue');

  fs.rmSync(filler);
  await publishRange(ch, 'q', confirmed, 200);
  await settle();
  t.equal((await ch.checkQueue('q')).messageCount, confirmed + 200, 'publishing resumes once space is back');
  await engine.close();

  engine = RabbitEngine.open(dataDir, { durability: 'sync', segmentBytes: 256 * 1024 });
  ch = await engine.createConfirmChannel();
  const seen = await intactBodies(ch, 'q');
  await engine.close();
  t.same(seen, Array.from({ length: confirmed + 200 }, (_, k) => k), 'after a restart: every confirmed message, intact, in order, and nothing else');
});

const workerTmpfs = skip || mountTmpfs(4 * 1024 * 1024);
t.test('a worker-thread publisher gets the same ERR_NO_SPACE nack as an in-process one', { skip: typeof workerTmpfs === 'string' ? workerTmpfs : false }, async (t) => {
  if (typeof workerTmpfs === 'string') return;
  t.teardown(() => workerTmpfs.unmount());
  const filler = join(workerTmpfs.dir, 'filler');
  fs.writeFileSync(filler, Buffer.alloc(1024 * 1024));
  const dataDir = join(workerTmpfs.dir, 'rabbit');
  const options = { durability: 'sync', segmentBytes: 256 * 1024 } as const;
  let engine = RabbitEngine.open(dataDir, options);
  const local = await engine.createConfirmChannel();
  await local.assertQueue('q');

  const { port1, port2 } = new MessageChannel();
  const server = serveRemoteEngine(port1, { connect: () => engine.connect() });
  const { filename, argv } = workerEntry(join(__dirname, 'fixtures/disk-full-publisher-worker.ts'));
  const worker = new Worker(filename, { argv, workerData: { port: port2 }, transferList: [port2] });
  t.teardown(() => worker.terminate());
  const next = <T>(): Promise<T> => new Promise((resolve, reject) => {
    worker.once('message', (m: T & { crashed?: string }) => (m.crashed ? reject(new Error(m.crashed)) : resolve(m)));
    worker.once('error', reject);
  });

  const report = await next<FillReport>();
  t.ok(report.confirmed > 100, `messages confirmed before the disk filled (${report.confirmed})`);
  // The same publish from this thread, with the disk still full, is the reference.
  const inProcess = await new Promise<Error | null>((resolve) => local.sendToQueue('q', Buffer.alloc(1000, 'y'), { persistent: true }, resolve));
  t.ok(isMqlabError(inProcess, 'ERR_NO_SPACE'), 'in process: the confirm callback gets ERR_NO_SPACE');
  const want = isMqlabError(inProcess) ? { typed: true, code: inProcess.code, message: inProcess.message, details: inProcess.details } : null;
  t.same(report.callbackError, want, 'on the worker: the confirm callback gets the same code, message and details');
  t.same(report.failure, want, 'on the worker: waitForConfirms rejects with it too');
  await local.waitForConfirms().catch(() => undefined);
  t.equal((await local.checkQueue('q')).messageCount, report.confirmed, 'the nacked messages are not in the queue');

  fs.rmSync(filler);
  worker.postMessage(200);
  const { resumed } = await next<{ resumed: unknown }>();
  t.equal(resumed, null, 'publishing from the worker resumes once space is back');
  await settle();
  t.equal((await local.checkQueue('q')).messageCount, report.confirmed + 200);
  server.close();
  await engine.close();

  engine = RabbitEngine.open(dataDir, options);
  const ch = await engine.createChannel();
  const seen = await intactBodies(ch, 'q');
  await engine.close();
  t.same(seen, Array.from({ length: report.confirmed + 200 }, (_, k) => k), 'after a restart: every confirmed message, intact, in order, and nothing else');
});
