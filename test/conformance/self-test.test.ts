/**
 * Self-test of the harness: every faulty adapter (a correct in-memory adapter with one rule
 * broken) must make the cross-model suites fail naming the anomaly it causes, while the correct
 * adapters pass. Prints the kill rate (mutants killed / mutants), which docs/conformance.md reports.
 */
import * as path from 'node:path';
import t from 'tap';
import type { ModelName } from '../../conformance/adapters/common';
import { resolveAdapter } from '../../conformance/adapter-loader';
import type { AnomalyName } from '../../conformance/checker/anomalies';
import { runConformance, type RunResult } from '../../conformance/runner';

const CROSS = [path.join(__dirname, '..', '..', 'conformance', 'suites', 'cross')];
const SELF = path.join(__dirname, '..', '..', 'conformance', 'self-test');

const MUTANTS: { model: ModelName; fault: string; expect: AnomalyName }[] = [
  { model: 'kafka', fault: 'drop', expect: 'lost' },
  { model: 'kafka', fault: 'duplicate', expect: 'duplicate' },
  { model: 'kafka', fault: 'reorder', expect: 'reorder' },
  { model: 'kafka', fault: 'forget-commits', expect: 'duplicate' },
  { model: 'kafka', fault: 'lose-writes', expect: 'lost' },
  { model: 'rabbitmq', fault: 'drop', expect: 'lost' },
  { model: 'rabbitmq', fault: 'duplicate', expect: 'duplicate' },
  { model: 'rabbitmq', fault: 'never-redeliver', expect: 'missing-redelivery' },
  { model: 'rabbitmq', fault: 'ignore-limit', expect: 'redelivery-past-limit' },
  { model: 'rabbitmq', fault: 'deliver-unroutable', expect: 'unroutable-delivered' },
  { model: 'rabbitmq', fault: 'lose-on-crash', expect: 'missing-redelivery' },
  { model: 'rabbitmq', fault: 'reorder', expect: 'reorder' },
  { model: 'rocketmq', fault: 'drop', expect: 'lost' },
  { model: 'rocketmq', fault: 'duplicate', expect: 'duplicate' },
  { model: 'rocketmq', fault: 'cluster-as-broadcast', expect: 'cluster-double-delivery' },
  { model: 'rocketmq', fault: 'broadcast-as-cluster', expect: 'broadcast-member-missed' },
  { model: 'rocketmq', fault: 'ignore-tags', expect: 'tag-filter-leak' },
  { model: 'rocketmq', fault: 'never-retry', expect: 'missing-redelivery' },
  { model: 'rocketmq', fault: 'ignore-max-reconsume', expect: 'redelivery-past-limit' },
];

function run(model: ModelName, adapter: string, params?: Record<string, string>): Promise<RunResult> {
  return runConformance({
    model,
    adapter: resolveAdapter(model, adapter),
    seed: 20261125,
    long: false,
    threads: 0,
    suiteDirs: CROSS,
    scale: { messages: 60, idleMs: 80 },
    ...(params ? { params } : {}),
  });
}

t.test('the correct in-memory adapters pass every cross-model check', async (t) => {
  for (const model of ['kafka', 'rabbitmq', 'rocketmq'] as const) {
    const r = await run(model, 'memory');
    t.equal(r.counts.fail, 0, `${model}: ${r.results.filter((x) => x.status === 'fail').map((x) => `${x.name}: ${x.reason}`).join('; ')}`);
    t.ok(r.counts.pass >= 4, `${model}: ${r.counts.pass} checks passed`);
  }
});

t.test('each faulty adapter is killed, naming its anomaly', async (t) => {
  let killed = 0;
  for (const m of MUTANTS) {
    const r = await run(m.model, path.join(SELF, `faulty-${m.model}.ts`), { fault: m.fault });
    const named = r.results.some((x) => x.status === 'fail' && x.anomalies.some((a) => a.anomaly === m.expect && !a.allowed));
    t.ok(r.counts.fail > 0, `${m.model}/${m.fault} fails the suite`);
    t.ok(named, `${m.model}/${m.fault} is reported as ${m.expect}`);
    if (named) killed++;
  }
  t.comment(`kill rate: ${killed}/${MUTANTS.length} mutants (${((killed / MUTANTS.length) * 100).toFixed(0)}%)`);
  t.equal(killed, MUTANTS.length);
});
