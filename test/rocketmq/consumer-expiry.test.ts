import t from 'tap';
import type { Test } from 'tap';
import { CLIENT_CHANNEL_EXPIRED_MS } from '../../core/rocketmq/constants';
import { Message, Producer, PushConsumer, type BrokerApi, type PullRequest, type Transport } from '../../core/rocketmq';
import { openCluster, waitFor } from './helpers';

// A consumer whose heartbeats come late (a loaded machine, a stalled worker thread) is expired by
// the broker: it must join its group again, lock its queues again and lose nothing.

type Ctx = ReturnType<typeof openCluster>;

function consumer(t: Test, ctx: Ctx, who: string, got: string[], transport: Transport = ctx.cluster.transport) {
  const c = new PushConsumer({
    group: 'g', transport, consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', pollTimeoutMs: 100, rebalanceIntervalMs: 100,
    instanceName: who, clock: () => ctx.clock.now,
  });
  c.subscribe('T', '*');
  c.registerMessageListener((msgs) => {
    for (const m of msgs) got.push(m.body.toString());
    return 'CONSUME_SUCCESS';
  });
  t.teardown(() => c.shutdown());
  return c;
}

const queuesOfT = [0, 1, 2, 3].map((queueId) => ({ topic: 'T', queueId }));

t.test('a consumer the broker expired rejoins, locks its queues again and receives everything', async (t) => {
  const ctx = openCluster(t);
  ctx.cluster.createTopic('T', 4);
  const b = ctx.cluster.broker();
  const p = new Producer({ group: 'pg', transport: ctx.cluster.transport });
  await p.start();
  let n = 0;
  const send = async (k: number) => {
    for (let i = 0; i < k; i++) await p.send(new Message('T', `m${n++}`));
  };
  const got: string[] = [];
  const c = consumer(t, ctx, 'late', got);
  await c.start();
  await send(12);
  await waitFor(() => got.length >= 12, 5000, 'the first 12');

  ctx.clock.now += CLIENT_CHANNEL_EXPIRED_MS + 1; // no heartbeat for longer than the expiry
  t.same(b.scanNotActiveClients(), [c.clientId], 'the silent consumer expires');
  await send(12); // sent while the group has no member
  await waitFor(() => b.getConsumerIdList('g').includes(c.clientId), 5000, 'the consumer to rejoin');
  await c.rebalance(); // the round that rejoined has settled
  t.same(b.lockBatchMQ('g', 'intruder', queuesOfT), [], 'the rejoined consumer holds the locks of its queues again');
  t.equal(c.allocatedQueues().filter((q) => q.topic === 'T').length, 4);
  await send(12);
  await waitFor(() => new Set(got).size === 36, 8000, 'all 36 messages');
  t.equal(new Set(got).size, 36, 'nothing lost across the expiry');
  t.equal(got.length, 36, 'nothing delivered twice (one member)');
});

t.test('with two members, the expired one comes back and the queues end split, each locked by its owner', async (t) => {
  const ctx = openCluster(t);
  ctx.cluster.createTopic('T', 4);
  const b = ctx.cluster.broker();
  const p = new Producer({ group: 'pg', transport: ctx.cluster.transport });
  await p.start();
  let n = 0;
  const send = async (k: number) => {
    for (let i = 0; i < k; i++) await p.send(new Message('T', `m${n++}`));
  };
  const got: string[] = [];
  const a = consumer(t, ctx, 'a', got);
  const c = consumer(t, ctx, 'c', got);
  await a.start();
  await c.start();
  const ownedT = (x: PushConsumer) => x.allocatedQueues().filter((q) => q.topic === 'T').map((q) => q.queueId).sort();
  await waitFor(() => ownedT(a).length === 2 && ownedT(c).length === 2, 5000, 'an even split');
  await send(20);

  ctx.clock.now += CLIENT_CHANNEL_EXPIRED_MS + 1;
  await c.sendHeartbeat(); // c is on time, a is late
  t.same(b.scanNotActiveClients(), [a.clientId], 'only the silent member expires');
  await send(20);
  await waitFor(() => b.getConsumerIdList('g').length === 2, 5000, 'a to rejoin');
  await waitFor(() => ownedT(a).length === 2 && ownedT(c).length === 2, 8000, 'an even split again');
  t.same([...ownedT(a), ...ownedT(c)].sort(), [0, 1, 2, 3], 'every queue has one owner');
  for (const x of [a, c]) {
    const mine = ownedT(x).map((queueId) => ({ topic: 'T', queueId }));
    t.same(b.lockBatchMQ('g', x.clientId, mine), mine, `${x.clientId} holds the locks of its queues`);
  }
  t.same(b.lockBatchMQ('g', 'intruder', queuesOfT), [], 'no queue is free for a third client to take');
  await send(20);
  await waitFor(() => new Set(got).size === 60, 8000, 'all 60 messages');
  t.equal(new Set(got).size, 60, 'nothing lost across the expiry and rebalances');
});

t.test('a pull loop that fails unexpectedly gives its queue back and the queue is consumed again', async (t) => {
  const ctx = openCluster(t);
  ctx.cluster.createTopic('T', 1);
  // A broker endpoint whose first pull answers with a malformed result (no message list).
  let broken = 0;
  const transport: Transport = {
    nameServer: ctx.cluster.transport.nameServer,
    broker(addr: string): BrokerApi {
      const real = ctx.cluster.transport.broker(addr);
      return new Proxy(real, {
        get(target, prop, receiver) {
          if (prop === 'pullMessage') {
            return async (req: PullRequest) => {
              const res = await target.pullMessage(req);
              if (req.topic === 'T' && res.pullStatus === 'FOUND' && broken++ === 0) return { ...res, msgFoundList: undefined };
              return res;
            };
          }
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    },
  };
  const p = new Producer({ group: 'pg', transport: ctx.cluster.transport });
  await p.start();
  for (let i = 0; i < 10; i++) await p.send(new Message('T', `m${i}`));
  const got: string[] = [];
  const c = consumer(t, ctx, 'x', got, transport);
  await c.start();
  await waitFor(() => new Set(got).size === 10, 8000, 'all 10 messages after the failed pull');
  t.equal(broken > 1, true, 'the queue was pulled again after the failure');
  t.same([...new Set(got)].sort(), Array.from({ length: 10 }, (_, i) => `m${i}`).sort());
});
