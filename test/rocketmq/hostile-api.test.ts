/**
 * Hostile arguments to every public method of the RocketMQ client side (NameServer, producer,
 * pull and push consumers, MQClient, the worker transport gateway, the cluster): every failure
 * is an MqlabError, never a TypeError from inside the engine. The broker itself is fuzzed by
 * test/reliability/api-fuzz.test.ts.
 */
import fc from 'fast-check';
import t from 'tap';
import { isMqlabError } from '../../core/errors';
import { MQClient, Producer, PullConsumer, PushConsumer, TransportGateway } from '../../core/rocketmq';
import { hostileValue } from '../../scripts/reliability/hostile';
import { openCluster, tempDir } from './helpers';

type Fn = (...a: unknown[]) => unknown;

t.test('client-side public methods answer hostile arguments with typed errors', async (t) => {
  const { cluster } = openCluster(t);
  cluster.createTopic('T', 2);
  const transport = cluster.transport;
  const producer = new Producer({ group: 'PG', transport });
  await producer.start();
  const pull = new PullConsumer({ group: 'CG', transport });
  await pull.start();
  const push = new PushConsumer({ group: 'PCG', transport, offsetStoreDir: tempDir(t) });
  const client = new MQClient(transport);
  const gateway = new TransportGateway(transport);
  const mq = { topic: 'T', brokerName: 'broker-a', queueId: 0 };
  const near = fc.oneof(hostileValue, fc.constantFrom<unknown>('T', 'PG', 'broker-a', '*', 'a || b', 0, 1, 3, -1, mq, { ...mq, queueId: 9 }, { topic: 'T', body: 'b' },
    [{ topic: 'T', body: 'b' }], { topic: 'T', body: '' }, () => mq, () => 5, '127.0.0.1:10911', 'getMaxOffset', ['T', 0]));
  const targets: Array<[string, object, string[]]> = [
    ['nameServer', cluster.nameServer, ['registerBroker', 'unregisterBroker', 'scanNotActiveBroker', 'getRouteInfoByTopic', 'brokerAddresses', 'allTopics']],
    ['producer', producer, ['fetchPublishMessageQueues', 'send', 'sendOneway', 'viewMessage', 'queryMessage']],
    ['pullConsumer', pull, ['fetchSubscribeMessageQueues', 'pull', 'pullBlockIfNotFound', 'updateConsumeOffset', 'fetchConsumeOffset', 'maxOffset', 'minOffset', 'searchOffset', 'viewMessage', 'queryMessage']],
    ['pushConsumer', push, ['subscribe', 'registerMessageListener', 'registerMessageListenerOrderly', 'allocatedQueues']],
    ['client', client, ['route', 'cachedRoute', 'cachedBroker', 'forgetRoute', 'brokerFor', 'brokersOf', 'viewMessage', 'queryMessage']],
    ['gateway', gateway, ['nameServerCall', 'brokerCall', 'brokerSendPacked']],
    ['cluster', cluster, ['broker', 'startBroker', 'createTopic']],
  ];
  const untyped = new Set<string>();
  let calls = 0;
  let typed = 0;
  const note = (what: string, e: unknown) => {
    if (isMqlabError(e)) typed++;
    else untyped.add(`${what}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  };
  for (const [name, target, methods] of targets) {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...methods), fc.array(near, { maxLength: 5 }), async (m, args) => {
      calls++;
      const what = `${name}.${m}`;
      try {
        const r = ((target as Record<string, Fn>)[m] as Fn).apply(target, args);
        if (r instanceof Promise) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([r.catch((e: unknown) => note(what, e)), new Promise((res) => (timer = setTimeout(res, 50)))]);
          clearTimeout(timer);
        }
      } catch (e) {
        note(what, e);
      }
    }), { numRuns: 150, seed: 20261125 });
  }
  t.ok(calls > 1000, `calls made (${calls})`);
  t.ok(typed > 100, `typed errors seen (${typed})`);
  t.same([...untyped], [], 'every failure is an MqlabError');
  await producer.shutdown();
  await pull.shutdown();
});

t.test('a message body whose getter changes its answer after the checks is refused, and takes no queue offset', async (t) => {
  const { cluster } = openCluster(t);
  cluster.createTopic('T', 1);
  const broker = cluster.broker();
  let reads = 0;
  // Small while the broker checks it, large once it encodes it.
  const shifty = { topic: 'T', get body() { return reads++ < 4 ? Buffer.alloc(10) : Buffer.alloc(1000); } };
  t.throws(() => broker.sendMessage({ topic: 'T', queueId: 0, messages: [shifty] }), { code: 'MESSAGE_ILLEGAL' });
  const ok = broker.sendMessage({ topic: 'T', queueId: 0, messages: [{ topic: 'T', body: Buffer.from('next') }] });
  t.equal(ok.queueOffset, 0, 'the refused send used no queue offset');
  cluster.dispatchNow();
  t.equal(broker.getMaxOffset('T', 0), 1);
});
