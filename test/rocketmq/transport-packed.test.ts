import { MessageChannel } from 'node:worker_threads';
import t from 'tap';
import { isMqlabError } from '../../core/errors';
import { Producer, PullConsumer, TransportGateway, connectTransport } from '../../core/rocketmq';
import { serveRpc } from '../../core/threads';
import { openCluster } from './helpers';

// A batch of plain messages crosses a thread boundary packed (one buffer of bodies + lengths);
// the engine's side unpacks it into the same send. Over a MessageChannel in one thread here,
// which is the same bridge a worker uses.

t.test('a plain batch sent through the thread bridge arrives whole and in order', async (t) => {
  const { cluster } = openCluster(t);
  cluster.createTopic('PK', 1);
  const { port1, port2 } = new MessageChannel();
  const gateway = new TransportGateway(cluster.transport);
  let packedCalls = 0;
  const unpack = gateway.brokerSendPacked.bind(gateway);
  gateway.brokerSendPacked = (req) => {
    packedCalls++;
    return unpack(req);
  };
  const server = serveRpc(port1, gateway);
  const remote = connectTransport(port2);
  t.teardown(() => {
    remote.close();
    server.close();
  });
  const producer = new Producer({ group: 'pk', transport: remote });
  await producer.start();
  // Bodies as views into one larger buffer, as the workload producer sends them.
  const pool = Buffer.alloc(64 * 10);
  for (let i = 0; i < 10; i++) pool.write(`body-${i}`.padEnd(64, '.'), i * 64);
  const batch = Array.from({ length: 10 }, (_, i) => ({ topic: 'PK', body: pool.subarray(i * 64, (i + 1) * 64) }));
  const r = await producer.send(batch);
  t.equal(r.msgIds.length, 10);
  t.equal(packedCalls, 1, 'the batch crossed packed');
  // A batch with a tag still goes message by message (not packed) and works too.
  const tagged = await producer.send([{ topic: 'PK', tags: 'A', body: 'x1' }, { topic: 'PK', tags: 'A', body: 'x2' }]);
  t.equal(tagged.queueOffset, 10);
  t.equal(packedCalls, 1, 'the tagged batch did not');
  cluster.dispatchNow();
  const consumer = new PullConsumer({ group: 'pk-reader', transport: cluster.transport });
  await consumer.start();
  const got = await consumer.pull({ topic: 'PK', brokerName: 'broker-a', queueId: 0 }, '*', 0, 32);
  t.same(got.msgFoundList.map((m) => m.body.toString().replace(/\.+$/, '')), [...Array.from({ length: 10 }, (_, i) => `body-${i}`), 'x1', 'x2']);
  t.same(got.msgFoundList.slice(0, 10).map((m) => m.msgId), r.msgIds, 'the ids the send returned locate the messages');
  t.same(got.msgFoundList.slice(10).map((m) => m.tags), ['A', 'A']);
});

t.test('a malformed packed send is a typed error and stores nothing', async (t) => {
  const { cluster } = openCluster(t);
  cluster.createTopic('PK', 1);
  const gw = new TransportGateway(cluster.transport);
  const addr = cluster.broker().brokerAddr;
  const bad = [
    null,
    { addr, topic: 'PK', queueId: 0, bodies: 'nope', lengths: new Uint32Array([1]) },
    { addr, topic: 'PK', queueId: 0, bodies: new Uint8Array(4), lengths: new Uint32Array([3, 3]) },
    { addr, topic: 'PK', queueId: 0, bodies: new Uint8Array(4), lengths: new Uint32Array([1, 1]) },
    { addr, topic: 'PK', queueId: 0, bodies: new Uint8Array(2), lengths: new Uint32Array([0, 2]) },
    { addr: 'nowhere:1', topic: 'PK', queueId: 0, bodies: new Uint8Array(2), lengths: new Uint32Array([1, 1]) },
  ];
  for (const req of bad) {
    let err: unknown;
    try {
      await gw.brokerSendPacked(req as never);
    } catch (e) {
      err = e;
    }
    t.ok(isMqlabError(err), `refused with a typed error: ${(err as Error)?.message}`);
  }
  cluster.dispatchNow();
  t.equal(cluster.broker().getMaxOffset('PK', 0), 0, 'nothing stored');
});
