/**
 * Concurrency stress through the conformance harness (scripts/reliability/stress.ts): producers
 * on worker threads, consumers crashing and rejoining, for each built-in engine; the conformance
 * checker must find no anomaly beyond the engine's stated guarantee.
 */
import t from 'tap';
import { runStress } from '../../scripts/reliability/stress';

for (const model of ['kafka', 'rabbitmq', 'rocketmq'] as const) {
  t.test(`${model}: worker producers, crashing consumers, checker verdict`, async (t) => {
    const s = await runStress(model, { messages: 60, threads: 1, seed: 20261125 });
    const r = s.result;
    t.equal(r.status, 'pass', `checker verdict under guarantee ${s.guarantee}: ${r.reason ?? 'no disallowed anomaly'}`);
    t.ok(r.ops > 200, `a real history was recorded (${r.ops} events)`);
    t.same(r.anomalies.filter((a) => !a.allowed).map((a) => a.anomaly), [], 'no disallowed anomaly');
    t.same(r.failures, [], 'no failed operation or assertion');
  });
}
