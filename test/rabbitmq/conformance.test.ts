/**
 * The RabbitMQ-model suites (conformance/suites/rabbitmq + cross) against the built-in engine,
 * one subtest per check: every check must pass (skips show as skips, with the runner's reason).
 */
import t from 'tap';
import { resolveAdapter } from '../../conformance/adapter-loader';
import { runConformance } from '../../conformance/runner';

t.test('every rabbitmq check passes on the built-in engine', async (t) => {
  const seed = Number(process.env.MQLAB_SEED ?? 0) || (Date.now() % 1_000_000) + 1;
  t.comment(`seed ${seed} (rerun: mqlab conform --model rabbitmq --adapter builtin --seed ${seed})`);
  const run = await runConformance({ model: 'rabbitmq', adapter: resolveAdapter('rabbitmq', 'builtin'), seed, long: false, threads: 1 });
  t.ok(run.results.length >= 20, `${run.results.length} checks ran`);
  for (const r of run.results) {
    if (r.status === 'skip') {
      await t.test(r.name, { skip: r.reason ?? 'skipped by the runner' }, async () => undefined);
      continue;
    }
    await t.test(r.name, async (st) => {
      const why = [...r.failures, ...r.anomalies.map((a) => `${a.anomaly} x${a.count}: ${a.examples[0]?.note ?? ''}`)][0] ?? r.reason ?? '';
      st.equal(r.status, 'pass', r.status === 'pass' ? `${r.name} (${r.ops} ops)` : why);
      if (r.historyFile) st.comment(`history: ${r.historyFile}`);
    });
  }
});
