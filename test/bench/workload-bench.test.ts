import t from 'tap';
import { join } from 'node:path';
import { benchWorkload, engineDriver, runCalibration } from '../../bench/drivers/workload-bench';
import { createWorkloadPool, runWorkload } from '../../bench/drivers/run-workload';
import type { Workload } from '../../bench/drivers/driver';

function workload(over: Partial<Workload> = {}): Workload {
  return {
    name: 'wb', model: 'noop', topics: 1, partitionsPerTopic: 1, messageSize: 100, producersPerTopic: 1, subscriptionsPerTopic: 1,
    consumerPerSubscription: 1, producerRate: 0, keyDistributor: 'NO_KEY', testDurationMinutes: 1, warmupDurationMinutes: 0, ...over,
  };
}

t.test('run calibration: index x CPU share, capped at one core', async (t) => {
  t.equal(runCalibration(200, { cpuSec: 0.5, wallSec: 2 }), 50, 'a quarter of a core');
  t.equal(runCalibration(200, { cpuSec: 3, wallSec: 2 }), 200, 'more than one core counts as one');
  t.equal(runCalibration(200, { cpuSec: undefined, wallSec: 2 }), 200, 'no thread CPU time: the index alone');
});

t.test('engine drivers: Kafka segments shrink with the partition count', async (t) => {
  const mib = 1024 * 1024;
  t.same(engineDriver(workload({ model: 'kafka', partitionsPerTopic: 1 })), { module: 'bench/drivers/kafka-engine.ts', options: { segmentBytes: 64 * mib } });
  t.equal(engineDriver(workload({ model: 'kafka', partitionsPerTopic: 16 })).options!.segmentBytes, 16 * mib);
  t.equal(engineDriver(workload({ model: 'kafka', partitionsPerTopic: 100 })).options!.segmentBytes, 4 * mib);
  t.same(engineDriver(workload({ model: 'rocketmq' })), { module: 'bench/drivers/rocketmq-engine.ts' });
});

t.test('runs become one result with per-run samples and calibration', async (t) => {
  const out = await benchWorkload(workload(), { runs: 3, durationSec: 0.4, warmupSec: 0.1, driver: { module: 'bench/drivers/noop-engine.ts' } });
  t.ok(out);
  const r = out!.result;
  t.equal(r.id, 'workload.wb');
  t.equal(r.runs, 3);
  t.equal(r.samples!.length, 3);
  t.equal(r.calibration!.length, 3);
  t.ok(r.min <= r.opsPerSec && r.opsPerSec <= r.max);
  t.equal(r.bytesPerSec, r.opsPerSec * 100);
  t.ok(r.p50Us! > 0 && r.p999Us! >= r.p99Us!);
  t.equal(r.extra!.model, 'noop');
});

t.test('at full speed the backlog stays bounded by backlogCap', async (t) => {
  // The channel driver queues without limit; with a cap the producer waits for the consumer.
  const spec = { module: join(__dirname, '..', 'fixtures', 'bench', 'channel-driver.ts') };
  const pool = createWorkloadPool(workload());
  t.teardown(() => pool.destroy());
  // Backlog growth per sample (rate difference times the sample's length): the last sample of a
  // run can be a few tens of ms long, and a rate over such a sliver magnifies a backlog of
  // normal size into thousands per second, which made this check flaky under load.
  let worst = 0;
  let prevT = 0;
  const r = await runWorkload(spec, workload({ messageSize: 16 }), {
    pool, durationSec: 1.2, warmupSec: 0, backlogCap: 200,
    onSecond: (s) => {
      const dt = Math.max(0.1, s.t - prevT);
      prevT = s.t;
      worst = Math.max(worst, (s.publishRate - s.consumeRate) * dt);
    },
  });
  t.ok(r.sent > 0);
  t.equal(r.extra.undelivered, undefined, 'everything delivered after the drain');
  // Without the cap this driver's publish rate runs tens of thousands per second ahead.
  t.ok(worst < 5000, `publish never ran far ahead of consume (backlog grew by at most ${Math.round(worst)} in a sample)`);
});
