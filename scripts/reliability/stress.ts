/**
 * Concurrency stress against each built-in engine through the conformance harness: the checks in
 * stress-suites/<model>/ (worker-thread producers, consumers that crash and rejoin) record a
 * history, and the conformance checker judges it against the engine's stated guarantee.
 *   npx tsx scripts/reliability/stress.ts --messages 5000 --threads 4 [--model kafka] [--seed N]
 */
import * as path from 'node:path';
import type { ModelName } from '../../conformance/adapters/common';
import { resolveAdapter } from '../../conformance/adapter-loader';
import { runConformance, type CheckResult } from '../../conformance/runner';

export interface StressResult {
  model: ModelName;
  guarantee: string;
  result: CheckResult;
}

export async function runStress(model: ModelName, o: { messages: number; threads: number; seed: number; historyDir?: string }): Promise<StressResult> {
  const r = await runConformance({
    model,
    adapter: resolveAdapter(model, 'builtin'),
    seed: o.seed,
    long: false,
    threads: o.threads,
    suiteDirs: [path.join(__dirname, 'stress-suites', model)],
    scale: { messages: o.messages },
    ...(o.historyDir ? { historyDir: o.historyDir } : {}),
  });
  return { model, guarantee: r.adapter.guarantee, result: r.results[0]! };
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const get = (f: string) => (argv.indexOf(f) >= 0 ? argv[argv.indexOf(f) + 1] : undefined);
  const models = (get('--model')?.split(',') ?? ['kafka', 'rabbitmq', 'rocketmq']) as ModelName[];
  const messages = Number(get('--messages') ?? 2000);
  const threads = Number(get('--threads') ?? 4);
  const seed = Number(get('--seed') ?? 1 + (Date.now() % 1e6));
  (async () => {
    let failed = false;
    for (const model of models) {
      const t0 = Date.now();
      const s = await runStress(model, { messages, threads, seed });
      const r = s.result;
      console.log(`${model} (${s.guarantee}): ${r.status}, ${r.ops} history events, ${(Date.now() - t0) / 1000} s, seed ${r.seed}`);
      for (const a of r.anomalies) console.log(`  anomaly ${JSON.stringify(a).slice(0, 300)}`);
      for (const f of r.failures) console.log(`  failure ${f.slice(0, 500)}`);
      if (r.status !== 'pass') failed = true;
    }
    process.exitCode = failed ? 1 : 0;
  })().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 2;
  });
}
