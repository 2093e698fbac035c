/**
 * The bare two-thread latency probe (bench/drivers/bare-floor.ts, native/js-latency-probe.cc) and
 * the per-thread scheduling knobs. Counts and orderings only: latency figures depend on the machine.
 */
import t from 'tap';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { MqlabError } from '../../core/errors';
import { bareFloor, setThreadNice, setThreadTimerSlack, threadNice, threadTimerSlack } from '../../bench/drivers/bare-floor';
import { workerEntry } from '../../core/threads';

const linux = process.platform === 'linux';

t.test('bareFloor: every message due after warm-up is recorded once, percentiles are ordered', async (t) => {
  // 20 k/s for 50 ms of warm-up + 200 ms measured: 5000 sent, the last 4000 recorded.
  const r = await bareFloor({ rate: 20_000, durationMs: 200, warmupMs: 50 });
  t.equal(r.sent, 5000);
  t.equal(r.count, 4000);
  t.ok(r.p50Us > 0, `p50 ${r.p50Us} µs above 0`);
  t.ok(r.p50Us <= r.p99Us && r.p99Us <= r.p999Us && r.p999Us <= r.maxUs, `ordered: ${r.p50Us} ≤ ${r.p99Us} ≤ ${r.p999Us} ≤ ${r.maxUs}`);
  // The pacer sleeps between messages due 50 µs apart: many wake-ups, never more than one per 20 µs.
  t.ok(r.wakeups > 0 && r.wakeups <= 250 / 0.02, `wakeups ${r.wakeups}`);
  t.ok(r.lateWakeups <= r.wakeups);
  t.ok(r.consumerWakeups > 0);
  if (linux) t.ok(r.timerSlackNs > 0, `the pacing thread kept an inherited timer slack (${r.timerSlackNs} ns)`);
});

t.test('bareFloor: timerSlackNs applies to the probe threads only', { skip: linux ? false : 'timer slack is a Linux knob' }, async (t) => {
  const before = threadTimerSlack();
  const r = await bareFloor({ rate: 10_000, durationMs: 50, warmupMs: 0, timerSlackNs: 2000 });
  t.equal(r.timerSlackNs, 2000);
  t.equal(r.count, 500);
  t.equal(threadTimerSlack(), before, 'the calling thread is untouched');
});

t.test('bareFloor: a consumer that spins before sleeping still sees every message once', async (t) => {
  const r = await bareFloor({ rate: 10_000, durationMs: 100, warmupMs: 0, consumerSpinUs: 20 });
  t.equal(r.count, 1000);
  t.equal(r.sent, 1000);
});

t.test('bareFloor: with one lock shared by both threads (as V8\'s Atomics) every message is still seen once', async (t) => {
  const r = await bareFloor({ rate: 10_000, durationMs: 100, warmupMs: 0, sharedLock: 1 });
  t.equal(r.count, 1000);
  t.equal(r.sent, 1000);
  t.ok(r.p50Us <= r.p99Us && r.p99Us <= r.maxUs);
});

t.test('bareFloor: bad options are typed errors (rejected promises), nothing runs', async (t) => {
  const bad: unknown[] = [
    5,
    'x',
    { rate: 0 },
    { rate: -5 },
    { rate: 1.5 },
    { rate: '100' },
    { durationMs: 0 },
    { durationMs: Number.NaN },
    { warmupMs: -1 },
    { minSleepUs: -1 },
    { consumerWaitMs: 0 },
    { consumerSpinUs: 2e6 },
    { timerSlackNs: 0 },
    { timerSlackNs: -2 },
    { lateWakeUs: 0 },
    { sharedLock: 2 },
    { sharedLock: true },
    { rate: 1e7, durationMs: 600_000 },
  ];
  for (const b of bad) {
    const e = await (bareFloor as (o: unknown) => Promise<unknown>)(b).then(
      () => undefined,
      (x: unknown) => x,
    );
    t.ok(e instanceof MqlabError && e.code === 'ERR_INVALID_ARG', `${JSON.stringify(b)} → ERR_INVALID_ARG (got ${String(e)})`);
  }
  t.rejects((bareFloor as (o: unknown) => Promise<unknown>)(null), { code: 'ERR_INVALID_ARG' });
});

