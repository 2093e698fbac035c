import t from 'tap';
import { runWorkload } from '../../bench/drivers/run-workload';
import type { Workload } from '../../bench/drivers/driver';
import { benchWorkload } from '../../bench/drivers/workload-bench';

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

t.test('benchWorkload with a baseline runs the two workloads in turn and summarises both', async (t) => {
  const fixedRate: Workload = { ...workload, name: 'kafka-driver-baseline-test', partitionsPerTopic: 1, subscriptionsPerTopic: 1, keyDistributor: 'NO_KEY', producerRate: 20_000, messageCount: undefined };
  const out = await benchWorkload(fixedRate, { runs: 2, durationSec: 0.6, warmupSec: 0.1, baseline: { workload: { ...fixedRate, model: 'noop', name: 'kafka-driver-baseline-noop' } } });
  t.ok(out, 'an outcome');
  t.equal(out!.result.id, 'workload.kafka-driver-baseline-test');
  t.equal(out!.result.runs, 2);
  t.equal(out!.result.extra!.model, 'kafka');
  t.ok(out!.baseline, 'the baseline outcome');
  t.equal(out!.baseline!.result.id, 'workload.kafka-driver-baseline-noop');
  t.equal(out!.baseline!.result.runs, 2, 'as many baseline runs');
  t.equal(out!.baseline!.result.extra!.model, 'noop');
  for (const r of [out!.result, out!.baseline!.result]) t.ok(r.p50Us! > 0 && r.p99Us! >= r.p50Us!, `${r.id}: latency recorded`);
});
