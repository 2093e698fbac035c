import t from 'tap';
import { MessageChannel, Worker } from 'node:worker_threads';
import path from 'node:path';
import { serveRpc, connectRpc, workerEntry } from '../../core/threads';
import { MqlabError } from '../../core/errors';

class Counter {
  value = 0;
  add(n: number) { this.value += n; return this.value; }
  async slowAdd(n: number) { await new Promise((r) => setTimeout(r, 5)); return this.add(n); }
  fail(): void { throw new MqlabError('UNKNOWN_TOPIC_OR_PARTITION', 'no such topic', { topic: 'x' }); }
  never(): Promise<void> { return new Promise(() => {}); }
  bytes(b: Uint8Array) { return b.length; }
  _secret() { return 42; }
}

t.test('calls, async results and typed errors cross the bridge', async (t) => {
  const { port1, port2 } = new MessageChannel();
  const counter = new Counter();
  const server = serveRpc(port1, counter);
  const remote = connectRpc<Counter>(port2);
  t.equal(await remote.add(2), 2);
  t.equal(await remote.slowAdd(3), 5);
  const err = await remote.fail().catch((e) => e);
  t.ok(err instanceof MqlabError);
  t.equal(err.code, 'UNKNOWN_TOPIC_OR_PARTITION');
  t.same(err.details, { topic: 'x' });
  const refused = await (remote as unknown as { _secret(): Promise<number> })._secret().catch((e) => e);
  t.equal(refused.code, 'ERR_INVALID_ARG', 'private methods are not callable');
  remote.$rpc.close();
  server.close();
});

t.test('a call with no reply times out with ERR_TIMEOUT', async (t) => {
  const { port1, port2 } = new MessageChannel();
  const server = serveRpc(port1, new Counter());
  const remote = connectRpc<Counter>(port2, { timeoutMs: 50 });
  const err = await remote.never().catch((e) => e);
  t.equal(err.code, 'ERR_TIMEOUT');
  remote.$rpc.close();
  server.close();
});

t.test('pending calls reject with ERR_CLOSED when the connection closes', async (t) => {
  const { port1, port2 } = new MessageChannel();
  const server = serveRpc(port1, new Counter());
  const remote = connectRpc<Counter>(port2);
  const p = remote.never();
  remote.$rpc.close();
  t.equal((await p.catch((e) => e)).code, 'ERR_CLOSED');
  t.equal((await remote.add(1).catch((e) => e)).code, 'ERR_CLOSED');
  server.close();
});

t.test('events pushed by the host reach client handlers', async (t) => {
  const { port1, port2 } = new MessageChannel();
  const server = serveRpc(port1, new Counter());
  const remote = connectRpc<Counter>(port2);
  const got = new Promise((resolve) => remote.$rpc.on('delivery', resolve));
  server.emit('delivery', { offset: 7 });
  t.same(await got, { offset: 7 });
  remote.$rpc.close();
  server.close();
});

t.test('a real worker thread drives an object on the main thread', async (t) => {
  const { port1, port2 } = new MessageChannel();
  const counter = new Counter();
  const server = serveRpc(port1, counter);
  const { filename, argv } = workerEntry(path.join(__dirname, '../fixtures/rpc-worker.ts'));
  const worker = new Worker(filename, { argv, workerData: { port: port2, calls: 100 }, transferList: [port2] });
  const result = await new Promise<{ last: number; code: string; len: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  t.equal(result.last, 100);
  t.equal(counter.value, 100);
  t.equal(result.code, 'UNKNOWN_TOPIC_OR_PARTITION');
  t.equal(result.len, 5);
  await worker.terminate();
  server.close();
});