t.test('setThreadTimerSlack / threadTimerSlack on this thread', { skip: linux ? false : 'timer slack is a Linux knob' }, async (t) => {
  const before = threadTimerSlack();
  t.ok(before > 0, `slack ${before} ns`);
  t.equal(setThreadTimerSlack(1000), before, 'returns the previous slack');
  t.equal(threadTimerSlack(), 1000);
  setThreadTimerSlack(before);
  t.equal(threadTimerSlack(), before);
  for (const b of [0, -1, 1.5, '1000', undefined, 2e9]) {
    t.throws(() => (setThreadTimerSlack as (x: unknown) => number)(b), { code: 'ERR_INVALID_ARG' }, `slack ${String(b)}`);
  }
});

t.test('setThreadNice changes the calling thread only; a new thread inherits its creator\'s timer slack (checked in a worker)', { skip: linux ? false : 'per-thread nice and timer slack are Linux behaviours' }, async (t) => {
  const mainNice = threadNice();
  const { filename, argv } = workerEntry(require.resolve('../fixtures/bench/nice-worker.ts'));
  // kafka.e2e.100B relies on this: its worker threads get the slack the main thread has when they start.
  const mainSlack = setThreadTimerSlack(12_345);
  let w: Worker;
  try {
    w = new Worker(filename, { argv });
  } finally {
    setThreadTimerSlack(mainSlack);
  }
  const reply = await new Promise<{ before: number; ok: boolean; after: number; slack: number }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await w.terminate();
  t.equal(reply.slack, 12_345, 'the worker started with the slack its creator had');
  t.equal(reply.before, mainNice, 'a new thread starts with the process nice');
  t.ok(reply.ok, 'raising nice needs no privilege');
  t.equal(reply.after, Math.min(19, reply.before + 1));
  t.equal(threadNice(), mainNice, 'this thread is unchanged');
  for (const b of [20, -21, 1.5, 'x', undefined]) {
    t.throws(() => (setThreadNice as (x: unknown) => boolean)(b), { code: 'ERR_INVALID_ARG' }, `nice ${String(b)}`);
  }
});

t.test('fuzz: hostile options and thread knob values give a result or ERR_INVALID_ARG, never a crash', async (t) => {
  const hostile = fc.oneof(fc.anything(), fc.double(), fc.integer(), fc.bigInt(), fc.string(),
    fc.constantFrom(Number.NaN, Infinity, -Infinity, -1, -0, 0.5, 2 ** 53, 2 ** 31, 0xffffffff, null, undefined, true));
  // rate × durationMs stays small when both are valid numbers, so a valid draw runs for milliseconds.
  const mostly = (valid: fc.Arbitrary<unknown>) => fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: hostile.filter((v) => typeof v !== 'number'), weight: 1 });
  const small = (max: number) => mostly(fc.integer({ min: 1, max }));
  // Objects always carry small timings; no undefined or absent durationMs (the default 5 s probe).
  const options = fc.oneof(hostile.filter((v) => v !== undefined && (typeof v !== 'object' || v === null)), fc.record({
    rate: small(20_000), durationMs: small(20), warmupMs: small(5), minSleepUs: small(100), consumerWaitMs: small(5),
    consumerSpinUs: small(50), timerSlackNs: mostly(fc.constantFrom(-1, 1000)), lateWakeUs: small(500), sharedLock: mostly(fc.constantFrom(0, 1)),
  }, { requiredKeys: ['rate', 'durationMs', 'warmupMs', 'minSleepUs', 'consumerWaitMs', 'consumerSpinUs'] }));
  let ran = 0;
  await fc.assert(fc.asyncProperty(options, async (o) => {
    try {
      const r = await (bareFloor as (x: unknown) => Promise<{ count: number; p50Us: number; maxUs: number }>)(o);
      ran++;
      if (!(r.count >= 0 && (r.count === 0 || r.p50Us <= r.maxUs))) throw new Error(`bad result ${JSON.stringify(r)}`);
    } catch (e) {
      if (!(e instanceof MqlabError && e.code === 'ERR_INVALID_ARG')) throw e;
    }
  }), { numRuns: 80 });
  t.ok(ran > 0, `${ran} of 80 hostile option sets were valid and ran`);
  if (!linux) return;
  const slack = threadTimerSlack();
  const nice = threadNice();
  fc.assert(fc.property(fc.constantFrom('slack', 'nice'), hostile, (which, v) => {
    try {
      if (which === 'slack') setThreadTimerSlack(v as number);
      else setThreadNice(v as number);
    } catch (e) {
      if (!(e instanceof MqlabError && e.code === 'ERR_INVALID_ARG')) throw e;
    }
  }), { numRuns: 300 });
  setThreadTimerSlack(slack);
  setThreadNice(nice);
  t.equal(threadTimerSlack(), slack, 'timer slack restored');
});
