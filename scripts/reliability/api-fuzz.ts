/**
 * Runs the hostile-argument property fuzz (api-fuzz-child.ts) in a child process and reports:
 * calls made, typed errors, untyped throws, and how the process ended (a segfault or abort is a
 * crash, whatever the child printed).
 *   npx tsx scripts/reliability/api-fuzz.ts --runs 2000 [--seed 42] [--only "native log,kafka"]
 */
import * as path from 'node:path';
import { collectLines, spawnTs, waitExit } from './spawn-ts';

export interface ApiFuzzSummary {
  seed: number;
  runs: number;
  calls: number;
  returned: number;
  typedErrors: number;
  codes: Record<string, number>;
  untyped: string[];
  /** All untyped throws (`untyped` keeps the first 40 as examples). */
  untypedCount: number;
  pendingAfterTimeout: number;
  sections: string[];
  fatal?: string;
}

export interface ApiFuzzOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  summary: ApiFuzzSummary | null;
  stderr: string;
}

export const CORE_SECTIONS = ['native log', 'native index file', 'native misc', 'wrappers', 'close while waiting', 'close while a worker appends'];
export const ENGINE_SECTIONS = ['kafka', 'rabbitmq', 'rocketmq'];

export async function runApiFuzz(runs: number, seed: number, only?: readonly string[], childFile = path.join(__dirname, 'api-fuzz-child.ts')): Promise<ApiFuzzOutcome> {
  const env = { ...process.env, ...(only ? { MQLAB_FUZZ_ONLY: only.join(',') } : {}) };
  const child = spawnTs(childFile, [String(runs), String(seed)], ['ignore', 'pipe', 'pipe'], env);
  const out = collectLines(child);
  const exit = await waitExit(child);
  const last = out.lines.filter((l) => l.startsWith('{')).pop();
  return { exitCode: exit.code, signal: exit.signal, summary: last ? (JSON.parse(last) as ApiFuzzSummary) : null, stderr: out.stderr() };
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const get = (f: string) => (argv.indexOf(f) >= 0 ? argv[argv.indexOf(f) + 1] : undefined);
  const runs = Number(get('--runs') ?? 500);
  const seed = Number(get('--seed') ?? Date.now() % 1e9);
  const only = get('--only')?.split(',');
  runApiFuzz(runs, seed, only).then((r) => {
    const s = r.summary;
    console.log(`api fuzz: exit ${r.exitCode ?? r.signal}, seed ${seed}, ${runs} runs per property`);
    if (s) {
      console.log(`  ${s.calls} calls, ${s.returned} returned, ${s.typedErrors} typed errors, ${s.untypedCount} untyped throws, ${s.pendingAfterTimeout} left pending (hostile timeouts)`);
      console.log(`  sections: ${s.sections.join(', ')}`);
      console.log(`  codes: ${Object.entries(s.codes).map(([c, n]) => `${c} ${n}`).join(', ')}`);
      for (const u of s.untyped) console.log(`  UNTYPED ${u}`);
      if (s.fatal) console.log(`  FATAL ${s.fatal}`);
    } else console.log(r.stderr.slice(0, 3000));
    process.exitCode = r.exitCode === 0 && s && s.untypedCount === 0 ? 0 : 1;
  }, (e: unknown) => {
    console.error(e);
    process.exitCode = 2;
  });
}
