import t from 'tap';
import { join } from 'node:path';
import { createWorkloadPool, runWorkload } from '../../bench/drivers/run-workload';
import type { Workload } from '../../bench/drivers/driver';

const NOOP = { module: 'bench/drivers/noop-engine.ts' };
const CHANNEL = { module: join(__dirname, '..', 'fixtures', 'bench', 'channel-driver.ts') };

function workload(over: Partial<Workload> = {}): Workload {
  return {
    name: 'test-noop', model: 'noop', topics: 1, partitionsPerTopic: 1, messageSize: 100, producersPerTopic: 1, subscriptionsPerTopic: 1,
    consumerPerSubscription: 1, producerRate: 0, keyDistributor: 'NO_KEY', testDurationMinutes: 1, warmupDurationMinutes: 0, ...over,
  };
}

// One pool of worker threads for every run in this file: the harness and driver modules load
// once per thread instead of once per run.
const pool = createWorkloadPool(workload({ producersPerTopic: 2, subscriptionsPerTopic: 2 }));
t.teardown(() => pool.destroy());

t.test('no-op engine at full speed: everything sent is delivered, latency is sampled', async (t) => {
  const r = await runWorkload(NOOP, workload(), { pool, durationSec: 0.6, warmupSec: 0 });
  t.equal(r.partial, false);
  t.ok(r.sent > 0, `sent ${r.sent}`);
  t.equal(r.received, r.sent, 'no message lost or duplicated by the harness');
  t.ok(r.e2eRate > 0 && r.publishRate > 0);
  t.equal(r.sampleEvery, 16);
  t.ok(r.latency && r.latency.count > 0 && r.latency.p50Us <= r.latency.p99Us && r.latency.p99Us <= r.latency.maxUs, 'ordered percentiles');
  t.ok(r.histogram && r.histogram.length > 0);
});

t.test('a message count ends the run; each subscription gets every message', async (t) => {
  const r = await runWorkload(NOOP, workload({ messageCount: 40_000, producersPerTopic: 2, subscriptionsPerTopic: 2, consumerPerSubscription: 1 }), { pool, durationSec: 30 });
  t.equal(r.sent, 40_000);
  t.equal(r.fanout, 2);
  t.equal(r.received, 80_000);
});

t.test('fixed rate: the schedule is kept and every message gets a latency from its intended send time', async (t) => {
  const r = await runWorkload(NOOP, workload({ producerRate: 20_000 }), { pool, durationSec: 1, warmupSec: 0 });
  t.ok(r.sent >= 16_000 && r.sent <= 20_500, `sent ${r.sent} at 20 k/s for 1 s`);
  t.equal(r.received, r.sent);
  t.equal(r.sampleEvery, 1);
  t.equal(r.latency?.count, r.received, 'every delivered message has a latency');
});

t.test('per-message drivers (send + onMessage, no batches, no shared memory) work', async (t) => {
  const r = await runWorkload(CHANNEL, workload({ producerRate: 5_000, messageSize: 64 }), { pool, durationSec: 0.8, warmupSec: 0 });
  t.ok(r.sent > 2000, `sent ${r.sent}`);
  t.equal(r.received, r.sent);
  t.equal(r.latency?.count, r.received);
  const small = await runWorkload(CHANNEL, workload({ messageCount: 300, messageSize: 4 }), { pool, durationSec: 10 });
  t.equal(small.received, 300, 'payloads shorter than a stamp still count');
  t.equal(small.latency, undefined, 'but carry no latency');
});

t.test('a failing driver is a typed error naming the cause, not a hang', async (t) => {
  const failing = { module: CHANNEL.module, options: { failIn: 'createProducer' } };
  await t.rejects(runWorkload(failing, workload(), { pool, durationSec: 5 }), { code: 'ERR_BENCH', message: /producer refused on purpose/ });
  await t.rejects(runWorkload({ module: 'bench/drivers/no-such-driver.ts' }, workload(), { pool, durationSec: 1 }), { code: 'ERR_DRIVER', message: /no-such-driver\.ts not found/ });
});

t.test('abort stops the workers at once and returns what was measured, marked partial', async (t) => {
  const ac = new AbortController();
  let started = 0;
  // Interrupt one second into the measurement (as Ctrl-C would).
  const r = await runWorkload(NOOP, workload(), {
    pool, durationSec: 60, warmupSec: 0, signal: ac.signal,
    onSecond: () => {
      started = Date.now();
      ac.abort();
    },
  });
  t.equal(r.partial, true);
  t.ok(started > 0 && Date.now() - started < 10_000, `returned ${Date.now() - started} ms after the interruption`);
  t.ok(r.sent > 0 && r.received > 0, 'figures up to the interruption');
});

t.test('the no-op slowdown option is validated', async (t) => {
  await t.rejects(runWorkload({ module: NOOP.module, options: { slowdown: 2 } }, workload(), { pool, durationSec: 1 }), { message: /slowdown must be a fraction/ });
});
