import t from 'tap';
import { runWorkload } from '../../bench/drivers/run-workload';
import type { Workload } from '../../bench/drivers/driver';

const workload: Workload = {
  name: 'kafka-driver-test',
  model: 'kafka',
  topics: 1,
  partitionsPerTopic: 3,
  messageSize: 64,
  producersPerTopic: 1,
  subscriptionsPerTopic: 2,
  consumerPerSubscription: 1,
  producerRate: 5000,
  keyDistributor: 'KEY_ROUND_ROBIN',
  testDurationMinutes: 1,
  messageCount: 1000,
  warmupDurationMinutes: 0,
  acks: 1,
};

// The RPC path is exercised by test/kafka/worker.test.ts; here the driver's default (direct) path,
// with keys (the general send) and without (the fixed-size path the kafka.e2e.100B id takes).
for (const keys of ['KEY_ROUND_ROBIN', 'NO_KEY'] as const) {
  t.test(`kafka bench driver (direct path, ${keys}) delivers every message to every subscription`, async (t) => {
    const r = await runWorkload({ module: 'bench/drivers/kafka-engine.ts', options: { path: 'direct' } }, { ...workload, keyDistributor: keys }, { durationSec: 10, warmupSec: 0, drainTimeoutMs: 10_000 });
    t.equal(r.sent, 1000, 'the quota was sent');
    t.equal(r.received, 2000, 'two subscriptions each got all of it');
    t.equal(r.extra.undelivered, undefined);
    t.ok(r.latency && r.latency.count > 0, 'latency recorded');
  });
}
