import t from 'tap';
import { Message, NameServer, Producer } from '../../core/rocketmq';
import { openCluster } from './helpers';

t.test('brokers register topics; routes list each broker and its queues', async (t) => {
  const { cluster } = openCluster(t, { brokerNames: ['broker-a', 'broker-b'] });
  cluster.createTopic('T', 4, ['broker-a']);
  cluster.createTopic('U', 2);
  const r = cluster.nameServer.getRouteInfoByTopic('T');
  t.same(r.queueDatas.map((q) => [q.brokerName, q.writeQueueNums]), [['broker-a', 4]]);
  const u = cluster.nameServer.getRouteInfoByTopic('U');
  t.same(u.queueDatas.map((q) => q.brokerName), ['broker-a', 'broker-b']);
  t.same(u.brokerDatas.map((b) => b.brokerAddrs[0]).sort(), ['127.0.0.1:10911', '127.0.0.1:10921']);
  t.throws(() => cluster.nameServer.getRouteInfoByTopic('Nope'), { code: 'TOPIC_NOT_EXIST' });
  t.throws(() => cluster.nameServer.getRouteInfoByTopic('no pe'), { code: 'ERR_BAD_NAME' });
});

t.test('a broker that stops heartbeating expires after 120 s; producers move to the others', async (t) => {
  const { cluster, clock } = openCluster(t, { brokerNames: ['broker-a', 'broker-b'] });
  cluster.createTopic('T', 2);
  const producer = new Producer({ group: 'pg', transport: cluster.transport });
  await producer.start();
  cluster.stopBroker('broker-b', { unregister: false }); // a crash: no goodbye
  clock.now += 60_000;
  t.same(cluster.tick().expiredBrokers, [], 'still within the expiry');
  t.equal(cluster.nameServer.getRouteInfoByTopic('T').queueDatas.length, 2);
  clock.now += 61_000;
  t.same(cluster.tick().expiredBrokers, ['127.0.0.1:10921']);
  t.same(cluster.nameServer.getRouteInfoByTopic('T').queueDatas.map((q) => q.brokerName), ['broker-a']);
  for (let i = 0; i < 6; i++) {
    const r = await producer.send(new Message('T', `m${i}`));
    t.equal(r.messageQueue.brokerName, 'broker-a');
  }
  cluster.startBroker('broker-b');
  t.same(cluster.nameServer.getRouteInfoByTopic('T').queueDatas.map((q) => q.brokerName), ['broker-a', 'broker-b'], 'back after restart');
});

t.test('a clean shutdown unregisters at once', async (t) => {
  const ns = new NameServer({ clock: () => 0 });
  ns.registerBroker({ clusterName: 'c', brokerName: 'b', brokerAddr: '127.0.0.1:1', brokerId: 0, topicConfigs: [{ topicName: 'T', readQueueNums: 1, writeQueueNums: 1, perm: 6 }] });
  t.same(ns.allTopics(), ['T']);
  ns.unregisterBroker('c', 'b', '127.0.0.1:1');
  t.throws(() => ns.getRouteInfoByTopic('T'), { code: 'TOPIC_NOT_EXIST' });
  t.throws(() => ns.registerBroker(null as never), { code: 'ERR_INVALID_ARG' });
});
