/**
 * The deliberate slowdown the gate's tests use (bench/gate/throttle.ts): exact by construction.
 * Timing is driven by a fake clock here; real runs are in gate-e2e.test.ts.
 */
import t from 'tap';
import { Throttle, throttleFromEnv, parseFraction, MAX_CHUNK_NS } from '../../bench/gate/throttle';

/** A clock that moves only when told to, and by 100 ns per read while spinning. */
function fakeClock() {
  let now = 1_000_000_000;
  return {
    read: () => (now += 100),
    advance: (ns: number) => {
      now += ns;
    },
  };
}

t.test('proportional: after a chunk of d the thread spins d/4 (fraction 0.2), so work is 80% of its time', async (t) => {
  const c = fakeClock();
  const th = new Throttle(0.2, 'proportional', 5, c.read);
  th.checkpoint(); // first check-in: nothing owed yet
  t.equal(th.pausedNs, 0);
  let work = 0;
  for (let i = 0; i < 1000; i++) {
    const d = 10_000 + (i % 7) * 3_000; // chunks of 10-28 µs
    c.advance(d);
    work += d;
    th.checkpoint();
  }
  // Paused time = work / 4 within one clock step per chunk (spins end on the first read past due).
  const ratio = work / (work + th.pausedNs);
  t.ok(Math.abs(ratio - 0.8) < 0.005, `work share ${ratio.toFixed(4)} (want 0.8)`);
});

t.test('proportional: an idle wait longer than a chunk counts only up to the cap', async (t) => {
  const c = fakeClock();
  const th = new Throttle(0.2, 'proportional', 5, c.read);
  th.checkpoint();
  c.advance(1e9); // one second idle (waiting for "go")
  th.checkpoint();
  t.ok(th.pausedNs <= MAX_CHUNK_NS / 4 + 1000, `paused ${th.pausedNs} ns after a long idle wait`);
});

t.test('fraction 0 never pauses; duty cycle waits only in the last fraction of a period', async (t) => {
  const c = fakeClock();
  const none = new Throttle(0, 'proportional', 5, c.read);
  c.advance(1e6);
  none.checkpoint();
  none.checkpoint();
  t.equal(none.pausedNs, 0);
  const duty = new Throttle(0.2, 'duty-cycle', 5, c.read);
  t.equal(duty.waitAt(10e6 + 3.9e6), 0, 'inside the work part');
  t.equal(duty.waitAt(10e6 + 4.5e6), 0.5e6, 'inside the pause: wait to the period end');
});

t.test('the environment switch is validated', async (t) => {
  t.equal(throttleFromEnv({}), undefined);
  t.equal(throttleFromEnv({ MQLAB_BENCH_THROTTLE: '' }), undefined);
  t.equal(throttleFromEnv({ MQLAB_BENCH_THROTTLE: '0' }), undefined);
  t.same(throttleFromEnv({ MQLAB_BENCH_THROTTLE: '0.2' }), { fraction: 0.2 });
  const f = throttleFromEnv({ MQLAB_BENCH_THROTTLE: '0.25', MQLAB_BENCH_THROTTLE_FILTER: '^core\\.append' });
  t.equal(f?.fraction, 0.25);
  t.ok(f?.filter?.test('core.appendBatch.100B'));
  t.throws(() => throttleFromEnv({ MQLAB_BENCH_THROTTLE: 'fast' }), { code: 'ERR_INVALID_ARG', message: /MQLAB_BENCH_THROTTLE must be a fraction/ });
  t.throws(() => throttleFromEnv({ MQLAB_BENCH_THROTTLE: '0.2', MQLAB_BENCH_THROTTLE_FILTER: '(' }), { code: 'ERR_INVALID_ARG' });
  t.throws(() => parseFraction(1, 'x'), { code: 'ERR_INVALID_ARG' });
});

t.test('the throttling driver wraps a workload engine, keeps every message and says it was throttled', async (t) => {
  const { join } = await import('node:path');
  const { loadWorkload } = await import('../../bench/drivers/workload-loader');
  const { runWorkload } = await import('../../bench/drivers/run-workload');
  const { throttledSpec, createDriver } = await import('../../bench/gate/throttled-driver');
  const w = loadWorkload(join(__dirname, '..', '..', 'bench', 'workloads', 'noop-1-topic-1-partition-100b.yaml'));
  const r = await runWorkload(throttledSpec({ module: 'bench/drivers/noop-engine.ts' }, 0.2), { ...w, messageCount: 200_000 }, { durationSec: 20, warmupSec: 0 });
  t.equal(r.received, r.sent, 'every message delivered');
  t.ok(r.sent >= 200_000);
  t.equal(r.extra.throttle, 0.2);
  t.throws(() => createDriver({}), { code: 'ERR_INVALID_ARG', message: /throttleInner/ });
  t.throws(() => createDriver({ throttleInner: 'bench/drivers/noop-engine.ts', throttleFraction: 2 }), { code: 'ERR_INVALID_ARG' });
});
