/**
 * Errors keep their code across threads: the RPC bridge (core/threads) sends them in their wire
 * form (wire-error.ts) and rebuilds them on the other side with the same code, message and
 * details. Thrown values without a code, details that cannot be cloned and results that cannot
 * be sent still give the caller a typed error, never a missing reply.
 */
import t from 'tap';
import { MessageChannel, Worker } from 'node:worker_threads';
import path from 'node:path';
import { connectRpc, fromWireError, serveRpc, toWireError, workerEntry } from '../../core/threads';
import { isMqlabError, MqlabError } from '../../core/errors';

t.test('wire form: code, message and details survive a structured clone', async (t) => {
  const original = new MqlabError('ERR_NO_SPACE', 'no space left', { errno: 'ENOSPC', sizes: [1, 2] });
  const back = fromWireError(structuredClone(toWireError(original)));
  t.ok(isMqlabError(back, 'ERR_NO_SPACE'));
  t.equal(back.message, 'no space left');
  t.same((back as MqlabError).details, { errno: 'ENOSPC', sizes: [1, 2] });

  const sys = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
  t.same(toWireError(sys), { code: 'ENOENT', message: 'ENOENT: no such file' }, "a Node system error keeps its code");

  const plain = fromWireError(structuredClone(toWireError(new Error('message nacked'))));
  t.notOk(plain instanceof MqlabError, 'an untyped error stays untyped without a fallback code');
  t.equal(plain.message, 'message nacked');
  t.same(toWireError(new Error('boom'), 'ERR_REMOTE'), { code: 'ERR_REMOTE', message: 'boom' }, 'the fallback code types it');

  t.same(toWireError('just a string', 'ERR_REMOTE'), { code: 'ERR_REMOTE', message: 'just a string' });
  t.same(toWireError(Symbol('s'), 'ERR_REMOTE'), { code: 'ERR_REMOTE', message: 'a symbol' });
  t.same(toWireError(10n, 'ERR_REMOTE'), { code: 'ERR_REMOTE', message: '10n' });
  t.same(toWireError(Object.assign(new Error('numeric code'), { code: 5 }), 'ERR_REMOTE').code, 'ERR_REMOTE', 'a non-string code is not a code');

  const hostile = new MqlabError('PRECONDITION_FAILED', 'bad header', { replyCode: 406, value: () => 1, sym: Symbol('x') });
  const wire = toWireError(hostile);
  t.doesNotThrow(() => structuredClone(wire), 'details that cannot be cloned are described instead');
  t.same(wire.details, { replyCode: 406, value: 'a function', sym: 'a symbol' });
});

t.test('over the bridge: every way a call can fail gives the caller a typed error', async (t) => {
  const { port1, port2 } = new MessageChannel();
  const target = {
    syncThrow(): void { throw new MqlabError('ERR_NO_SPACE', 'full', { dir: '/d' }); },
    async asyncReject(): Promise<void> { throw new MqlabError('NOT_FOUND', "NOT_FOUND - no queue 'q'", { replyCode: 404 }); },
    throwString(): void { throw 'a bare string'; },
    hostileDetails(): void { throw new MqlabError('PRECONDITION_FAILED', 'bad', { fn: () => 0 }); },
    unsendable(): unknown { return { callback: () => 0 }; },
  };
  const server = serveRpc(port1, target);
  const remote = connectRpc<typeof target>(port2, { timeoutMs: 5000 });
  t.teardown(() => { remote.$rpc.close(); server.close(); });

  await t.rejects(remote.syncThrow(), { code: 'ERR_NO_SPACE', message: 'full', details: { dir: '/d' } });
  await t.rejects(remote.asyncReject(), { code: 'NOT_FOUND', details: { replyCode: 404 } });
  await t.rejects(remote.throwString(), { code: 'ERR_REMOTE', message: 'a bare string' });
  await t.rejects(remote.hostileDetails(), { code: 'PRECONDITION_FAILED', details: { fn: 'a function' } }, 'details that cannot be cloned do not lose the reply');
  const err = await remote.unsendable().catch((e: unknown) => e);
  t.ok(isMqlabError(err, 'ERR_INVALID_ARG'), 'a result that cannot be cloned is a typed error, not a timeout');
  t.match((err as Error).message, /unsendable cannot be sent to another thread/);
  const odd = await (remote as unknown as { [k: string]: (...a: unknown[]) => Promise<unknown> }).nothing!().catch((e: unknown) => e);
  t.ok(isMqlabError(odd, 'ERR_INVALID_ARG'), 'the bridge still answers');
});

t.test('from a real worker thread: codes and details of thrown, rejected and system errors', async (t) => {
  const { port1, port2 } = new MessageChannel();
  const { filename, argv } = workerEntry(path.join(__dirname, 'fixtures/error-target-worker.ts'));
  const worker = new Worker(filename, { argv, workerData: { port: port2 }, transferList: [port2] });
  t.teardown(() => worker.terminate());
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const remote = connectRpc<{ noSpace(): void; rejected(): Promise<void>; systemError(): Promise<string> }>(port1, { timeoutMs: 10_000 });
  t.teardown(() => remote.$rpc.close());
  const noSpace = await remote.noSpace().catch((e: unknown) => e);
  t.ok(noSpace instanceof MqlabError, 'an MqlabError again on this side');
  t.same({ code: (noSpace as MqlabError).code, message: (noSpace as Error).message, details: (noSpace as MqlabError).details },
    { code: 'ERR_NO_SPACE', message: 'append failed: no space left on device', details: { errno: 'ENOSPC', dir: '/data/q' } });
  await t.rejects(remote.rejected(), { code: 'NOT_FOUND', details: { replyCode: 404, queue: 'q' } });
  await t.rejects(remote.systemError(), { code: 'ENOENT' }, "Node's error code crosses too");
});
