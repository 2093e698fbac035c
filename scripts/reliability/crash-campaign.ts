/**
 * Crash campaign: SIGKILL a child at random moments while it appends to the storage core (each
 * flush policy) or drives a model engine, reopen, and check nothing confirmed was lost or damaged.
 *
 *   npx tsx scripts/reliability/crash-campaign.ts --trials 1000            # per policy and per engine
 *   npx tsx scripts/reliability/crash-campaign.ts --trials 50 --only core --json out.json
 * Flags: --trials N (default 30), --only core|kafka|rabbitmq|rocketmq (repeatable, default all),
 *        --max-delay MS (kill delay after ready, default 150 core / 300 engines), --json FILE.
 * Exit status 1 if any confirmed record was lost, any corrupt record was returned, or an engine
 * invariant broke.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCoreCrashTrials, type CoreCrashStats } from './core-crash-trials';
import { runEngineCrashTrials, type EngineCrashStats, type EngineName } from './engine-crash-trials';

interface Args {
  trials: number;
  only: string[];
  maxDelayMs: number | undefined;
  json: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { trials: 30, only: [], maxDelayMs: undefined, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--trials') a.trials = Number(value);
    else if (flag === '--only') a.only.push(value!);
    else if (flag === '--max-delay') a.maxDelayMs = Number(value);
    else if (flag === '--json') a.json = value;
    else throw new Error(`unknown flag ${flag}`);
    i++;
  }
  if (!Number.isInteger(a.trials) || a.trials < 1) throw new Error('--trials must be a positive integer');
  return a;
}

export interface CrashCampaignResult {
  core: CoreCrashStats[];
  engines: EngineCrashStats[];
  seconds: number;
}

export async function runCrashCampaign(a: Args, log: (line: string) => void = () => undefined): Promise<CrashCampaignResult> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-crash-campaign-'));
  const t0 = Date.now();
  const wants = (x: string) => a.only.length === 0 || a.only.includes(x);
  const result: CrashCampaignResult = { core: [], engines: [], seconds: 0 };
  try {
    if (wants('core')) {
      for (const policy of ['none', 'async', 'sync'] as const) {
        const s = await runCoreCrashTrials({ policy, trials: a.trials, root, ...(a.maxDelayMs !== undefined ? { maxDelayMs: a.maxDelayMs } : {}) });
        result.core.push(s);
        log(`core/${policy}: ${s.trials} kills (${s.killedBeforeReady} during open), ${s.confirmed} confirmed (${s.confirmedDurable} durable), lost ${s.lost}, corrupt returned ${s.corruptReturned}, corrupt reported ${s.corruptReported}, out of order ${s.outOfOrder}, torn bytes cut ${s.truncatedBytes}, child failures ${s.childFailures}`);
        for (const p of s.problems.slice(0, 5)) log(`  ${p}`);
      }
    }
    for (const engine of ['kafka', 'rabbitmq', 'rocketmq'] as EngineName[]) {
      if (!wants(engine)) continue;
      const s = await runEngineCrashTrials({ engine, trials: a.trials, root, ...(a.maxDelayMs !== undefined ? { maxDelayMs: a.maxDelayMs } : {}) });
      result.engines.push(s);
      log(`${engine}: ${s.trials} kills (${s.killedBeforeReady} during open), ${s.confirmed} confirmed, ${s.offsetsConfirmed} offsets confirmed, lost ${s.lost}, corrupt ${s.corrupt}, violations ${s.violations}, redelivered flag missing ${s.redeliveredFlagMissing}, child failures ${s.childFailures}`);
      for (const p of s.problems.slice(0, 5)) log(`  ${p}`);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  result.seconds = (Date.now() - t0) / 1000;
  return result;
}

export function campaignFailed(r: CrashCampaignResult): boolean {
  return r.core.some((s) => s.lost + s.corruptReturned + s.corruptReported + s.outOfOrder + s.childFailures > 0) ||
    r.engines.some((s) => s.lost + s.corrupt + s.violations + s.childFailures > 0);
}

if (require.main === module) {
  const args = parseArgs(process.argv.slice(2));
  runCrashCampaign(args, (line) => console.log(line)).then((r) => {
    console.log(`crash campaign: ${r.core.reduce((n, s) => n + s.trials, 0) + r.engines.reduce((n, s) => n + s.trials, 0)} kills in ${r.seconds.toFixed(0)} s`);
    if (args.json) fs.writeFileSync(args.json, JSON.stringify(r, null, 2));
    process.exitCode = campaignFailed(r) ? 1 : 0;
  }, (e: unknown) => {
    console.error(e);
    process.exitCode = 2;
  });
}
