/**
 * Storage fault campaign: many torn-tail and bit-flip trials on copies of reference logs, and
 * disk-full trials on a small tmpfs (skipped with the reason when it cannot be mounted). Prints
 * the figures for docs/reliability.md.
 *   npx tsx scripts/reliability/fault-campaign.ts --trials 500 [--json FILE]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { diskFullTrial, mountTmpfs } from './disk-full';
import { flipTrial, tornTrial, writeReferenceLog, type FlipRegion } from './storage-faults';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

export interface FaultFigures {
  flips: Record<string, { trials: number; detectedCrc: number; detectedNotRecord: number; cutAsTail: number; recordsCut: number; silent: number; openRefused: number }>;
  torn: Record<string, { trials: number; keptAsExpected: number; silent: number; reportedCorrupt: number; resumed: number }>;
  diskFull: { trials: number; typed: number; intact: number; resumed: number; skipped?: string };
}

export function runFaultCampaign(trials: number, seed: number): FaultFigures {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mqlab-fault-campaign-'));
  const figures: FaultFigures = { flips: {}, torn: {}, diskFull: { trials: 0, typed: 0, intact: 0, resumed: 0 } };
  const r = rng(seed);
  try {
    for (const flush of ['none', 'sync'] as const) {
      const ref = writeReferenceLog(path.join(root, `ref-${flush}`), 400, 16384, flush);
      for (let i = 0; i < trials; i++) {
        const x = flipTrial(ref, path.join(root, 'work'), r);
        const key = `${flush}/${x.region as FlipRegion}/${x.activeSegment ? 'active' : 'sealed'}`;
        const f = (figures.flips[key] ??= { trials: 0, detectedCrc: 0, detectedNotRecord: 0, cutAsTail: 0, recordsCut: 0, silent: 0, openRefused: 0 });
        f.trials++;
        f.detectedCrc += x.outcome.detectedCrc;
        f.detectedNotRecord += x.outcome.detectedNotRecord;
        if (x.outcome.cut > 0) f.cutAsTail++;
        f.recordsCut += x.outcome.cut;
        f.silent += x.outcome.silent + x.outcome.scanSilent;
        if (x.outcome.openError) f.openRefused++;
      }
    }
    const ref = writeReferenceLog(path.join(root, 'ref-torn'), 400, 16384, 'none');
    for (const kind of ['cut', 'zero'] as const) {
      const f = (figures.torn[kind] = { trials: 0, keptAsExpected: 0, silent: 0, reportedCorrupt: 0, resumed: 0 });
      for (let i = 0; i < trials; i++) {
        const x = tornTrial(ref, path.join(root, 'work'), kind, r);
        f.trials++;
        if (x.outcome.intact === x.expectedKept && x.outcome.intact + x.outcome.cut === ref.records.length) f.keptAsExpected++;
        f.silent += x.outcome.silent + x.outcome.scanSilent;
        f.reportedCorrupt += x.outcome.recoveryCorrupt.length;
        if (x.resumed) f.resumed++;
      }
    }
    const diskTrials = Math.max(3, Math.ceil(trials / 50));
    for (let i = 0; i < diskTrials; i++) {
      const m = mountTmpfs(4 * 1024 * 1024);
      if (typeof m === 'string') {
        figures.diskFull.skipped = m;
        break;
      }
      try {
        const d = diskFullTrial(m.dir, 256 * 1024);
        figures.diskFull.trials++;
        if (d.errorIsTyped && d.errorCode === 'ERR_NO_SPACE') figures.diskFull.typed++;
        if (d.intactAfterFull === d.appendedBeforeFull) figures.diskFull.intact++;
        if (d.intactAfterReopen === d.appendedBeforeFull + d.resumedAppends) figures.diskFull.resumed++;
      } finally {
        m.unmount();
      }
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return figures;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const get = (f: string) => (argv.indexOf(f) >= 0 ? argv[argv.indexOf(f) + 1] : undefined);
  const trials = Number(get('--trials') ?? 200);
  const seed = Number(get('--seed') ?? 1);
  const t0 = Date.now();
  const f = runFaultCampaign(trials, seed);
  let flips = 0, silent = 0;
  for (const [k, v] of Object.entries(f.flips).sort()) {
    flips += v.trials;
    silent += v.silent;
    console.log(`bit flip ${k}: ${v.trials} trials, ERR_CORRUPT at the record ${v.detectedCrc}, not-a-record at the record ${v.detectedNotRecord}, cut as torn tail ${v.cutAsTail} (${v.recordsCut} records lost), returned damaged ${v.silent}, open refused ${v.openRefused}`);
  }
  for (const [k, v] of Object.entries(f.torn)) {
    silent += v.silent;
    console.log(`torn tail (${k}): ${v.trials} trials, kept exactly the whole frames before the damage ${v.keptAsExpected}, returned damaged ${v.silent}, reported corrupt ${v.reportedCorrupt}, appends resumed ${v.resumed}`);
  }
  const d = f.diskFull;
  console.log(d.skipped ? `disk full: skipped (${d.skipped})` : `disk full (4 MiB tmpfs): ${d.trials} trials, typed ERR_NO_SPACE ${d.typed}, earlier data intact ${d.intact}, appends resumed and survived reopen ${d.resumed}`);
  console.log(`fault campaign: ${flips} bit flips, ${Object.values(f.torn).reduce((n, v) => n + v.trials, 0)} torn tails, ${d.trials} disk-full trials, ${silent} damaged records returned, in ${((Date.now() - t0) / 1000).toFixed(0)} s (seed ${seed})`);
  if (get('--json')) fs.writeFileSync(get('--json')!, JSON.stringify(f, null, 2));
  process.exitCode = silent > 0 ? 1 : 0;
}
