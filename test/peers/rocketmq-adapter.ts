/**
 * The RocketMQ adapter (mqlab's remoting client) against the real nameserver + broker: routes,
 * send/receive with tags, clustering split and broadcasting copies, offsets resumed after a
 * restart, retry with reconsumeTimes, queries by id and key, clear error when down.
 */
import type { Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { createAdapter } from '../../conformance/adapters/real/rocketmq';
import type { BrokerConsumer, ReceivedMessage } from '../../conformance/adapters/broker-model';
import { isMqlabError } from '../../core/errors';
import { peerSkipReason, PEERS } from './reachable';

const ns = `t${randomUUID().slice(0, 8)}`;

async function receiveN(c: BrokerConsumer, n: number, ms = 15_000, settle = true): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  const end = Date.now() + ms;
  while (out.length < n && Date.now() < end) {
    const got = await c.receive({ maxMessages: n - out.length, timeoutMs: 300 });
    for (const m of got) if (settle) await c.settle(m, 'CONSUME_SUCCESS');
    out.push(...got);
  }
  return out;
}

/** Registers the adapter tests on `t` (run before the suites, in the same file: the suites restart the broker). */
export function rocketmqAdapterTests(t: Test): void {
  t.test('unreachable nameserver: a clear error naming broker and address', async (t) => {
    const err = await createAdapter({ url: 'rocketmq://127.0.0.1:1' }).then(() => null, (e: unknown) => e);
    t.ok(isMqlabError(err, 'ERR_BROKER_UNREACHABLE'), 'ERR_BROKER_UNREACHABLE');
    t.match((err as Error).message, /RocketMQ at rocketmq:\/\/127\.0\.0\.1:1 is not reachable/);
  });

  t.test('rocketmq adapter on the real broker', async (t) => {
    const skip = await peerSkipReason('rocketmq');
    if (skip) { t.plan(0, skip); return; }
    const adapter = await createAdapter({ url: PEERS.rocketmq.url });
    t.teardown(() => adapter.close());

    await t.test('route, send, tags, clustering split, resume after restart', async (t) => {
      const topic = `${ns}_a`;
      await adapter.createTopic(topic, { queues: 4 });
      const route = await adapter.route(topic);
      t.equal(route.queues.length, 4);
      const err = await adapter.route(`${ns}_missing`).then(() => null, (e: unknown) => e);
      t.ok(isMqlabError(err, 'TOPIC_NOT_EXIST'), 'unknown topic: TOPIC_NOT_EXIST');

      const group = `${ns}_g1`;
      const a = await adapter.consumer({ group, model: 'CLUSTERING', instanceName: 'a', consumeFrom: { from: 'first' } });
      const b = await adapter.consumer({ group, model: 'CLUSTERING', instanceName: 'b', consumeFrom: { from: 'first' } });
      await a.subscribe(topic, 'A || B');
      await b.subscribe(topic, 'A || B');
      await a.start();
      await b.start();
      const p = await adapter.producer({ group: `${ns}_pg` });
      const sent = [];
      for (let i = 0; i < 24; i++) sent.push(await p.send({ id: `m${i}`, topic, tags: ['A', 'B', 'C'][i % 3]!, keys: [`k${i}`], body: `b${i}` }));
      t.ok(sent.every((s) => s.status === 'SEND_OK'), 'all SEND_OK');
      t.same(new Set(sent.map((s) => s.queueId)).size, 4, 'round robin over 4 queues');
      const wanted = sent.filter((_, i) => i % 3 !== 2).map((s) => s.id).sort();
      const ra: ReceivedMessage[] = [], rb: ReceivedMessage[] = [];
      for (let end = Date.now() + 10_000; ra.length + rb.length < 16 && Date.now() < end;) {
        const [x, y] = await Promise.all([receiveN(a, 16, 200), receiveN(b, 16, 200)]);
        ra.push(...x); rb.push(...y);
      }
      const all = [...ra, ...rb].map((m) => m.id).sort();
      t.same(all, wanted, 'tag C filtered out, each A/B message once across the group');
      t.ok(ra.length > 0 && rb.length > 0, `both members got messages (${ra.length} + ${rb.length})`);
      t.same(new Set(ra.map((m) => m.queueId)).size + new Set(rb.map((m) => m.queueId)).size, 4, 'queues split between members');

      const byId = await adapter.queryById(topic, sent[0]!.msgId);
      t.equal(byId?.id, 'm0', 'query by msgId');
      let byKey: ReceivedMessage[] = [];
      for (let i = 0; i < 30 && byKey.length === 0; i++) { byKey = await adapter.queryByKey(topic, 'k5'); if (!byKey.length) await new Promise((r) => setTimeout(r, 100)); }
      t.same(byKey.map((m) => m.id), ['m5'], 'query by key');

      await a.shutdown();
      await b.shutdown();
      await p.send({ id: 'late', topic, tags: 'A' });
      const c = await adapter.consumer({ group, model: 'CLUSTERING', instanceName: 'c', consumeFrom: { from: 'first' } });
      await c.subscribe(topic, 'A || B');
      await c.start();
      t.same((await receiveN(c, 1, 8000)).map((m) => m.id), ['late'], 'new member resumes at the stored offsets');
      await c.shutdown();
      await p.close();
    });

    await t.test('broadcasting: every instance gets every message', async (t) => {
      const topic = `${ns}_b`;
      await adapter.createTopic(topic, { queues: 2 });
      const group = `${ns}_g2`;
      const cs = await Promise.all(['x', 'y'].map((n) => adapter.consumer({ group, model: 'BROADCASTING', instanceName: n, consumeFrom: { from: 'first' } })));
      for (const c of cs) { await c.subscribe(topic, '*'); await c.start(); }
      const p = await adapter.producer({ group: `${ns}_pg2` });
      for (let i = 0; i < 6; i++) await p.send({ id: `b${i}`, topic });
      const got = await Promise.all(cs.map((c) => receiveN(c, 6, 8000)));
      for (const g of got) t.same(g.map((m) => m.id).sort(), ['b0', 'b1', 'b2', 'b3', 'b4', 'b5']);
      for (const c of cs) await c.shutdown();
      await p.close();
    });

    await t.test('RECONSUME_LATER comes back with reconsumeTimes + 1', async (t) => {
      const topic = `${ns}_c`;
      await adapter.createTopic(topic, { queues: 1 });
      const c = await adapter.consumer({ group: `${ns}_g3`, model: 'CLUSTERING', instanceName: 'r', consumeFrom: { from: 'first' } });
      await c.subscribe(topic, '*');
      await c.start();
      const p = await adapter.producer({ group: `${ns}_pg3` });
      await p.send({ id: 'retry-me', topic, tags: 'T' });
      const [first] = await receiveN(c, 1, 8000, false);
      t.equal(first?.reconsumeTimes, 0);
      await c.settle(first!, 'RECONSUME_LATER');
      const [second] = await receiveN(c, 1, 15_000, false);
      t.equal(second?.id, 'retry-me');
      t.equal(second?.reconsumeTimes, 1);
      t.equal(second?.topic, topic, 'original topic reported');
      await c.settle(second!, 'CONSUME_SUCCESS');
      await c.shutdown();
      await p.close();
    });
  });
}
