/**
 * The gate's false-alarm and detection rates from real CLI runs, not resampling: each trial
 * records a fresh baseline, gates an unchanged run against it and a run with the deliberate
 * slowdown (MQLAB_BENCH_THROTTLE, exactly 0.8×), all through `main()` of the bench CLI.
 *
 *   npx tsx bench/gate/real-rates.ts [--trials 20] [--runs 10] [--filter REGEX] [--selector core]
 *
 * Default: the storage-core id core.appendBatch.100B in quick mode (about 3 s a trial).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../cli';
import { THROTTLE_ENV } from './throttle';

async function quiet(argv: string[], throttle?: number): Promise<number> {
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  if (throttle) process.env[THROTTLE_ENV] = String(throttle);
  try {
    return await main(argv);
  } finally {
    delete process.env[THROTTLE_ENV];
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}

export interface RealRates {
  trials: number;
  falseAlarms: number;
  caught: number;
  errors: number;
  loadBefore: number[];
  loadAfter: number[];
}

export async function realRates(trials: number, args: string[], log: (s: string) => void): Promise<RealRates> {
  const dir = mkdtempSync(join(tmpdir(), 'mqlab-gate-rates-'));
  const out: RealRates = { trials, falseAlarms: 0, caught: 0, errors: 0, loadBefore: loadavg(), loadAfter: [] };
  try {
    await quiet([...args, '--out', dir]); // warm-up: the first run of a process is not a baseline's alone
    for (let i = 0; i < trials; i++) {
      const base = join(dir, `base-${i}.json`);
      if ((await quiet([...args, '--out', dir, '--json', base])) !== 0) {
        out.errors++;
        continue;
      }
      const gate = [...args, '--out', dir, '--gate', base];
      const same = await quiet(gate);
      const slow = await quiet(gate, 0.2);
      if (same === 1) out.falseAlarms++;
      if (slow === 1) out.caught++;
      if ((same !== 0 && same !== 1) || (slow !== 0 && slow !== 1)) out.errors++;
      log(`trial ${i + 1}/${trials}: unchanged ${same === 0 ? 'pass' : same === 1 ? 'FALSE ALARM' : `exit ${same}`}, 0.8x ${slow === 1 ? 'caught' : slow === 0 ? 'MISSED' : `exit ${slow}`} (load ${loadavg()[0]!.toFixed(1)})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  out.loadAfter = loadavg();
  return out;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const opt = (name: string, dflt: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1]! : dflt;
  };
  const trials = Number(opt('--trials', '20'));
  const args = ['quick', opt('--selector', 'core'), '--filter', opt('--filter', '^core\\.appendBatch\\.100B$'), '--runs', opt('--runs', '10'), '--plain'];
  realRates(trials, args, (s) => process.stderr.write(`${s}\n`)).then((r) => {
    const pct = (x: number) => `${((100 * x) / Math.max(1, r.trials - r.errors)).toFixed(0)}%`;
    process.stdout.write(`npm run bench -- ${args.join(' ')}: ${r.trials} trials, load average ${r.loadBefore.map((x) => x.toFixed(1)).join(' ')} -> ${r.loadAfter.map((x) => x.toFixed(1)).join(' ')}\n`);
    process.stdout.write(`false alarms (unchanged): ${r.falseAlarms}/${r.trials - r.errors} (${pct(r.falseAlarms)}); caught (0.8x): ${r.caught}/${r.trials - r.errors} (${pct(r.caught)}); errors ${r.errors}\n`);
  });
}
